/* Unix sockets of the jail's own: which socket names a connect or a
 * datagram may reach without being a network violation.  The supervisor
 * hands the engine the trees the unix guard (or the jail's hiding) works
 * with (engine_set_unix_trees); on_net (match.c) asks unix_inside(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "decide/engine_priv.h"


void engine_set_unix_trees(struct engine *e, enum engine_unix_mode mode,
			   const struct engine_unix_tree *trees, size_t n)
{
	unix_trees_free(e);
	e->unix_mode = mode;
	e->unix_trees = xcalloc(n ? n : 1, sizeof(*e->unix_trees));
	for (size_t i = 0; i < n; i++) {
		if (!trees[i].path)
			continue;
		e->unix_trees[e->n_unix_trees].path = xstrdup(trees[i].path);
		e->unix_trees[e->n_unix_trees++].own = trees[i].own;
	}
}

void unix_trees_free(struct engine *e)
{
	for (size_t i = 0; i < e->n_unix_trees; i++)
		free((char *)e->unix_trees[i].path);
	free(e->unix_trees);
	e->unix_trees = NULL;
	e->n_unix_trees = 0;
	e->unix_mode = ENGINE_UNIX_UNKNOWN;
}

const char *engine_unix_mode_name(enum engine_unix_mode mode)
{
	return mode == ENGINE_UNIX_GUARD ? "kernel" : mode == ENGINE_UNIX_HIDDEN ? "hidden" : NULL;
}

enum engine_unix_mode engine_unix_mode_from_name(const char *name)
{
	if (name && !strcmp(name, "kernel"))
		return ENGINE_UNIX_GUARD;
	if (name && !strcmp(name, "hidden"))
		return ENGINE_UNIX_HIDDEN;
	return ENGINE_UNIX_UNKNOWN;
}

/* Is a socket name in a tree of the jail's own: 1 yes, 0 no, -1 cannot
 * tell (a relative name: the monitor does not record the directory).  The
 * guard's rule: the name made normal, the longest tree that holds it. */
static int unix_own(const struct engine *e, const char *name)
{
	const struct engine_unix_tree *best = NULL;
	char clean[4096];

	if (name[0] != '/')
		return -1;
	if (path_clean_abs(clean, sizeof(clean), "/", name) < 0)
		return 0;
	for (size_t i = 0; i < e->n_unix_trees; i++) {
		const struct engine_unix_tree *t = &e->unix_trees[i];

		if (path_is_under(clean, t->path) && (!best || strlen(t->path) > strlen(best->path)))
			best = t;
	}
	return best && best->own;
}

/* A unix connect or datagram that is no network violation: one that
 * reached only the jail's own sockets.  *guarded: the guard refused it. */
bool unix_inside(const struct engine *e, const struct trace_event *ev, bool *guarded)
{
	int er = ev_errno(ev);

	*guarded = false;
	if (e->unix_mode == ENGINE_UNIX_UNKNOWN)
		return false;
	if (ev->addr[0] == '@')
		/* abstract: only this net namespace's (the jail's own), and
		 * Landlock's scope refuses (EPERM) a socket of another domain */
		return er != EPERM;
	if (e->unix_mode == ENGINE_UNIX_GUARD) {
		/* the guard refused every name outside the jail's own trees
		 * before the lookup; an EPERM below one of them is the kernel's
		 * (a datagram socket connected to another) */
		*guarded = er == EPERM && unix_own(e, ev->addr) != 1;
		return !*guarded;
	}
	return unix_own(e, ev->addr) == 1;
}
