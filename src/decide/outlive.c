/* A process that outlives the build hook that started it (rule
 * outlived-build).  pip runs each PEP 517 hook, or each legacy setup.py
 * command, in a process of its own and waits for it; what that process
 * started and did not wait for (a setsid daemon, a double fork, a child
 * reparented to the jail's init) keeps running while pip installs, and can
 * rewrite what pip writes (docs/staging.md).  When a hook's process exits,
 * every process still alive that descends from it is a violation of its
 * role's rules (killed in enforce mode), unless it is, or was started by, a
 * build server the profile names by the absolute path of its program
 * ("build_servers": a file on the host, read-only in the jail; a name or
 * an argv is the package's to choose, a program's path is not). */
#include "decide/engine_priv.h"

#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define OUTLIVE_MAX_DEPTH 512

static bool in_build(const struct proc *p)
{
	return p->info.role == ROLE_BUILD || p->info.role == ROLE_TOOL;
}

/* The hook process p descends from (p itself when it is one): the first
 * process of role build whose parent is not a build's; NULL when p is not
 * a build's. */
static struct proc *hook_of(struct engine *e, struct proc *p)
{
	for (int depth = 0; p && depth < OUTLIVE_MAX_DEPTH; depth++) {
		struct proc *up;

		if (!in_build(p))
			return NULL;
		up = p->info.hppid ? proc_get(e, p->info.hppid) : NULL;
		if (p->info.role == ROLE_BUILD && (!up || !in_build(up)))
			return p;
		p = up;
	}
	return NULL;
}

static bool is_server(const struct engine *e, const struct proc *p)
{
	const struct pattern_list *l = e->p ? &e->p->build_servers : NULL;

	if (!l || !p->info.execd || !p->exe)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].text, p->exe))
			return true;
	return false;
}

/* p, or a process between it and its hook, is a build server the profile
 * names. */
static bool served(struct engine *e, struct proc *p, const struct proc *hook)
{
	for (int depth = 0; p && p != hook && depth < OUTLIVE_MAX_DEPTH; depth++) {
		if (is_server(e, p))
			return true;
		p = p->info.hppid ? proc_get(e, p->info.hppid) : NULL;
	}
	return false;
}

static void report(struct engine *e, struct proc *p, const struct proc *hook, const struct trace_event *ev)
{
	const char *prog = p->prog ? p->prog : p->exe ? p->exe : p->comm ? p->comm : "?";
	autofree char *evidence = xasprintf("pid %u (%s) was still running when its build hook %s "
					    "(pid %u) returned; %llu events of its own so far",
					    p->info.pid, prog, hook->label ? hook->label : "?",
					    hook->info.pid, (unsigned long long)p->events);
	struct violation_in in = {
		.rule = "outlived-build", .kind = "process", .evidence = evidence,
		.detail = "a process that a build starts must end before the hook returns; a long-running "
			  "build server is allowed by the profile's build_servers (the absolute path of "
			  "its program)",
		.dedupe = "outlived", .ev = ev, .action = e->roles[p->info.role].action, .role = -1,
	};

	verdict_add(e, p, &in);
}

/* A process alive when its hook returned gets a grace of OUTLIVE_GRACE_NS
 * to end on its own, doing nothing: helpers that end when their parent's
 * pipe closes (multiprocessing's forkserver and resource tracker) are
 * still there for a moment after the hook.  It is reported as soon as it
 * does anything of its own in that time (any traced call: a daemon acts),
 * when the grace is over and it is still alive, or when it was killed at
 * the end (it lived until the jail's cleanup). */
#define OUTLIVE_GRACE_NS 1000000000ull

static void outliving_report(struct engine *e, struct proc *q, const struct trace_event *ev)
{
	struct proc *hook = proc_get(e, q->outlive_hook);

	q->outlive_since = 0;
	if (e->n_outliving)
		e->n_outliving--;
	if (hook)
		report(e, q, hook, ev);
}

/* Processes whose grace is over at the event's time, still alive.  The
 * process table is walked only once the earliest grace is over, not at
 * every event. */
static void outliving_expired(struct engine *e, const struct trace_event *ev)
{
	uint64_t first = 0;

	if (ev->t_mono_ns <= e->outlive_first + OUTLIVE_GRACE_NS)
		return;
	for (size_t i = 0; i < e->procs_cap && e->n_outliving; i++) {
		struct proc *q = e->procs[i];

		if (!q || !q->outlive_since || q->info.exited)
			continue;
		if (ev->t_mono_ns > q->outlive_since + OUTLIVE_GRACE_NS)
			outliving_report(e, q, ev);
		else if (!first || q->outlive_since < first)
			first = q->outlive_since;
	}
	e->outlive_first = first;
}

void outlive_event(struct engine *e, struct proc *pr, const struct trace_event *ev)
{
	const char *k = ev->kind;

	if (!k)
		return;
	if (pr->outlive_since) {
		if (strcmp(k, "exit") != 0 || ev->signal)
			outliving_report(e, pr, ev);   /* it acted, or lived to be killed */
		else if (!ev->thread) {
			pr->outlive_since = 0;         /* it ended on its own, in time */
			if (e->n_outliving)
				e->n_outliving--;
		}
	}
	if (e->n_outliving)
		outliving_expired(e, ev);
	if (ev->thread)
		return;
	if (!strcmp(k, "exit")) {
		/* A hook returned: what it started and is still alive outlives it,
		 * from now (its grace, above).  A hook that pipjail killed leaves
		 * its children to the end of the command, not to a finding of
		 * their own. */
		if (pr->info.role != ROLE_BUILD || hook_of(e, pr) != pr || pr->info.killed)
			return;
		for (size_t i = 0; i < e->procs_cap; i++) {
			struct proc *q = e->procs[i];

			if (q && q != pr && !q->info.exited && !q->info.killed && !q->outlive_since &&
			    hook_of(e, q) == pr && !served(e, q, pr)) {
				q->outlive_since = ev->t_mono_ns ? ev->t_mono_ns : 1;
				q->outlive_hook = pr->info.hpid;
				if (!e->n_outliving++ || q->outlive_since < e->outlive_first)
					e->outlive_first = q->outlive_since;
			}
		}
	} else if (!strcmp(k, "fork") && ev->child_hpid && ev->child_hpid != ev->hpid) {
		/* A process started by one that outlived its hook outlives it too. */
		struct proc *child = proc_get(e, ev->child_hpid), *hook = child ? hook_of(e, child) : NULL;

		if (hook && hook->info.exited && !hook->info.killed && !served(e, child, hook))
			report(e, child, hook, ev);
	}
}
