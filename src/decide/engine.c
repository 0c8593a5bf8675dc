/* The engine's front: its life cycle and settings, each event in (the
 * process tree first, then the writers of paths, the annotated trace line,
 * then the judgement of match.c), and what the reports read back.  The
 * violations, their actions and the verdict are verdict.c's. */
#include "decide/engine_priv.h"

#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "base/base.h"

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

void engine_free(struct engine *e)
{
	if (!e)
		return;
	verdict_free(e);
	proctree_free(e);
	links_free(e);
	engine_compiled_free(e);
	for (size_t i = 0; i < e->n_decoys; i++) {
		free(e->decoys[i].where);
		free(e->decoys[i].path);
		free(e->decoys[i].token);
		free(e->decoys[i].env_entry);
	}
	free(e->decoys);
	decoy_scanner_free(e->scanner);
	envseen_free(e);
	for (size_t i = 0; e->argv && e->argv[i]; i++)
		free(e->argv[i]);
	free(e->argv);
	free(e->trace_path);
	free(e->home);
	free(e->trace_env);
	unix_trees_free(e);
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
	memset(d, 0, sizeof(*d));
	d->where = xstrdup(where);
	d->token = xstrdup(token);
	d->env_entry = where[0] == '$' ? xasprintf("%s=%s", where + 1, token) : NULL;
	decoy_expand(e, d);
	decoy_scanner_free(e->scanner);
	e->scanner = NULL;
	envseen_free(e);  /* clean of the old tokens, maybe not of this one */
}

void engine_set_decoy_file(struct engine *e, const char *where, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < e->n_decoys; i++) {
		struct edecoy *d = &e->decoys[i];
		char num[24];
		cJSON *f;

		if (strcmp(d->where, where) || !d->path)
			continue;
		d->dev = dev;
		d->ino = ino;
		d->has_ino = true;
		if (!e->trace)
			return;
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "where", where);
		snprintf(num, sizeof(num), "%u:%u", major(dev), minor(dev));
		cJSON_AddStringToObject(f, "dev", num);
		cJSON_AddNumberToObject(f, "ino", (double)ino);
		trace_write_note(e->trace, "decoy_file", f);
		cJSON_Delete(f);
		return;
	}
}

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

/* ---- events --------------------------------------------------------------------------- */

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

/* The entries of an exec's environment that its trace line keeps
 * (match_env_entry_matters): what replay needs to judge it again. */
static const char *const *trace_env(struct engine *e, const char *const *env)
{
	size_t n = 0, k = 0;

	if (!env)
		return NULL;
	while (env[n])
		n++;
	if (e->trace_env_cap < n + 1) {
		e->trace_env_cap = n + 1;
		e->trace_env = xrealloc(e->trace_env, e->trace_env_cap * sizeof(*e->trace_env));
	}
	for (size_t i = 0; i < n; i++)
		if (match_env_entry_matters(e, env[i]))
			e->trace_env[k++] = env[i];
	e->trace_env[k] = NULL;
	return e->trace_env;
}

void engine_event(struct engine *e, const struct trace_event *ev)
{
	struct proc *pr;
	enum role before;
	const char *kind = ev->kind ? ev->kind : "unknown";

	e->events++;
	trace_count_kind(e->kinds, ENGINE_MAX_KINDS, &e->n_kinds, &e->other_kinds, kind);
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
		verdict_process_exited(e, pr, ev);
	outlive_event(e, pr, ev);
	writers_event(e, ev);
	probe_reads_event(e, pr, ev);
	links_event(e, ev);
	pr->events++;
	if (pr->pkg >= 0)
		e->pkgs[pr->pkg].events++;
	proctree_learn_name(e, pr, ev);
	if (e->trace) {
		struct trace_event copy = *ev;

		engine_annotate(e, &copy);
		copy.env = trace_env(e, ev->env);
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
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(note, "kind");
	const cJSON *where = cJSON_GetObjectItemCaseSensitive(note, "where");
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(note, "dev");
	const cJSON *ino = cJSON_GetObjectItemCaseSensitive(note, "ino");
	unsigned maj, min;

	if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "decoy_file")) {
		if (cJSON_IsString(where) && cJSON_IsString(dev) && cJSON_IsNumber(ino) &&
		    sscanf(dev->valuestring, "%u:%u", &maj, &min) == 2 && ino->valuedouble >= 0)
			engine_set_decoy_file(e, where->valuestring, makedev(maj, min),
					      (uint64_t)ino->valuedouble);
		return;
	}
	proctree_apply_note(e, note);
}

/* ---- what the reports read ------------------------------------------------------- */

const struct proc_info *engine_proc(const struct engine *e, uint32_t hpid)
{
	struct proc *pr = proc_get((struct engine *)e, hpid);

	return pr ? &pr->info : NULL;
}

const char *engine_decoy(const struct engine *e, size_t i, const char **where)
{
	if (i >= e->n_decoys)
		return NULL;
	if (where)
		*where = e->decoys[i].where;
	return e->decoys[i].token;
}

bool engine_enforcing(const struct engine *e)
{
	return e->enforce;
}

const struct profile *engine_profile(const struct engine *e)
{
	return e->p;
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
