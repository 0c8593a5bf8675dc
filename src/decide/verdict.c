#include <ctype.h>
/* The engine's front: events in, violations recorded with who did it and
 * what was done about it, the verdict and pipjail's exit code out. */
#include "decide/engine_priv.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

static const char *const role_names[ROLE_COUNT] = {
	[ROLE_NONE] = "none", [ROLE_PIP] = "pip", [ROLE_BUILD] = "build", [ROLE_TOOL] = "tool",
	[ROLE_IMPORT] = "import",
};

const char *role_name(enum role r)
{
	return r < ROLE_COUNT ? role_names[r] : "?";
}

enum role role_from_name(const char *name)
{
	for (int r = ROLE_PIP; r < ROLE_COUNT; r++)
		if (name && !strcmp(name, role_names[r]))
			return (enum role)r;
	return ROLE_NONE;
}

static const char *const action_names[] = {
	[ACTION_REPORT] = "report", [ACTION_REFUSED] = "refused",
	[ACTION_KILL_PROCESS] = "kill-process", [ACTION_KILL_JAIL] = "kill-jail",
};

const char *action_name(enum action a)
{
	return (unsigned)a < ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

int action_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++)
		if (name && !strcmp(name, action_names[i]))
			return (int)i;
	return -1;
}

/* ---- life cycle ------------------------------------------------------------------ */

struct engine *engine_new(const struct profile *p, bool enforce)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->p = p;
	e->enforce = enforce;
	e->probes_are_violations = p && p->probes_are_violations;
	e->out.command_code = -1;
	e->writers_max = ENGINE_WRITERS_MAX;
	engine_compile(e);
	return e;
}

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

void engine_free(struct engine *e)
{
	if (!e)
		return;
	verdict_free(e);
	proctree_free(e);
	engine_compiled_free(e);
	for (size_t i = 0; i < e->n_decoys; i++) {
		free(e->decoys[i].where);
		free(e->decoys[i].path);
		free(e->decoys[i].token);
	}
	free(e->decoys);
	for (size_t i = 0; e->argv && e->argv[i]; i++)
		free(e->argv[i]);
	free(e->argv);
	free(e->trace_path);
	free(e->home);
	free(e);
}

void engine_set_live(struct engine *e, bool live)
{
	e->live = live;
}

void engine_set_next_command_role(struct engine *e, enum role role)
{
	e->next_top_role = role < ROLE_COUNT ? role : ROLE_NONE;
}

void engine_set_replay(struct engine *e, bool replay)
{
	e->replay = replay;
}

void engine_set_command(struct engine *e, const char *const *argv)
{
	size_t n = 0;

	for (size_t i = 0; e->argv && e->argv[i]; i++)
		free(e->argv[i]);
	free(e->argv);
	while (argv && argv[n])
		n++;
	e->argv = xcalloc(n + 1, sizeof(*e->argv));
	for (size_t i = 0; i < n; i++)
		e->argv[i] = xstrdup(argv[i]);
}

void engine_set_kill(struct engine *e, engine_kill_fn fn, void *ctx)
{
	e->kill = fn;
	e->kill_ctx = ctx;
}

void engine_set_trace(struct engine *e, struct trace_writer *w)
{
	e->trace = w;
}

static void decoy_expand(const struct engine *e, struct edecoy *d)
{
	const char *home = e->home ? e->home : e->p ? e->p->vars[VAR_HOME] : NULL;
	const char *where = d->where;

	free(d->path);
	d->path = NULL;
	if (where[0] == '~' && where[1] == '/')
		d->path = home ? xasprintf("%s%s", strcmp(home, "/") ? home : "", where + 1) : NULL;
	else if (where[0] == '/')
		d->path = xstrdup(where);
}

void engine_set_home(struct engine *e, const char *home)
{
	free(e->home);
	e->home = home ? xstrdup(home) : NULL;
	for (size_t i = 0; i < e->n_decoys; i++)
		decoy_expand(e, &e->decoys[i]);
}

void engine_add_decoy(struct engine *e, const char *where, const char *token)
{
	struct edecoy *d;

	if (!where || !token)
		return;
	e->decoys = xrealloc(e->decoys, (e->n_decoys + 1) * sizeof(*e->decoys));
	d = &e->decoys[e->n_decoys++];
	d->where = xstrdup(where);
	d->token = xstrdup(token);
	d->path = NULL;
	decoy_expand(e, d);
}

const struct proc_info *engine_proc(const struct engine *e, uint32_t hpid)
{
	struct proc *pr = proc_get((struct engine *)e, hpid);

	return pr ? &pr->info : NULL;
}

/* ---- events --------------------------------------------------------------------------- */

static void count_kind(struct engine *e, const char *kind)
{
	for (unsigned i = 0; i < e->n_kinds; i++) {
		if (!strcmp(e->kinds[i].name, kind)) {
			e->kinds[i].n++;
			return;
		}
	}
	if (e->n_kinds < ENGINE_MAX_KINDS && strlen(kind) < sizeof(e->kinds[0].name)) {
		snprintf(e->kinds[e->n_kinds].name, sizeof(e->kinds[0].name), "%s", kind);
		e->kinds[e->n_kinds++].n = 1;
	} else {
		e->other_kinds++;
	}
}

void engine_annotate(const struct engine *e, struct trace_event *ev)
{
	struct proc *pr = proc_get((struct engine *)e, ev->hpid);

	ev->role = ev->package = ev->hook = NULL;
	if (!pr || pr->info.role == ROLE_NONE)
		return;
	ev->role = role_name(pr->info.role);
	ev->package = pr->package;
	ev->hook = pr->hook;
}

/* A kill can lose the race with a process that is already on its way out:
 * the signal is accepted and does nothing (a hook that wrote ~/.bashrc and
 * returned).  Its exit says what happened; a process that did not die of
 * SIGKILL was not killed, whatever the kill call returned. */
static void reconcile_kills(struct engine *e, struct proc *pr, const struct trace_event *ev)
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

void engine_event(struct engine *e, const struct trace_event *ev)
{
	struct proc *pr;
	enum role before;
	const char *kind = ev->kind ? ev->kind : "unknown";

	e->events++;
	count_kind(e, kind);
	if (!e->t_first || ev->t_mono_ns < e->t_first)
		e->t_first = ev->t_mono_ns;
	if (ev->t_mono_ns > e->t_last)
		e->t_last = ev->t_mono_ns;
	pr = proc_lookup_or_new(e, ev);
	before = pr->info.role;
	/* An exec re-classifies first: its line in the trace carries the new
	 * role, and a violation names the program that was started. */
	proctree_event(e, ev, pr);
	if (!strcmp(kind, "exit") && !ev->thread)
		reconcile_kills(e, pr, ev);
	writers_event(e, ev);
	pr->events++;
	if (pr->pkg >= 0)
		e->pkgs[pr->pkg].events++;
	proctree_learn_name(e, pr, ev);
	if (e->trace) {
		struct trace_event copy = *ev;

		engine_annotate(e, &copy);
		trace_write_event(e->trace, &copy);
	}
	if (e->note_pending) {
		proctree_emit_note(e, e->note_pending, e->note_source);
		e->note_pending = NULL;
	}
	/* An exec is judged by the rules of the role that called it. */
	match_event(e, pr, ev, !strcmp(kind, "exec") ? before : pr->info.role);
}

void engine_on_event(const struct trace_event *ev, void *ctx)
{
	engine_event(ctx, ev);
}

void engine_note(struct engine *e, const cJSON *note)
{
	proctree_apply_note(e, note);
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

void engine_set_outcome(struct engine *e, const struct engine_outcome *o)
{
	e->out = *o;
	free(e->trace_path);
	e->trace_path = o->trace_path ? xstrdup(o->trace_path) : NULL;
	e->out.trace_path = e->trace_path;
	e->have_outcome = true;
}

void engine_set_baseline(struct engine *e, engine_baseline_fn fn, void *ctx)
{
	e->baseline = fn;
	e->baseline_ctx = ctx;
}

const char *engine_decoy(const struct engine *e, size_t i, const char **where)
{
	if (i >= e->n_decoys)
		return NULL;
	if (where)
		*where = e->decoys[i].where;
	return e->decoys[i].token;
}

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

bool engine_enforcing(const struct engine *e)
{
	return e->enforce;
}

const struct profile *engine_profile(const struct engine *e)
{
	return e->p;
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

size_t engine_n_pkgs(const struct engine *e) { return e->n_pkgs; }
const struct pkg *engine_pkg(const struct engine *e, size_t i) { return i < e->n_pkgs ? &e->pkgs[i] : NULL; }
uint64_t engine_events(const struct engine *e) { return e->events; }
const struct engine_outcome *engine_outcome(const struct engine *e) { return &e->out; }
bool engine_is_replay(const struct engine *e) { return e->replay; }

void engine_get_counts(const struct engine *e, struct engine_counts *c)
{
	*c = (struct engine_counts){ .events = e->events, .kinds = e->kinds, .n_kinds = e->n_kinds,
				     .other_kinds = e->other_kinds, .refused = e->refused,
				     .probes = e->probes };
}

char *const *engine_command(const struct engine *e) { return e->argv; }
const char *engine_trace_path(const struct engine *e) { return e->trace_path; }
