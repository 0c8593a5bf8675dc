/* Reports: the human summary and the JSON document (docs/report-format.md). */
#include "report/report.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decide/engine.h"
#include "base/base.h"
#include "pip/pip.h"

bool report_use_color(int fd)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fd) && !(nc && *nc);
}

const char *report_outcome(const struct engine *e, const struct violation_record *v, char *buf,
			   size_t len)
{
	bool kill = v->action == ACTION_KILL_PROCESS || v->action == ACTION_KILL_JAIL;
	const char *what;

	if (v->baselined) {
		snprintf(buf, len, "baselined (a known finding: not counted, not acted on)");
		return buf;
	}
	if (v->action == ACTION_REFUSED)
		what = "refused";
	else if (kill && v->done)
		what = v->action == ACTION_KILL_JAIL ? "killed the jail" : "killed";
	else if (kill && engine_is_replay(e))
		what = v->action == ACTION_KILL_JAIL ? "reported (a live run kills the jail)"
						     : "reported (a live run kills it)";
	else if (kill && !engine_enforcing(e))
		what = v->action == ACTION_KILL_JAIL ? "reported (audit; enforce kills the jail)"
						     : "reported (audit; enforce kills it)";
	else if (kill)
		what = "kill failed (the process was already gone)";
	else
		what = "reported";
	if (v->call_failed && !strcmp(v->rule, "refused-call"))
		snprintf(buf, len, "refused by the kernel%s%s%s; %s", v->call_errno ? " (" : "",
			 v->call_errno ? v->call_errno : "", v->call_errno ? ")" : "", what);
	else if (v->call_failed)
		snprintf(buf, len, "%s; the call failed%s%s%s", what, v->call_errno ? " (" : "",
			 v->call_errno ? v->call_errno : "", v->call_errno ? ")" : "");
	else
		snprintf(buf, len, "%s", what);
	return buf;
}

/* ---- human ----------------------------------------------------------------------- */

struct colors {
	const char *red, *green, *yellow, *bold, *dim, *off;
};

static const char *rule_title(const char *rule)
{
	static const struct {
		const char *rule, *title;
	} t[] = {
		{ "decoy-read", "read a decoy secret" },
		{ "decoy-access", "touched a decoy secret" },
		{ "decoy-token", "used the value of a decoy secret" },
		{ "file-read", "read a file the profile does not allow" },
		{ "file-write", "wrote where the profile does not allow" },
		{ "exec", "ran a program the profile does not allow" },
		{ "network", "used the network" },
		{ "refused-call", "made a refused system call" },
		{ "non-native-abi", "made a 32-bit system call" },
		{ "undeclared-file", "installed a file no RECORD names, or another distribution's" },
		{ "proxy", "was refused by the egress proxy" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (!strcmp(rule, t[i].rule))
			return t[i].title;
	return "broke a rule";
}

/* Evidence and hooks come from the package (its argv, its paths): control
 * characters are shown escaped, never sent to the terminal or the CI log
 * (no ANSI sequences, no forged lines or workflow commands). */
static void put_safe(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

static void print_violation(const struct engine *e, FILE *out, const struct colors *c,
			    const struct violation_record *v)
{
	char outcome[256];

	fprintf(out, "    %s✗ %s%s: %s%s", c->red, v->rule, c->off, rule_title(v->rule),
		v->hook ? " in " : "");
	if (v->hook)
		put_safe(out, v->hook);
	fputc('\n', out);
	if (v->evidence) {
		fputs("        evidence: ", out);
		put_safe(out, v->evidence);
		fputc('\n', out);
	}
	if (v->detail)
		fprintf(out, "        rule:     %s%s%s%s\n", v->detail,
			v->profile_file ? " (" : "", v->profile_file ? v->profile_file : "",
			v->profile_file ? ")" : "");
	if (v->chain) {
		fprintf(out, "        chain:    %s  %s[pid", v->chain, c->dim);
		for (size_t i = 0; i < v->n_pids; i++)
			fprintf(out, "%s%u", i ? " → " : " ", v->pids[i]);
		fprintf(out, "]%s\n", c->off);
	}
	fprintf(out, "        done:     %s%s%s\n", c->bold, report_outcome(e, v, outcome, sizeof(outcome)),
		c->off);
}

static const char *pkg_label(const struct pkg *k, char *buf, size_t len)
{
	if (!strcmp(k->name, "(unknown)"))
		snprintf(buf, len, "(unknown package in %s)", k->srcdir ? k->srcdir : "?");
	else
		snprintf(buf, len, "%s%s%s", k->name, k->version ? " " : "", k->version ? k->version : "");
	return buf;
}

static size_t n_real_pkgs(const struct engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < engine_n_pkgs(e); i++) {
		const struct pkg *k = engine_pkg(e, i);

		for (int r = 0; r < ROLE_COUNT; r++)
			if (k->processes[r]) {
				n++;
				break;
			}
	}
	return n;
}

static bool pkg_live(const struct pkg *k)
{
	for (int r = 0; r < ROLE_COUNT; r++)
		if (k->processes[r])
			return true;
	return k->violations > 0 || k->baselined > 0;
}

const char *report_exit_meaning(int code)
{
	switch (code) {
	case EXIT_VIOLATION_FOUND: return "violations found";
	case EXIT_VIOLATION_KILLED: return "a violator was killed";
	case EXIT_INCOMPLETE: return "the trace is incomplete";
	case EXIT_TIMEOUT: return "timeout";
	case EXIT_PIPJAIL_ERROR: return "pipjail error";
	case 0: return "success";
	default: return "the command's status";
	}
}

/* Findings the baseline accepted: listed, so that a reader sees them, and
 * set apart from the violations that count. */
static void print_baselined(const struct engine *e, FILE *out, const struct colors *c)
{
	char lab[256];

	if (!engine_n_baselined(e))
		return;
	fprintf(out, "  %s%zu baselined finding%s (known, accepted by --baseline; not counted):%s\n",
		c->dim, engine_n_baselined(e), engine_n_baselined(e) == 1 ? "" : "s", c->off);
	for (size_t j = 0; j < engine_n_violations(e); j++) {
		const struct violation_record *v = engine_violation(e, j);

		if (!v->baselined)
			continue;
		if (v->pkg >= 0)
			pkg_label(engine_pkg(e, v->pkg), lab, sizeof(lab));
		else
			snprintf(lab, sizeof(lab), "pip");
		fprintf(out, "    %s~ %s: %s: %s%s\n", c->dim, lab, v->rule,
			v->evidence ? v->evidence : "", c->off);
	}
}

void report_verdict_line(const struct engine *e, FILE *out, int exit_code)
{
	size_t n = 0, npk = 0;

	for (size_t i = 0; i < engine_n_violations(e); i++)
		n += !engine_violation(e, i)->baselined;
	for (size_t i = 0; i < engine_n_pkgs(e); i++)
		npk += engine_pkg(e, i)->violations > 0;
	/* A clean run of a command that failed for its own reasons (pip found
	 * no such distribution, a build error) must not read as a success. */
	const char *verdict = engine_verdict(e);
	const char *failed = "";
	char *const *argv = engine_command(e);

	if (!strcmp(verdict, "clean") && engine_outcome(e)->command_code > 0 && exit_code != 0)
		failed = argv && pip_argv_is_pip((const char *const *)argv) ? ", pip failed" :
			 ", the command failed";
	fprintf(out, "pipjail: verdict: %s%s (%zu violation%s in %zu package%s", verdict, failed, n,
		n == 1 ? "" : "s", npk, npk == 1 ? "" : "s");
	if (engine_n_baselined(e))
		fprintf(out, ", %zu baselined", engine_n_baselined(e));
	fprintf(out, "; exit %d)\n", exit_code);
}

/* "default", "mine (the project's /p/.pipjail.json)", "built-in rules". */
static const char *profile_label(const struct engine *e, char *buf, size_t len)
{
	const struct profile *p = engine_profile(e);

	if (!p)
		snprintf(buf, len, "built-in rules");
	else if (p->project)
		snprintf(buf, len, "%s (the project's %s)", p->name ? p->name : "?",
			 p->path ? p->path : PROFILE_PROJECT_FILE);
	else
		snprintf(buf, len, "%s", p->name ? p->name : "?");
	return buf;
}

/* No violation that counts: one line, clean or incomplete. */
static void print_no_violation(const struct engine *e, FILE *out, const struct colors *c,
			       int exit_code)
{
	char pname[PATH_MAX + 64], lab[256];
	size_t npk = n_real_pkgs(e), shown = 0;

	if (engine_outcome(e)->lost || engine_outcome(e)->incomplete) {
		char why[64] = "the run was cut short (interrupted)";

		if (engine_outcome(e)->lost)
			snprintf(why, sizeof(why), "%llu events were lost",
				 (unsigned long long)engine_outcome(e)->lost);
		fprintf(out, "pipjail: %sINCOMPLETE%s: %s; no violation in what was recorded, but "
			"the run cannot be called clean (exit %d)\n", c->yellow, c->off, why, exit_code);
		return;
	}
	fprintf(out, "pipjail: %sclean%s: ", c->green, c->off);
	if (npk) {
		fprintf(out, "%zu package%s built (", npk, npk == 1 ? "" : "s");
		for (size_t i = 0; i < engine_n_pkgs(e) && shown < 5; i++) {
			if (!pkg_live(engine_pkg(e, i)))
				continue;
			fprintf(out, "%s%s", shown ? ", " : "", pkg_label(engine_pkg(e, i), lab, sizeof(lab)));
			shown++;
		}
		fprintf(out, "%s), ", npk > shown ? ", ..." : "");
	}
	fprintf(out, "%llu events, no violations (profile %s)\n", (unsigned long long)engine_events(e),
		profile_label(e, pname, sizeof(pname)));
}

/* A package, its verdict and hooks, and the violations that count. */
static void print_package(const struct engine *e, FILE *out, const struct colors *c, size_t i)
{
	const struct pkg *k = engine_pkg(e, i);
	char lab[256];

	fprintf(out, "  %s%s%s: %s%s%s", c->bold, pkg_label(k, lab, sizeof(lab)),
		c->off, k->violations ? c->red : c->green, k->violations ? "violation" : "clean", c->off);
	if (k->n_hooks) {
		fprintf(out, " (");
		for (size_t h = 0; h < k->n_hooks; h++)
			fprintf(out, "%s%s", h ? ", " : "", k->hooks[h]);
		fprintf(out, ")");
	}
	fputc('\n', out);
	for (size_t j = 0; j < engine_n_violations(e); j++)
		if (engine_violation(e, j)->pkg == (int)i && !engine_violation(e, j)->baselined)
			print_violation(e, out, c, engine_violation(e, j));
}

/* The violations of no package: pip's own, and of what pip started outside any build. */
static void print_pip_violations(const struct engine *e, FILE *out, const struct colors *c)
{
	bool header = false;

	for (size_t j = 0; j < engine_n_violations(e); j++) {
		const struct violation_record *v = engine_violation(e, j);

		if (v->pkg >= 0 || v->baselined)
			continue;
		if (!header) {
			fprintf(out, "  %spip%s (and what it started outside any build): %sviolation%s\n",
				c->bold, c->off, c->red, c->off);
			header = true;
		}
		print_violation(e, out, c, v);
	}
}

void report_print(const struct engine *e, FILE *out, bool color, int exit_code)
{
	static const struct colors on = { "\033[1;31m", "\033[1;32m", "\033[1;33m", "\033[1m", "\033[2m",
					  "\033[0m" };
	static const struct colors off = { "", "", "", "", "", "" };
	const struct colors *c = color ? &on : &off;
	char pname[PATH_MAX + 64];
	size_t counted = engine_n_violations(e) - engine_n_baselined(e);

	if (!counted) {
		print_no_violation(e, out, c, exit_code);
		print_baselined(e, out, c);
		return;
	}
	fprintf(out, "pipjail: %sVIOLATION%s: %zu violation%s of the profile %s%s\n", c->red, c->off,
		counted, counted == 1 ? "" : "s", profile_label(e, pname, sizeof(pname)),
		engine_killed(e) ? "; the violator was killed" : engine_is_replay(e) ? " (replay)" :
		!engine_enforcing(e) ? " (audit: nothing was killed)" : "");
	for (size_t i = 0; i < engine_n_pkgs(e); i++)
		if (pkg_live(engine_pkg(e, i)))
			print_package(e, out, c, i);
	print_pip_violations(e, out, c);
	print_baselined(e, out, c);
	fprintf(out, "pipjail: %llu events, %llu lost; exit %d (%s)\n", (unsigned long long)engine_events(e),
		(unsigned long long)engine_outcome(e)->lost, exit_code, report_exit_meaning(exit_code));
	if (engine_trace_path(e))
		fprintf(out, "pipjail: trace: %s\n", engine_trace_path(e));
}

/* ---- JSON ------------------------------------------------------------------------ */

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *violation_json(const struct engine *e, const struct violation_record *v)
{
	cJSON *o = cJSON_CreateObject(), *pids;
	char buf[256];

	add_str_or_null(o, "package", v->package);
	add_str_or_null(o, "version", v->version);
	cJSON_AddStringToObject(o, "role", role_name(v->role));
	add_str_or_null(o, "hook", v->hook);
	add_str_or_null(o, "source_dir", v->source_dir);
	cJSON_AddStringToObject(o, "rule", v->rule);
	cJSON_AddStringToObject(o, "kind", v->kind);
	add_str_or_null(o, "evidence", v->evidence);
	add_str_or_null(o, "detail", v->detail);
	add_str_or_null(o, "profile_file", v->profile_file);
	cJSON_AddNumberToObject(o, "pid", v->pid);
	cJSON_AddNumberToObject(o, "hpid", v->hpid);
	add_str_or_null(o, "chain", v->chain);
	pids = cJSON_AddArrayToObject(o, "pids");
	for (size_t i = 0; i < v->n_pids; i++)
		cJSON_AddItemToArray(pids, cJSON_CreateNumber(v->pids[i]));
	cJSON_AddStringToObject(o, "action", action_name(v->action));
	cJSON_AddBoolToObject(o, "done", v->done);
	cJSON_AddStringToObject(o, "outcome", report_outcome(e, v, buf, sizeof(buf)));
	cJSON_AddBoolToObject(o, "baselined", v->baselined);
	cJSON_AddBoolToObject(o, "call_failed", v->call_failed);
	add_str_or_null(o, "errno", v->call_errno);
	snprintf(buf, sizeof(buf), "%llu.%09llu", (unsigned long long)(v->t_mono_ns / 1000000000u),
		 (unsigned long long)(v->t_mono_ns % 1000000000u));
	cJSON_AddRawToObject(o, "t_mono", buf);
	if (v->t_wall_ns) {
		trace_format_wall(v->t_wall_ns, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "time", buf);
	} else {
		cJSON_AddNullToObject(o, "time");
	}
	return o;
}

static cJSON *exit_json(const struct engine *e, int exit_code)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "code", exit_code);
	if (engine_outcome(e)->command_code >= 0)
		cJSON_AddNumberToObject(o, "command_code", engine_outcome(e)->command_code);
	else
		cJSON_AddNullToObject(o, "command_code");
	cJSON_AddBoolToObject(o, "timed_out", engine_outcome(e)->timed_out);
	return o;
}

static cJSON *events_json(const struct engine *e)
{
	cJSON *o = cJSON_CreateObject(), *bk;
	struct engine_counts counts;

	engine_get_counts(e, &counts);
	cJSON_AddNumberToObject(o, "total", (double)engine_events(e));
	bk = cJSON_AddObjectToObject(o, "by_kind");
	for (unsigned i = 0; i < counts.n_kinds; i++)
		cJSON_AddNumberToObject(bk, counts.kinds[i].name, (double)counts.kinds[i].n);
	if (counts.other_kinds)
		cJSON_AddNumberToObject(bk, "other", (double)counts.other_kinds);
	cJSON_AddNumberToObject(o, "lost", (double)engine_outcome(e)->lost);
	cJSON_AddNumberToObject(o, "refused_calls", (double)counts.refused);
	cJSON_AddNumberToObject(o, "refused_probes", (double)counts.probes);
	return o;
}

static cJSON *package_json(const struct pkg *k)
{
	cJSON *p = cJSON_CreateObject(), *h, *procs;

	cJSON_AddStringToObject(p, "name", k->name);
	add_str_or_null(p, "version", k->version);
	add_str_or_null(p, "source_dir", k->srcdir);
	add_str_or_null(p, "name_from", k->source);
	cJSON_AddStringToObject(p, "verdict", k->violations ? "violation" : "clean");
	h = cJSON_AddArrayToObject(p, "hooks");
	for (size_t j = 0; j < k->n_hooks; j++)
		cJSON_AddItemToArray(h, cJSON_CreateString(k->hooks[j]));
	procs = cJSON_AddObjectToObject(p, "processes");
	for (int rr = ROLE_PIP; rr < ROLE_COUNT; rr++)
		if (k->processes[rr])
			cJSON_AddNumberToObject(procs, role_name(rr), (double)k->processes[rr]);
	cJSON_AddNumberToObject(p, "events", (double)k->events);
	cJSON_AddNumberToObject(p, "violations", (double)k->violations);
	cJSON_AddNumberToObject(p, "baselined", (double)k->baselined);
	return p;
}

cJSON *report_json(const struct engine *e, int exit_code)
{
	cJSON *r = cJSON_CreateObject(), *a;

	cJSON_AddStringToObject(r, "format", REPORT_FORMAT);
	cJSON_AddNumberToObject(r, "format_version", REPORT_FORMAT_VERSION);
	cJSON_AddStringToObject(r, "pipjail", PIPJAIL_VERSION);
	cJSON_AddStringToObject(r, "verdict", engine_verdict(e));
	cJSON_AddNumberToObject(r, "baselined", (double)engine_n_baselined(e));
	cJSON_AddStringToObject(r, "mode", engine_is_replay(e) ? "replay" : engine_enforcing(e) ? "enforce" : "audit");
	cJSON_AddBoolToObject(r, "killed", engine_killed(e));
	if (engine_profile(e))
		cJSON_AddItemToObject(r, "profile", profile_to_json(engine_profile(e)));
	else
		cJSON_AddNullToObject(r, "profile");
	a = cJSON_AddArrayToObject(r, "command");
	for (size_t i = 0; engine_command(e) && engine_command(e)[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(engine_command(e)[i]));
	add_str_or_null(r, "trace", engine_trace_path(e));
	cJSON_AddItemToObject(r, "exit", exit_json(e, exit_code));
	cJSON_AddItemToObject(r, "events", events_json(e));
	cJSON_AddNumberToObject(r, "lost", (double)engine_outcome(e)->lost);
	cJSON_AddBoolToObject(r, "incomplete", engine_outcome(e)->lost > 0 || engine_outcome(e)->incomplete);
	a = cJSON_AddArrayToObject(r, "packages");
	for (size_t i = 0; i < engine_n_pkgs(e); i++)
		if (pkg_live(engine_pkg(e, i)))
			cJSON_AddItemToArray(a, package_json(engine_pkg(e, i)));
	a = cJSON_AddArrayToObject(r, "violations");
	for (size_t i = 0; i < engine_n_violations(e); i++)
		cJSON_AddItemToArray(a, violation_json(e, engine_violation(e, i)));
	return r;
}

int report_write_json_fd(const struct engine *e, int fd, int exit_code)
{
	return json_write_fd(report_json(e, exit_code), fd);
}
