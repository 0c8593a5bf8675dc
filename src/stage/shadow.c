/* Staged install: a module of this run that stands in for a module of
 * another distribution without changing a byte of it.  Python's import
 * system resolves a name by where it looks first: in one directory a
 * package directory before an extension module before a .py, and a
 * regular package or a module before a namespace portion; a console
 * script's own directory (bin/) before everything.  So a new file can
 * take over another distribution's import by its name and place alone.
 * Ownership comes from the distributions' manifests in the lower layer
 * (s->owned) and the directories from the target itself (s->target_fd:
 * the lower layer, which the run cannot change). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/internal.h"

/* The owner of path in the lower layer when it is a distribution other
 * than ddist's (by name: a new version of the same distribution may move
 * its own files), else -1. */
static int other_owner(struct stage *s, const char *path, int ddist)
{
	struct pmap_ent *own = pmap_find(&s->owned, path);

	return own && own->dist != ddist && strcmp(s->dists[own->dist].norm, s->dists[ddist].norm) ?
	       own->dist : -1;
}

int stage_foreign_package_owner(struct stage *s, const char *rel, int ddist)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", rel) >= (int)sizeof(dir))
		return -1;
	while ((slash = strrchr(dir, '/'))) {
		char init[PATH_MAX + 16];

		*slash = '\0';
		if (ends_with(dir, "-packages"))
			break;
		snprintf(init, sizeof(init), "%s/__init__.py", dir);
		if (pmap_find(&s->owned, init))
			return other_owner(s, init, ddist);
	}
	return -1;
}

/* Another distribution that owns a file below the directory prefix
 * (ending in '/'), or -1.  A walk of the whole map: only called for a
 * directory the lower layer has under a module's name. */
static int other_owner_below(struct stage *s, const char *prefix, int ddist)
{
	size_t n = strlen(prefix);

	for (size_t k = 0; k < s->owned.cap; k++) {
		const struct pmap_ent *e = &s->owned.v[k];

		if (e->key && !strncmp(e->key, prefix, n) && e->dist != ddist &&
		    strcmp(s->dists[e->dist].norm, s->dists[ddist].norm))
			return e->dist;
	}
	return -1;
}

/* The module a file defines, where names are imported from (a site
 * directory, a package below one, or bin/): "D/NAME.py", "D/NAME.<tag>.so",
 * "D/NAME/__init__.py" (or __init__.<tag>.so) give D (its length in rel)
 * and NAME.  False for anything else. */
static bool module_of(const char *rel, int *dir_len, const char **name, int *name_len)
{
	const char *base = basename_of(rel);

	if ((!strstr(rel, "-packages/") && strncmp(rel, "bin/", 4)) ||
	    (!ends_with(base, ".py") && !ends_with(base, ".so")))
		return false;
	if (!strncmp(base, "__init__.", 9)) {
		const char *pkg_end = base - 1, *pkg = pkg_end;

		while (pkg > rel && pkg[-1] != '/')
			pkg--;
		if (pkg == rel)
			return false;
		*name = pkg;
		*name_len = (int)(pkg_end - pkg);
		*dir_len = (int)(pkg - 1 - rel);
	} else {
		*name = base;
		*name_len = (int)strcspn(base, ".");
		*dir_len = (int)(base - 1 - rel);
	}
	return *name_len > 0 && !memchr(*name, '-', (size_t)*name_len) && *dir_len > 0;
}

/* Another distribution's module NAME in directory dir of the lower layer:
 * a file NAME.py, NAME.so or NAME.<tag>.so it owns, or a directory NAME/
 * holding a file it owns (a regular package or a namespace portion).
 * skip: the new file itself.  -1: none, else the owner. */
static int module_owner_in(struct stage *s, const char *dir, const char *name, int name_len,
			   const char *skip, int ddist)
{
	int fd = open_dir(s->target_fd, dir), owner = -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;   /* a directory this run made: nobody else's */
	}
	while (owner < 0 && (de = readdir(d))) {
		const char *e = de->d_name;
		char cand[PATH_MAX];

		if (strncmp(e, name, (size_t)name_len) || (e[name_len] != '\0' && e[name_len] != '.'))
			continue;
		if (e[name_len] == '\0') {
			if (snprintf(cand, sizeof(cand), "%s/%s/", dir, e) < (int)sizeof(cand))
				owner = other_owner_below(s, cand, ddist);
		} else if (ends_with(e, ".py") || ends_with(e, ".so")) {
			if (snprintf(cand, sizeof(cand), "%s/%s", dir, e) < (int)sizeof(cand) &&
			    strcmp(cand, skip))
				owner = other_owner(s, cand, ddist);
		}
	}
	closedir(d);
	return owner;
}

/* The site directories of the environment: those of its distributions'
 * metadata (relative to the target), each once. */
static size_t site_dirs(struct stage *s, char (*out)[PATH_MAX], size_t max)
{
	size_t n = 0;

	for (size_t d = 0; d < s->n_dists && n < max; d++) {
		const char *di = s->dists[d].dist_info;
		const char *slash = di ? strrchr(di, '/') : NULL;
		bool seen = false;

		if (!slash || !strstr(di, "-packages/"))
			continue;
		for (size_t k = 0; k < n; k++)
			seen |= strlen(out[k]) == (size_t)(slash - di) && !strncmp(out[k], di, (size_t)(slash - di));
		if (!seen)
			snprintf(out[n++], PATH_MAX, "%.*s", (int)(slash - di), di);
	}
	return n;
}

int stage_shadowed_owner(struct stage *s, const char *rel, int ddist, enum shadow_kind *kind)
{
	const char *name, *base = basename_of(rel);
	int dir_len, name_len, owner = -1;
	char dir[PATH_MAX], sites[8][PATH_MAX];

	if (!module_of(rel, &dir_len, &name, &name_len))
		return -1;
	/* bin/NAME.py: what every console script imports as NAME */
	if (!strncmp(rel, "bin/", 4)) {
		size_t n = site_dirs(s, sites, ARRAY_SIZE(sites));

		*kind = SHADOW_BIN;
		for (size_t k = 0; k < n && owner < 0; k++)
			owner = module_owner_in(s, sites[k], name, name_len, rel, ddist);
		return owner;
	}
	snprintf(dir, sizeof(dir), "%.*s", dir_len, rel);
	/* a new __init__ in a directory that had none, where another
	 * distribution owns files: a namespace package becomes a regular one
	 * whose __init__ runs at every import of that distribution's modules */
	if (!strncmp(base, "__init__.", 9)) {
		char init[PATH_MAX], prefix[PATH_MAX];

		if (snprintf(init, sizeof(init), "%s/%.*s/__init__.py", dir, name_len, name) >= (int)sizeof(init) ||
		    snprintf(prefix, sizeof(prefix), "%s/%.*s/", dir, name_len, name) >= (int)sizeof(prefix))
			return -1;
		if (!pmap_find(&s->owned, init) &&
		    faccessat(s->target_fd, prefix, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			*kind = SHADOW_NAMESPACE;
			owner = other_owner_below(s, prefix, ddist);
			if (owner >= 0)
				return owner;
		}
	}
	*kind = SHADOW_MODULE;
	return module_owner_in(s, dir, name, name_len, rel, ddist);
}
