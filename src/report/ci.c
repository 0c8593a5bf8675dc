/* pipjail in CI: GitHub Actions workflow commands and step summary, and
 * the --sarif/--baseline/--write-baseline wiring of a run.  Where packages
 * came from is origins.c's, what a finding says findings.c's. */
#include "report/ci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/baseline.h"
#include "decide/engine.h"
#include "report/findings.h"
#include "report/origins.h"
#include "report/report.h"
#include "report/sarif.h"
#include "base/base.h"

#define SUMMARY_EVIDENCE_MAX 300

/* ---- names and escaping ------------------------------------------------------ */

static char *escape(const char *s, bool property)
{
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%' || c == '\r' || c == '\n' || (property && (c == ':' || c == ','))) {
			snprintf(out + o, 4, "%%%02X", (unsigned char)c);
			o += 3;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return out;
}

char *ci_escape_data(const char *s)
{
	return escape(s ? s : "", false);
}

char *ci_escape_property(const char *s)
{
	return escape(s ? s : "", true);
}

bool ci_github_actions(void)
{
	const char *v = getenv("GITHUB_ACTIONS");

	return v && !strcmp(v, "true");
}

/* ---- GitHub Actions ------------------------------------------------------------- */

void ci_annotations_print(const struct engine *e, const struct origins *o, FILE *out)
{
	size_t n;
	autofree size_t *idx = findings_sorted(e, &n);

	for (size_t j = 0; j < n; j++) {
		const struct violation_record *v = engine_violation(e, idx[j]);
		struct origin loc;
		autofree char *msg = NULL, *emsg = NULL, *title = NULL, *etitle = NULL;

		origins_locate(o, v->package, &loc);
		msg = finding_message(e, v, &loc);
		emsg = ci_escape_data(msg);
		title = xasprintf("pipjail %s%s", v->rule, v->baselined ? " (baselined)" : "");
		etitle = ci_escape_property(title);
		fprintf(out, "::%s ", v->baselined ? "notice" : "error");
		if (loc.file) {
			autofree char *f = ci_escape_property(loc.file);

			fprintf(out, "file=%s,", f);
			if (loc.line)
				fprintf(out, "line=%u,", loc.line);
		}
		fprintf(out, "title=%s::%s\n", etitle, emsg);
	}
	if (!strcmp(engine_verdict(e), "incomplete"))
		fprintf(out, "::warning title=pipjail incomplete::the trace is incomplete (events were "
			"lost): no violation was seen, but the run cannot be called clean\n");
}

/* `text` as a Markdown code span: literal whatever it holds (a package's
 * name and evidence are the package's to choose).  In a table cell a "|"
 * must be escaped even there. */
static void md_code(FILE *out, const char *text, bool in_table, size_t max)
{
	size_t run = 0, longest = 0, n = strlen(text);
	bool pad;

	if (n > max) {
		n = max;
		while (n && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;   /* not in the middle of a UTF-8 sequence */
	}
	for (size_t i = 0; i < n; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	/* a space inside the fence only where CommonMark needs one: content
	 * that starts or ends with a backtick or a space */
	pad = n && (strchr("` ", text[0]) || strchr("` ", text[n - 1]));
	for (size_t i = 0; i <= longest; i++)
		fputc('`', out);
	if (pad)
		fputc(' ', out);
	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (c == '\n' || c == '\r' || c == '\t')
			fputc(' ', out);
		else if (c == '|' && in_table)
			fputs("\\|", out);
		else
			fputc(c, out);
	}
	if (n < strlen(text))
		fputs("…", out);
	if (pad)
		fputc(' ', out);
	for (size_t i = 0; i <= longest; i++)
		fputc('`', out);
}

static void summary_table(const struct engine *e, const struct origins *o, FILE *out,
			  const size_t *idx, size_t n, bool baselined)
{
	char outcome[256];

	fputs("| package | rule | from | evidence | done |\n| --- | --- | --- | --- | --- |\n", out);
	for (size_t j = 0; j < n; j++) {
		const struct violation_record *v = engine_violation(e, idx[j]);
		struct origin loc;
		autofree char *label = xasprintf("%s%s%s", v->package ? v->package : "pip",
						 v->version ? " " : "", v->version ? v->version : "");
		autofree char *rule = xasprintf("%s%s%s", v->rule, v->hook ? " in " : "",
						v->hook ? v->hook : "");

		if (v->baselined != baselined)
			continue;
		origins_locate(o, v->package, &loc);
		fputs("| ", out);
		md_code(out, label, true, 200);
		fputs(" | ", out);
		md_code(out, rule, true, 200);
		fputs(" | ", out);
		if (loc.file) {
			autofree char *where = loc.line ? xasprintf("%s:%u", loc.file, loc.line)
							: xstrdup(loc.file);

			md_code(out, where, true, 200);
			if (loc.transitive)
				fputs(" (a dependency)", out);
		} else {
			fputs("—", out);
		}
		fputs(" | ", out);
		md_code(out, v->evidence ? v->evidence : "", true, SUMMARY_EVIDENCE_MAX);
		fprintf(out, " | %s |\n", report_outcome(e, v, outcome, sizeof(outcome)));
	}
}

void ci_summary_print(const struct engine *e, const struct origins *o, FILE *out,
		      int exit_code)
{
	const struct profile *p = engine_profile(e);
	const char *verdict = engine_verdict(e);
	size_t n, counted = engine_n_violations(e) - engine_n_baselined(e);
	autofree size_t *idx = findings_sorted(e, &n);

	fprintf(out, "### pipjail: %s %s\n\n", verdict,
		!strcmp(verdict, "clean") ? "✓" : !strcmp(verdict, "violation") ? "✗" : "⚠");
	fprintf(out, "Profile ");
	md_code(out, p && p->name ? p->name : "built-in rules", false, 200);
	if (p && p->project)
		fputs(" (the project's)", out);
	fprintf(out, ", %s: **%zu violation%s**", !engine_enforcing(e) ? "audit" : "enforce",
		counted, counted == 1 ? "" : "s");
	if (engine_n_baselined(e))
		fprintf(out, ", %zu baselined", engine_n_baselined(e));
	fprintf(out, "; exit %d (%s).\n\n", exit_code, report_exit_meaning(exit_code));
	if (!strcmp(verdict, "incomplete"))
		fputs("The trace is incomplete (events were lost): nothing bad was seen, but the run "
		      "cannot be called clean.\n\n", out);
	if (counted)
		summary_table(e, o, out, idx, n, false);
	if (engine_n_baselined(e)) {
		fprintf(out, "\n<details><summary>%zu baselined finding%s (known, not counted)"
			"</summary>\n\n", engine_n_baselined(e), engine_n_baselined(e) == 1 ? "" : "s");
		summary_table(e, o, out, idx, n, true);
		fputs("\n</details>\n", out);
	}
	fputc('\n', out);
}

/* ---- a run ---------------------------------------------------------------------- */

struct ci_run {
	struct ci_options opts;
	int sarif_fd, write_fd, summary_fd;
	struct baseline *baseline;
	char stop_token[33];
	bool stopped;
};

static int open_file(const struct jail_user *u, const char *path, int flags, mode_t mode)
{
	return u ? open_as_user(u, path, flags, mode) : open(path, flags | O_CLOEXEC, mode);
}

static int open_reqfile(const char *path, void *ctx)
{
	return open_file(ctx, path, O_RDONLY | O_NONBLOCK, 0);
}

static void resume_commands(struct ci_run *c)
{
	if (!c->stopped)
		return;
	fflush(stdout);
	printf("::%s::\n", c->stop_token);
	fflush(stdout);
	c->stopped = false;
}

struct ci_run *ci_run_start(const struct ci_options *opts, struct engine *e, char *err,
			    size_t errlen)
{
	struct ci_run *c = xcalloc(1, sizeof(*c));
	const char *summary = getenv("GITHUB_STEP_SUMMARY");

	c->opts = *opts;
	c->sarif_fd = c->write_fd = c->summary_fd = -1;
	/* The baseline is read before --write-baseline opens (it may be the same file). */
	if (opts->baseline_path) {
		autoclose int fd = open_file(opts->user, opts->baseline_path, O_RDONLY | O_NONBLOCK, 0);

		if (fd < 0) {
			snprintf(err, errlen, "--baseline %s: %s", opts->baseline_path, strerror(errno));
			goto fail;
		}
		c->baseline = baseline_read_fd(fd, opts->baseline_path, err, errlen);
		if (!c->baseline)
			goto fail;
		engine_set_baseline(e, baseline_match, c->baseline);
	}
	if (opts->sarif_path) {
		c->sarif_fd = open_file(opts->user, opts->sarif_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (c->sarif_fd < 0) {
			snprintf(err, errlen, "--sarif %s: %s", opts->sarif_path, strerror(errno));
			goto fail;
		}
	}
	/* Not truncated yet: a run that fails before its verdict keeps the old file. */
	if (opts->write_baseline_path) {
		c->write_fd = open_file(opts->user, opts->write_baseline_path, O_WRONLY | O_CREAT, 0644);
		if (c->write_fd < 0) {
			snprintf(err, errlen, "--write-baseline %s: %s", opts->write_baseline_path,
				 strerror(errno));
			goto fail;
		}
	}
	if (ci_github_actions() && summary && *summary) {
		c->summary_fd = open_file(opts->user, summary, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (c->summary_fd < 0)
			warn_errno("GITHUB_STEP_SUMMARY %s: no step summary", summary);
	}
	/* The jailed command's output goes to the same log as our annotations:
	 * a package could print "::stop-commands::x" to silence them, or forge
	 * its own.  Workflow commands stay off, under a token only this process
	 * knows, until ci_run_finish. */
	if (ci_github_actions() && opts->live) {
		random_hex(c->stop_token, 32);
		fflush(stdout);
		printf("::stop-commands::%s\n", c->stop_token);
		fflush(stdout);
		c->stopped = true;
	}
	return c;
fail:
	ci_run_free(c);
	return NULL;
}

static void write_summary(const struct ci_run *c, const struct engine *e,
			  const struct origins *o, int code)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	if (!out)
		die_errno("open_memstream");
	ci_summary_print(e, o, out, code);
	if (fclose(out) != 0)
		die_errno("open_memstream");
	if (write_all(c->summary_fd, buf, size) < 0)
		warn_errno("writing the step summary (GITHUB_STEP_SUMMARY)");
	free(buf);
}

void ci_run_finish(struct ci_run *c, const struct engine *e, const char *const *argv,
		   const char *cwd, int exit_code)
{
	struct origins *o;

	if (!c)
		return;
	o = origins_new(argv, cwd, open_reqfile, (void *)c->opts.user);
	resume_commands(c);
	if (ci_github_actions()) {
		fflush(stdout);
		ci_annotations_print(e, o, stdout);
		fflush(stdout);
	}
	if (c->summary_fd >= 0)
		write_summary(c, e, o, exit_code);
	if (c->sarif_fd >= 0) {
		struct sarif_ctx sc = { .origins = o, .argv = argv, .exit_code = exit_code,
					.baseline = c->baseline != NULL };

		if (sarif_write_fd(e, c->sarif_fd, &sc) < 0)
			warn_errno("--sarif %s", c->opts.sarif_path);
	}
	if (c->write_fd >= 0 && baseline_write_fd(e, c->write_fd) < 0)
		warn_errno("--write-baseline %s", c->opts.write_baseline_path);
	origins_free(o);
}

bool ci_run_baselines(const struct ci_run *c, const char *rule)
{
	return c && baseline_has_rule(c->baseline, rule);
}

void ci_run_free(struct ci_run *c)
{
	if (!c)
		return;
	resume_commands(c);
	closep(&c->sarif_fd);
	closep(&c->write_fd);
	closep(&c->summary_fd);
	baseline_free(c->baseline);
	free(c);
}
