/* pipjail in CI (docs/ci.md): where each package came from (the
 * requirements file and line, or the artifact named on pip's command line),
 * GitHub Actions workflow commands (::error annotations, the step summary),
 * and the wiring of --sarif, --baseline and --write-baseline into a run. */
#ifndef PIPJAIL_CI_H
#define PIPJAIL_CI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "decide/engine.h"
#include "base/base.h"

/* ---- names and escaping ------------------------------------------------------ */

/* PEP 503: lowercase, each run of "-", "_", "." becomes one "-" (malloc'd). */
char *ci_normalize_name(const char *name);

/* GitHub workflow-command escaping (malloc'd).  Data (after "::"):
 * "%" -> %25, CR -> %0D, LF -> %0A.  Properties (file=, title=): the same,
 * and ":" -> %3A, "," -> %2C. */
char *ci_escape_data(const char *s);
char *ci_escape_property(const char *s);

struct ci_location;

/* ---- the rules ---------------------------------------------------------------- */

/* What a reader (and a SARIF viewer) is told about each pipjail rule. */
struct ci_rule {
	const char *id;           /* "decoy-read" */
	const char *name;         /* "DecoyRead" */
	const char *title;        /* "read a decoy secret" (after a package name) */
	const char *description;  /* what it means, in full */
	const char *help;         /* how to fix it, or allow it */
	const char *severity;     /* GitHub's security-severity, "0.0" .. "10.0" */
};
/* Every rule pipjail knows, in a fixed order. */
const struct ci_rule *ci_rules(size_t *n);
/* The rule of that id, NULL when unknown. */
const struct ci_rule *ci_rule(const char *id);
/* The texts for a rule id pipjail does not describe (id is NULL). */
extern const struct ci_rule ci_rule_unknown;
/* "evil 1.0 (build_wheel) read a decoy secret: EVIDENCE", then lines for
 * the chain, the profile rule, what was done, and where it came from
 * (malloc'd; no pids, no times). */
char *ci_message(const struct engine *e, const struct violation_record *v,
		 const struct ci_location *loc);

/* ---- where packages came from ------------------------------------------------- */

/* Opens a file the user named, with the user's rights: fd or -1 (errno). */
typedef int (*ci_open_fn)(const char *path, void *ctx);

struct ci_origins;

/* Read the requirements files of a pip command line (-r/--requirement
 * after "install", and the -r lines inside them, relative to the file
 * that names them), and note the sdists and wheels it names.  Paths are
 * shown relative to base (the repository: $GITHUB_WORKSPACE,
 * $CI_PROJECT_DIR, else cwd) when under it.  A file that cannot be read is
 * skipped: pip says why.  Never NULL. */
struct ci_origins *ci_origins_new(const char *const *argv, const char *cwd, ci_open_fn open_fn,
				  void *ctx);
/* The same from the text of one requirements file (tests). */
struct ci_origins *ci_origins_from_text(const char *file, const char *text);
void ci_origins_free(struct ci_origins *o);
/* The directory paths are shown relative to (absolute). */
const char *ci_origins_base(const struct ci_origins *o);

struct ci_location {
	const char *file;         /* relative to the base when under it, else absolute; NULL: none */
	unsigned line;            /* 1-based; 0: the file as a whole */
	bool requirement;         /* file:line is the requirement that names the package */
	bool transitive;          /* not named anywhere: file is the first requirements file */
};
/* Where package (any spelling) came from: the first requirement line that
 * names it, else a local sdist/wheel named on the command line, else the
 * first requirements file (it came in as a dependency).  false: nothing. */
bool ci_locate(const struct ci_origins *o, const char *package, struct ci_location *loc);

/* ---- output ------------------------------------------------------------------- */

/* The violations in a stable order: package, rule, normalised evidence
 * (the order events arrive in differs between runs).  malloc'd indices
 * for engine_violation(), *n set. */
size_t *ci_sorted_violations(const struct engine *e, size_t *n);

/* "::error file=F,line=L,title=pipjail RULE::MESSAGE" for each violation,
 * "::notice" for baselined ones, "::warning" for an incomplete trace. */
void ci_annotations_print(const struct engine *e, const struct ci_origins *o, FILE *out);
/* The Markdown step summary. */
void ci_summary_print(const struct engine *e, const struct ci_origins *o, FILE *out,
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
