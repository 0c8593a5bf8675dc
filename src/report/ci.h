/* pipjail in CI (docs/ci.md): GitHub Actions workflow commands (::error
 * annotations at the requirement line a package came from, the step
 * summary), and the wiring of --sarif, --baseline and --write-baseline into
 * a run. */
#ifndef PIPJAIL_CI_H
#define PIPJAIL_CI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "decide/engine.h"
#include "report/origins.h"
#include "base/base.h"

/* GitHub workflow-command escaping (malloc'd).  Data (after "::"):
 * "%" -> %25, CR -> %0D, LF -> %0A.  Properties (file=, title=): the same,
 * and ":" -> %3A, "," -> %2C. */
char *ci_escape_data(const char *s);
char *ci_escape_property(const char *s);

/* ---- output ------------------------------------------------------------------- */

/* "::error file=F,line=L,title=pipjail RULE::MESSAGE" for each violation,
 * "::notice" for baselined ones, "::warning" for an incomplete trace. */
void ci_annotations_print(const struct engine *e, const struct origins *o, FILE *out);
/* The Markdown step summary. */
void ci_summary_print(const struct engine *e, const struct origins *o, FILE *out,
		      int exit_code);

/* ---- a run -------------------------------------------------------------------- */

struct ci_options {
	const char *sarif_path;           /* --sarif FILE */
	const char *baseline_path;        /* --baseline FILE */
	const char *write_baseline_path;  /* --write-baseline FILE */
	/* Open files with this user's rights; NULL: plain open (a caller that
	 * has given up its privileges, such as replay). */
	const struct jail_user *user;
	/* Live run: untrusted output follows (the jailed command's), so
	 * workflow commands are stopped until the end (::stop-commands::). */
	bool live;
};

struct ci_run;

/* Before anything runs: open the output files, read the baseline and
 * install it in the engine, and under GitHub Actions open the step summary
 * and stop workflow commands.  NULL and a message in err on a bad path or
 * a bad baseline. */
struct ci_run *ci_run_start(const struct ci_options *opts, struct engine *e, char *err,
			    size_t errlen);
/* After the verdict: annotations (stdout), step summary, SARIF, baseline.
 * argv and cwd are the jailed command's.  Problems are warned about. */
void ci_run_finish(struct ci_run *c, const struct engine *e, const char *const *argv,
		   const char *cwd, int exit_code);
void ci_run_free(struct ci_run *c);
/* The run's baseline accepts findings of this rule (c may be NULL).  The
 * kernel kills some violators on the spot (decoy reads, denied programs),
 * before a baseline can be asked: such rules must then be left to user
 * space. */
bool ci_run_baselines(const struct ci_run *c, const char *rule);

/* GITHUB_ACTIONS=true */
bool ci_github_actions(void);

#endif
