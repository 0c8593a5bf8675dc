/* Violations and the verdict: each violation recorded once with who did
 * it (process, package, chain), asked of the baseline, its action carried
 * out through the kill hook; then the verdict and pipjail's exit code. */
#include "decide/engine_priv.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

void verdict_free(struct engine *e)
{
	for (size_t i = 0; i < e->n_viols; i++) {
		struct violation_record *v = &e->viols[i];

		free(v->rule);
		free(v->kind);
		free(v->evidence);
		free(v->detail);
		free(v->profile_file);
		free(v->package);
		free(v->version);
		free(v->hook);
		free(v->source_dir);
		free(v->chain);
		free(v->pids);
		free(v->call_errno);
	}
	free(e->viols);
	for (size_t i = 0; i < e->n_seen; i++)
		free(e->seen[i]);
	free(e->seen);
}

/* ---- violations ------------------------------------------------------------------------- */

/* The same violation again (a loop reading the same file): recorded once. */
static bool seen_before(struct engine *e, const char *key)
{
	size_t lo = 0, hi = e->n_seen;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(e->seen[mid], key);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	e->seen = xrealloc(e->seen, (e->n_seen + 1) * sizeof(*e->seen));
	memmove(e->seen + lo + 1, e->seen + lo, (e->n_seen - lo) * sizeof(*e->seen));
	e->seen[lo] = xstrdup(key);
	e->n_seen++;
	return false;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void carry_out(struct engine *e, struct proc *pr, struct violation_record *v)
{
	bool whole = v->action == ACTION_KILL_JAIL;

	if (v->baselined)
		return;  /* a known, accepted finding: the team chose to let it run */
	if (!e->enforce || (v->action != ACTION_KILL_PROCESS && v->action != ACTION_KILL_JAIL))
		return;
	if (e->jail_killed || (!whole && pr && pr->info.killed)) {
		v->done = true;  /* already gone, by an earlier kill */
		return;
	}
	if (!e->kill || !v->hpid)
		return;
	if (e->kill(v->hpid, whole, e->kill_ctx) == 0) {
		v->done = true;
		e->killed = true;
		if (whole)
			e->jail_killed = true;
		if (pr)
			pr->info.killed = true;
	}
}

/* A kill can lose the race with a process that is already on its way out:
 * the signal is accepted and does nothing (a hook that wrote ~/.bashrc and
 * returned).  Its exit says what happened; a process that did not die of
 * SIGKILL was not killed, whatever the kill call returned. */
void verdict_process_exited(struct engine *e, struct proc *pr, const struct trace_event *ev)
{
	bool killed = e->jail_killed;

	if (!pr->info.killed || (ev->signal && !strcmp(ev->signal, "SIGKILL")))
		return;
	pr->info.killed = false;
	for (size_t i = 0; i < e->n_viols; i++) {
		struct violation_record *v = &e->viols[i];

		if (v->hpid == pr->info.hpid && v->action == ACTION_KILL_PROCESS)
			v->done = false;
		if (v->done && (v->action == ACTION_KILL_PROCESS || v->action == ACTION_KILL_JAIL))
			killed = true;
	}
	e->killed = killed;
}

static void emit_violation_note(struct engine *e, const struct violation_record *v)
{
	cJSON *f;

	if (!e->trace)
		return;
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "rule", v->rule);
	cJSON_AddNumberToObject(f, "hpid", v->hpid);
	cJSON_AddNumberToObject(f, "pid", v->pid);
	cJSON_AddStringToObject(f, "role", role_name(v->role));
	if (v->package)
		cJSON_AddStringToObject(f, "package", v->package);
	if (v->hook)
		cJSON_AddStringToObject(f, "hook", v->hook);
	cJSON_AddStringToObject(f, "evidence", v->evidence ? v->evidence : "");
	cJSON_AddStringToObject(f, "chain", v->chain ? v->chain : "");
	cJSON_AddStringToObject(f, "action", action_name(v->action));
	cJSON_AddBoolToObject(f, "done", v->done);
	if (v->baselined)
		cJSON_AddBoolToObject(f, "baselined", true);
	trace_write_note(e->trace, "violation", f);
	cJSON_Delete(f);
}

static struct violation_record *record(struct engine *e, struct proc *pr, const char *rule,
				       const char *kind, const char *evidence, const char *detail,
				       const char *file, enum action action, int role, uint64_t t,
				       int64_t wall)
{
	struct violation_record *v;

	e->viols = xrealloc(e->viols, (e->n_viols + 1) * sizeof(*e->viols));
	v = &e->viols[e->n_viols++];
	memset(v, 0, sizeof(*v));
	v->rule = xstrdup(rule ? rule : "unknown");
	v->kind = xstrdup(kind ? kind : "other");
	v->evidence = dup_or_null(evidence);
	v->detail = dup_or_null(detail);
	v->profile_file = dup_or_null(file);
	v->action = action;
	v->t_mono_ns = t;
	v->t_wall_ns = wall;
	v->pkg = -1;
	if (pr) {
		v->hpid = pr->info.hpid;
		v->pid = pr->info.pid;
		v->role = role >= 0 ? (enum role)role : pr->info.role;
		v->package = dup_or_null(pr->package);
		v->version = dup_or_null(pr->version);
		v->hook = dup_or_null(pr->hook);
		v->source_dir = dup_or_null(pr->srcdir);
		v->pkg = pr->pkg;
		v->chain = proctree_chain(e, pr, &v->pids, &v->n_pids);
	}
	/* Asked once, with the attribution known and before any action. */
	v->baselined = e->baseline && e->baseline(e, v, e->baseline_ctx);
	if (v->baselined)
		e->n_baselined++;
	if (v->pkg >= 0 && v->baselined)
		e->pkgs[v->pkg].baselined++;
	else if (v->pkg >= 0)
		e->pkgs[v->pkg].violations++;
	return v;
}

void verdict_add(struct engine *e, struct proc *pr, const struct violation_in *in)
{
	char key[1400];
	struct violation_record *v;

	snprintf(key, sizeof(key), "%s\x1f%u\x1f%s", in->rule, pr ? pr->info.hpid : 0,
		 in->dedupe ? in->dedupe : in->evidence ? in->evidence : "");
	if (seen_before(e, key))
		return;
	v = record(e, pr, in->rule, in->kind, in->evidence, in->detail, in->profile_file, in->action,
		   in->role, in->ev ? in->ev->t_mono_ns : 0, in->ev ? in->ev->t_wall_ns : 0);
	v->call_failed = in->call_failed;
	v->call_errno = dup_or_null(in->call_errno);
	/* The kernel already killed it on return from the call (bpf_send_signal):
	 * the action is done, and there is no process left to kill. */
	if (in->ev && in->ev->killed_in_kernel && v->action != ACTION_KILL_JAIL) {
		v->action = ACTION_KILL_PROCESS;
		v->done = true;
		e->killed = true;
	} else {
		/* kill-jail still ends the jail when the kernel killed the process */
		carry_out(e, pr, v);
	}
	emit_violation_note(e, v);
}

/* PEP 503: names equal when lowercased with runs of "-", "_", "." as "-". */
static bool same_dist_name(const char *a, const char *b)
{
	for (;;) {
		bool sa = *a == '-' || *a == '_' || *a == '.', sb = *b == '-' || *b == '_' || *b == '.';

		if (sa && sb) {
			while (*a == '-' || *a == '_' || *a == '.')
				a++;
			while (*b == '-' || *b == '_' || *b == '.')
				b++;
			continue;
		}
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

/* A finding about a distribution's files (staging) with no process of that
 * package behind it: it belongs to the distribution, under the name its
 * build used when there was one. */
static void attribute_to_dist(struct engine *e, struct violation_record *v, const char *name,
			      const char *version)
{
	int k = -1;

	for (size_t i = 0; i < e->n_pkgs && k < 0; i++)
		if (same_dist_name(e->pkgs[i].name, name))
			k = (int)i;
	if (k < 0)
		k = pkg_intern(e, name, version, NULL);
	free(v->package);
	free(v->version);
	v->package = xstrdup(e->pkgs[k].name);
	v->version = dup_or_null(e->pkgs[k].version ? e->pkgs[k].version : version);
	v->pkg = k;
	if (v->baselined)
		e->pkgs[k].baselined++;
	else
		e->pkgs[k].violations++;
}

void engine_report(struct engine *e, const struct violation *in)
{
	struct proc *pr = in->hpid ? proc_get(e, in->hpid) : NULL;
	struct violation_record *v;
	char key[1400];

	snprintf(key, sizeof(key), "%s\x1f%u\x1f%s", in->rule ? in->rule : "", in->hpid,
		 in->evidence ? in->evidence : "");
	if (seen_before(e, key))
		return;
	v = record(e, pr, in->rule, in->kind, in->evidence, in->detail, NULL, in->action, -1,
		   in->t_mono_ns ? in->t_mono_ns : now_ns(), 0);
	if (!pr)
		v->hpid = in->hpid;
	if (in->package && v->pkg < 0)
		attribute_to_dist(e, v, in->package, in->version);
	v->done = in->done;
	if (!v->done)
		carry_out(e, pr, v);
	else if (in->action == ACTION_KILL_PROCESS || in->action == ACTION_KILL_JAIL)
		e->killed = true;
	emit_violation_note(e, v);
}

/* ---- verdict ------------------------------------------------------------------------------- */

/* The violations that count for the verdict and the exit code. */
static size_t n_counted(const struct engine *e)
{
	return e->n_viols - e->n_baselined;
}

bool engine_has_violations(const struct engine *e)
{
	return n_counted(e) > 0;
}

bool engine_killed(const struct engine *e)
{
	return e->killed;
}

size_t engine_n_violations(const struct engine *e)
{
	return e->n_viols;
}

size_t engine_n_baselined(const struct engine *e)
{
	return e->n_baselined;
}

const struct violation_record *engine_violation(const struct engine *e, size_t i)
{
	return i < e->n_viols ? &e->viols[i] : NULL;
}

static bool incomplete(const struct engine *e)
{
	return e->out.lost > 0 || e->out.incomplete;
}

const char *engine_verdict(const struct engine *e)
{
	if (n_counted(e))
		return "violation";
	if (incomplete(e))
		return "incomplete";
	return "clean";
}

int engine_exit_code(const struct engine *e, int command_code)
{
	if (e->killed)
		return EXIT_VIOLATION_KILLED;
	if (n_counted(e))
		return EXIT_VIOLATION_FOUND;
	if (incomplete(e))
		return EXIT_INCOMPLETE;
	return command_code;
}
