/* Names of path-only calls (unlink, rename, mkdir, symlink, link, chmod and
 * chown by path, truncate, mknod) as the jail resolves them.  For these the
 * kernel gives no file: the monitor walks, in the kernel, the directory a
 * relative name starts from (the cwd or the dirfd), and the rest of the
 * name is as written.  There is no tracepoint inside the kernel's path
 * walk, and the LSM hooks that see the resolved parent (security_path_*)
 * need fentry or BPF LSM, which a kernel may refuse to load (this one
 * does: `pipjail doctor`).  So the rest is resolved here, against what
 * the jail can make: /proc/self/root (the jail's own root: chroot is
 * refused) and the symlinks the run itself created (every symlink call is
 * traced; a run that lost events is "incomplete" anyway).  The symlinks of
 * the host are the host's (read-only) and the rules name both sides of its
 * usual ones (/bin and /usr/bin).  The last component is not followed: the
 * calls that act on a name act on the link itself (unlink, rename,
 * symlink, mkdir); chmod and truncate by path follow it, and a symlink
 * there is judged by its name. */
#include "decide/engine_priv.h"

#include <limits.h>
#include <string.h>

#include "base/base.h"

#define LINKS_MAX 100000      /* symlinks remembered: past this, names are taken as written */
#define LINK_HOPS 40          /* as the kernel's own limit (ELOOP) */

struct link {
	struct link *next;
	uint64_t hash;
	char *path, *target;
};

static uint64_t hash_of(const char *p, size_t n)
{
	return fnv1a(FNV1A_INIT, p, n);
}

static struct link **slot_of(struct engine *e, const char *p, size_t n, uint64_t h)
{
	struct link **pp;

	if (!e->links_n)
		return NULL;
	for (pp = &e->links[h & (e->links_n - 1)]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && !strncmp((*pp)->path, p, n) && !(*pp)->path[n])
			return pp;
	return pp;
}

static void forget(struct engine *e, const char *path)
{
	uint64_t h = hash_of(path, strlen(path));
	struct link **pp = slot_of(e, path, strlen(path), h), *l;

	if (!pp || !*pp)
		return;
	l = *pp;
	*pp = l->next;
	free(l->path);
	free(l->target);
	free(l);
	e->links_count--;
}

static void remember(struct engine *e, const char *path, const char *target)
{
	uint64_t h = hash_of(path, strlen(path));
	struct link **pp, *l;

	if (!e->links_n) {
		e->links_n = 1024;
		e->links = xcalloc(e->links_n, sizeof(*e->links));
	}
	pp = slot_of(e, path, strlen(path), h);
	if (*pp) {
		free((*pp)->target);
		(*pp)->target = xstrdup(target);
		return;
	}
	if (e->links_count >= LINKS_MAX) {
		e->links_full = true;
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->hash = h;
	l->path = xstrdup(path);
	l->target = xstrdup(target);
	*pp = l;
	e->links_count++;
}

void links_event(struct engine *e, const struct trace_event *ev)
{
	const char *k = ev->kind;

	if (!k || !ev->has_ret || ev->ret < 0 || !ev->abs)
		return;
	if (!strcmp(k, "symlink") && ev->str) {
		char buf[PATH_MAX * 2];
		const char *at = links_resolve(e, ev->abs, buf, sizeof(buf));

		remember(e, at ? at : ev->abs, ev->str);
	} else if (!strcmp(k, "unlink") || !strcmp(k, "rmdir")) {
		forget(e, ev->abs);
	} else if (!strcmp(k, "rename") && ev->abs2) {
		uint64_t h = hash_of(ev->abs, strlen(ev->abs));
		struct link **pp = slot_of(e, ev->abs, strlen(ev->abs), h);
		autofree char *target = pp && *pp ? xstrdup((*pp)->target) : NULL;

		forget(e, ev->abs2);
		forget(e, ev->abs);
		if (target)
			remember(e, ev->abs2, target);
	}
}

/* /proc/self/root, /proc/thread-self/root, /proc/PID/root: the jail's root. */
static const char *past_proc_root(const char *p)
{
	const char *q;

	if (strncmp(p, "/proc/", 6))
		return p;
	q = p + 6;
	if (!strncmp(q, "self/", 5))
		q += 5;
	else if (!strncmp(q, "thread-self/", 12))
		q += 12;
	else if (*q >= '0' && *q <= '9') {
		while (*q >= '0' && *q <= '9')
			q++;
		if (*q++ != '/')
			return p;
	} else {
		return p;
	}
	if (strncmp(q, "root", 4) || (q[4] && q[4] != '/'))
		return p;
	return q[4] ? q + 4 : "/";
}

const char *links_resolve(struct engine *e, const char *name, char *out, size_t len)
{
	char cur[PATH_MAX * 2], next[PATH_MAX * 2];
	bool changed = false;

	if (!name || name[0] != '/' || strlen(name) >= sizeof(cur))
		return NULL;
	snprintf(cur, sizeof(cur), "%s", past_proc_root(name));
	changed = strcmp(cur, name) != 0;
	for (int hop = 0; hop < LINK_HOPS && e->links_count; hop++) {
		const char *last = strrchr(cur, '/'), *s = cur;
		struct link **pp = NULL;
		size_t n = 0;

		/* the first directory along the name that is a symlink of the run,
		 * as the kernel's walk meets them */
		while (!pp && (s = strchr(s + 1, '/')) && s <= last) {
			n = (size_t)(s - cur);
			pp = slot_of(e, cur, n, hash_of(cur, n));
			if (pp && !*pp)
				pp = NULL;
		}
		if (!pp)
			break;
		if ((*pp)->target[0] == '/') {
			snprintf(next, sizeof(next), "%s%s", (*pp)->target, cur + n);
		} else {
			const char *parent = memrchr(cur, '/', n);

			snprintf(next, sizeof(next), "%.*s/%s%s", (int)(parent - cur), cur, (*pp)->target,
				 cur + n);
		}
		if (path_clean_abs(cur, sizeof(cur), "/", past_proc_root(next)) != 0)
			return NULL;
		changed = true;
	}
	if (!changed)
		return NULL;
	snprintf(out, len, "%s", cur);
	return out;
}

void links_free(struct engine *e)
{
	for (size_t i = 0; i < e->links_n; i++) {
		for (struct link *l = e->links[i], *next; l; l = next) {
			next = l->next;
			free(l->path);
			free(l->target);
			free(l);
		}
	}
	free(e->links);
	e->links = NULL;
	e->links_n = e->links_count = 0;
}
