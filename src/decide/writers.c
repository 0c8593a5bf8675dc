/* Who wrote a path: the last process of the run that created, changed,
 * removed or renamed it, so that the staging check can blame a finding on
 * a build (engine_writer_of).  A hash table of paths with an age list: at
 * most writers_max entries or ENGINE_WRITERS_MAX_BYTES of paths, the
 * oldest forgotten first.  Fed by every event that happened (live and in
 * replay). */
#include "decide/engine_priv.h"

#include <string.h>

#include "base/base.h"

static uint64_t path_hash(const char *p, size_t len)
{
	return fnv1a(FNV1A_INIT, p, len);
}

static struct writer *writer_find(const struct engine *e, const char *p, size_t len, uint64_t h)
{
	if (!e->wbuckets_n)
		return NULL;
	for (struct writer *w = e->wbuckets[h & (e->wbuckets_n - 1)]; w; w = w->chain)
		if (w->hash == h && w->len == len && !memcmp(w->path, p, len))
			return w;
	return NULL;
}

static void age_unlink(struct engine *e, struct writer *w)
{
	if (w->older)
		w->older->newer = w->newer;
	else
		e->woldest = w->newer;
	if (w->newer)
		w->newer->older = w->older;
	else
		e->wnewest = w->older;
	w->older = w->newer = NULL;
}

static void age_append(struct engine *e, struct writer *w)
{
	w->older = e->wnewest;
	w->newer = NULL;
	if (e->wnewest)
		e->wnewest->newer = w;
	else
		e->woldest = w;
	e->wnewest = w;
}

/* Forget the oldest entry: the table is full. */
static void writer_evict_oldest(struct engine *e)
{
	struct writer *w = e->woldest, **pp;

	if (!w)
		return;
	age_unlink(e, w);
	for (pp = &e->wbuckets[w->hash & (e->wbuckets_n - 1)]; *pp != w; pp = &(*pp)->chain)
		;
	*pp = w->chain;
	e->n_writers--;
	e->writer_bytes -= w->len;
	if (!e->writers_evicted++)
		debugx(1, "engine: more than %zu written paths (or %u bytes of them): forgetting the oldest",
		       e->writers_max, ENGINE_WRITERS_MAX_BYTES);
	free(w);
}

static void writer_grow(struct engine *e)
{
	size_t n = e->wbuckets_n ? e->wbuckets_n * 2 : 1024;
	struct writer **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < e->wbuckets_n; i++) {
		struct writer *w = e->wbuckets[i], *next;

		for (; w; w = next) {
			next = w->chain;
			w->chain = b[w->hash & (n - 1)];
			b[w->hash & (n - 1)] = w;
		}
	}
	free(e->wbuckets);
	e->wbuckets = b;
	e->wbuckets_n = n;
}

static void writer_set(struct engine *e, const char *path, uint32_t hpid, bool renamed)
{
	size_t len;
	uint64_t h;
	struct writer *w;

	if (!path || path[0] != '/' || !hpid)
		return;
	len = strlen(path);
	h = path_hash(path, len);
	w = writer_find(e, path, len, h);
	if (w) {
		/* Written again: now the newest. */
		age_unlink(e, w);
		age_append(e, w);
		w->hpid = hpid;
		w->renamed = renamed;
		return;
	}
	while (e->n_writers && (e->n_writers >= e->writers_max ||
				e->writer_bytes + len > ENGINE_WRITERS_MAX_BYTES))
		writer_evict_oldest(e);
	if (e->n_writers + 1 > e->wbuckets_n)
		writer_grow(e);
	w = xmalloc(sizeof(*w) + len + 1);
	w->hash = h;
	w->hpid = hpid;
	w->renamed = renamed;
	w->len = len;
	memcpy(w->path, path, len + 1);
	w->chain = e->wbuckets[h & (e->wbuckets_n - 1)];
	e->wbuckets[h & (e->wbuckets_n - 1)] = w;
	age_append(e, w);
	e->n_writers++;
	e->writer_bytes += len;
}

/* The path an fd-or-path event names: abs, and the file really reached
 * when that is another name (a symlink on the way). */
static void writer_set_both(struct engine *e, const struct trace_event *ev)
{
	writer_set(e, ev->abs, ev->hpid, false);
	if (ev->file && (!ev->abs || strcmp(ev->file, ev->abs)))
		writer_set(e, ev->file, ev->hpid, false);
}

void writers_event(struct engine *e, const struct trace_event *ev)
{
	const char *k = ev->kind;

	/* Only calls that happened: a refused or failed call changed nothing. */
	if (!k || ev->refused || (ev->has_ret && ev->ret < 0))
		return;
	if (!strcmp(k, "open")) {
		if (trace_open_bits(ev->flags) & TOB_WRITES)
			writer_set_both(e, ev);
	} else if (!strcmp(k, "mkdir") || !strcmp(k, "mknod") || !strcmp(k, "symlink") ||
		   !strcmp(k, "unlink") || !strcmp(k, "rmdir")) {
		writer_set(e, ev->abs, ev->hpid, false);
	} else if (!strcmp(k, "truncate")) {
		writer_set_both(e, ev);
	} else if (!strcmp(k, "link")) {
		writer_set(e, ev->abs2, ev->hpid, false);
	} else if (!strcmp(k, "rename")) {
		/* The old name is gone (a removal), the new one is what was moved. */
		writer_set(e, ev->abs, ev->hpid, false);
		writer_set(e, ev->abs2, ev->hpid, true);
	}
}

uint32_t engine_writer_of(const struct engine *e, const char *abs_path)
{
	size_t len;
	struct writer *w;

	if (!e || !abs_path || abs_path[0] != '/')
		return 0;
	len = strlen(abs_path);
	w = writer_find(e, abs_path, len, path_hash(abs_path, len));
	if (w)
		return w->hpid;
	/* No write under this name: it may have come inside a directory that
	 * was written elsewhere and renamed into place.  The nearest ancestor
	 * with an entry says; only a rename makes it the answer. */
	while (len > 1) {
		while (len > 0 && abs_path[len - 1] != '/')
			len--;
		if (len > 1)
			len--;  /* drop the '/' */
		if (len <= 1)
			break;
		w = writer_find(e, abs_path, len, path_hash(abs_path, len));
		if (w)
			return w->renamed ? w->hpid : 0;
	}
	return 0;
}

/* ---- what the start-up probe opened ---------------------------------------------------- */

static size_t probe_slot(char *const *v, size_t cap, const char *p)
{
	size_t len = strlen(p), i = (size_t)path_hash(p, len) & (cap - 1);

	while (v[i] && strcmp(v[i], p))
		i = (i + 1) & (cap - 1);
	return i;
}

static void probe_add(struct engine *e, const char *p)
{
	size_t i;

	if (!p || p[0] != '/')
		return;
	if ((e->probe_n + 1) * 2 > e->probe_cap) {
		size_t cap = e->probe_cap ? e->probe_cap * 2 : 1024;
		char **v = xcalloc(cap, sizeof(*v));

		for (size_t k = 0; k < e->probe_cap; k++)
			if (e->probe_paths[k])
				v[probe_slot(v, cap, e->probe_paths[k])] = e->probe_paths[k];
		free(e->probe_paths);
		e->probe_paths = v;
		e->probe_cap = cap;
	}
	i = probe_slot(e->probe_paths, e->probe_cap, p);
	if (!e->probe_paths[i]) {
		e->probe_paths[i] = xstrdup(p);
		e->probe_n++;
	}
}

void probe_reads_event(struct engine *e, const struct proc *pr, const struct trace_event *ev)
{
	const char *k = ev->kind;

	if (!pr->probe || !k || ev->refused || (ev->has_ret && ev->ret < 0))
		return;
	/* An open for reading (or writing: the import role's rules judge
	 * that) or a program started: the name it used and the file the
	 * kernel reached. */
	if (strcmp(k, "open") && strcmp(k, "exec"))
		return;
	probe_add(e, ev->abs);
	probe_add(e, ev->file);
}

bool engine_probe_opened(const struct engine *e, const char *abs_path)
{
	if (!e || !abs_path || !e->probe_cap)
		return false;
	return e->probe_paths[probe_slot(e->probe_paths, e->probe_cap, abs_path)] != NULL;
}

size_t engine_probe_count(const struct engine *e)
{
	return e ? e->probe_n : 0;
}

void writers_free(struct engine *e)
{
	for (size_t k = 0; k < e->probe_cap; k++)
		free(e->probe_paths[k]);
	free(e->probe_paths);
	e->probe_paths = NULL;
	e->probe_cap = e->probe_n = 0;
	struct writer *w = e->woldest, *next;

	for (; w; w = next) {
		next = w->newer;
		free(w);
	}
	free(e->wbuckets);
	e->wbuckets = NULL;
	e->wbuckets_n = 0;
	e->woldest = e->wnewest = NULL;
	e->n_writers = e->writer_bytes = 0;
}
