/* Staged install: the distributions of a scanned stage.  Every RECORD (or
 * legacy installed-files.txt) the stage wrote, changed or removed, and
 * those of the distributions that stay, read into path maps: what this
 * run declared, what others own, what removed distributions dropped.
 * Runs in the supervisor, after scan.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/internal.h"


/* ---- path map ---- */

static uint64_t str_hash(const char *s)
{
	return fnv1a(FNV1A_INIT, s, strlen(s));
}

struct pmap_ent *pmap_find(const struct pmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = str_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->v[i].key)
			return NULL;
		if (strcmp(m->v[i].key, key) == 0)
			return &m->v[i];
	}
}

/* Insert unless present (the first RECORD that names a path keeps it). */
void pmap_put(struct pmap *m, const char *key, int dist, const struct record_entry *re)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap) {
		struct pmap old = *m;

		m->cap = m->cap ? 2 * m->cap : 256;
		m->v = xcalloc(m->cap, sizeof(*m->v));
		m->n = 0;
		for (i = 0; i < old.cap; i++) {
			if (old.v[i].key) {
				size_t j = str_hash(old.v[i].key) & (m->cap - 1);

				while (m->v[j].key)
					j = (j + 1) & (m->cap - 1);
				m->v[j] = old.v[i];
				m->n++;
			}
		}
		free(old.v);
	}
	for (i = str_hash(key) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1)) {
		if (strcmp(m->v[i].key, key) == 0) {
			m->v[i].multi |= m->v[i].dist != dist;
			return;
		}
	}
	m->v[i].key = xstrdup(key);
	m->v[i].dist = dist;
	m->v[i].re = re;
	m->v[i].multi = false;
	m->n++;
}

void pmap_free(struct pmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->v[i].key);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- distributions and their RECORDs ---- */

/* "a/b/../c" relative to the target, or NULL when it leaves the target. */
static char *normalize(const char *base, const char *path, const char *target)
{
	size_t tlen = strlen(target);

	if (path[0] == '/')
		return path_is_under(path, target) && path[tlen] == '/'
		       ? path_clean_rel("", path + tlen + 1) : NULL;
	return path_clean_rel(base, path);
}

int dists_find(const struct stage *s, const char *dist_info, bool from_upper)
{
	for (size_t i = 0; i < s->n_dists; i++)
		if (s->dists[i].from_upper == from_upper && strcmp(s->dists[i].dist_info, dist_info) == 0)
			return (int)i;
	return -1;
}

/* The name and version an egg-info's PKG-INFO gives (pip/ reads it the
 * way pip does: headers only, bounded, never following a symlink). */
static void egg_pkginfo(int dfd, const char *egg_info, char **name, char **version)
{
	autofree char *p = xasprintf("%s/PKG-INFO", egg_info);
	struct pip_meta m;

	if (pip_meta_read_at(dfd, p, &m) < 0)
		return;
	*name = xstrdup(m.name);
	if (m.version[0])
		*version = xstrdup(m.version);
}

/* Load the RECORD of dist_info (relative to the target) from upper or the
 * target; for an .egg-info, its installed-files.txt. */
static int load_dist(struct stage *s, const char *dist_info, bool from_upper, bool removed)
{
	char perr[256] = "";
	bool legacy = ends_with(dist_info, ".egg-info");
	autofree char *rec = xasprintf("%s/%s", dist_info, legacy ? EGG_MANIFEST : "RECORD");
	const char *name = basename_of(dist_info);
	size_t stem = strlen(name) - strlen(legacy ? ".egg-info" : ".dist-info");
	const char *dash = memchr(name, '-', stem);
	int dfd = from_upper ? s->upper_fd : s->target_fd;
	struct dist *d;
	int i = dists_find(s, dist_info, from_upper);

	if (i >= 0) {
		s->dists[i].gone |= removed;
		return i;
	}
	s->dists = xrealloc(s->dists, (s->n_dists + 1) * sizeof(*s->dists));
	d = &s->dists[s->n_dists];
	memset(d, 0, sizeof(*d));
	d->dist_info = xstrdup(dist_info);
	d->legacy = legacy;
	if (dash) {
		/* "<name>-<version>", and "-py3.11" after an egg-info's version */
		const char *dash2 = legacy ? memchr(dash + 1, '-', stem - (size_t)(dash + 1 - name)) : NULL;
		size_t vlen = (size_t)((dash2 ? dash2 : name + stem) - dash - 1);

		d->name = xasprintf("%.*s", (int)(dash - name), name);
		d->version = xasprintf("%.*s", (int)vlen, dash + 1);
	} else {
		d->name = xasprintf("%.*s", (int)stem, name);
		d->version = xstrdup("");
	}
	/* An .egg-info's PKG-INFO has the project's own spelling of its name
	 * ("clean-demo" for clean_demo-1.0-py3.11.egg-info). */
	if (legacy) {
		char *pname = NULL, *pversion = NULL;

		egg_pkginfo(dfd, dist_info, &pname, &pversion);
		if (pname) {
			free(d->name);
			d->name = pname;
		}
		if (pversion) {
			free(d->version);
			d->version = pversion;
		}
	}
	d->norm = pip_normalize_name(d->name);
	d->from_upper = from_upper;
	d->gone = removed;
	d->result_index = -1;
	if ((legacy ? record_read_lines_at : record_read_at)(dfd, rec, &d->rec, perr, sizeof(perr)) < 0) {
		/* Kept with no files: everything it would declare is undeclared. */
		d->record_error = xasprintf("%s: %s", rec, perr);
		debugx(1, "stage: %s: %s", rec, perr);
	}
	return (int)s->n_dists++;
}

/* What distribution d's manifest paths are relative to: a RECORD's to the
 * dist-info's parent, an installed-files.txt's to the .egg-info. */
static char *dist_base(const struct dist *d)
{
	const char *slash = strrchr(d->dist_info, '/');

	if (d->legacy)
		return xstrdup(d->dist_info);
	return slash ? xasprintf("%.*s", (int)(slash - d->dist_info), d->dist_info) : xstrdup("");
}

/* Put each RECORD path of dist di into map m. */
static void map_dist(struct stage *s, int di, struct pmap *m)
{
	struct dist *d = &s->dists[di];
	autofree char *base = dist_base(d);

	for (size_t i = 0; i < d->rec.n; i++) {
		autofree char *rel = normalize(base, d->rec.e[i].path, s->target);

		if (rel)
			pmap_put(m, rel, di, &d->rec.e[i]);
	}
}

/* The row of d's manifest that names rel (relative to the target), or NULL. */
static const struct record_entry *dist_row(const struct stage *s, const struct dist *d, const char *rel)
{
	autofree char *base = dist_base(d);

	for (size_t i = 0; i < d->rec.n; i++) {
		autofree char *p = normalize(base, d->rec.e[i].path, s->target);

		if (p && !strcmp(p, rel))
			return &d->rec.e[i];
	}
	return NULL;
}

/* Every *.dist-info (and *.egg-info with an installed-files.txt) in the
 * target directory dir (relative), as a staying distribution unless
 * already known. */
static void load_site_dir(struct stage *s, const char *dir, struct pmap *seen)
{
	autoclose int dfd = -1;
	struct dirent *de;
	DIR *d;

	if (pmap_find(seen, dir))
		return;
	pmap_put(seen, dir, 0, NULL);
	dfd = *dir ? open_dir(s->target_fd, dir) : dup(s->target_fd);
	if (dfd < 0 || !(d = fdopendir(dup(dfd))))
		return;
	while ((de = readdir(d))) {
		autofree char *di = NULL;
		bool egg = ends_with(de->d_name, ".egg-info") && strlen(de->d_name) > 9;

		if (!egg && (!ends_with(de->d_name, ".dist-info") || strlen(de->d_name) <= 10))
			continue;
		di = *dir ? xasprintf("%s/%s", dir, de->d_name) : xstrdup(de->d_name);
		if (dists_find(s, di, false) < 0) {
			struct stat st;
			autofree char *rec = xasprintf("%s/%s", de->d_name, egg ? EGG_MANIFEST : "RECORD");

			if (fstatat(dfd, rec, &st, AT_SYMLINK_NOFOLLOW) == 0)
				load_dist(s, di, false, false);
		}
	}
	closedir(d);
}

/* The files of an .egg-info that this run wrote are part of its
 * distribution (installed-files.txt lists most of them, never itself). */
static void add_egg_info_files(struct stage *s)
{
	for (size_t i = 0; i < s->res.n_files; i++) {
		struct stage_file *f = &s->res.files[i];
		autofree char *di = NULL;
		struct record *r;
		int k;

		if (f->what == STAGE_REMOVED || !in_egg_info(f->path, &di) || (k = dists_find(s, di, true)) < 0)
			continue;
		r = &s->dists[k].rec;
		r->e = xrealloc(r->e, (r->n + 1) * sizeof(*r->e));
		memset(&r->e[r->n], 0, sizeof(r->e[0]));
		r->e[r->n++].path = xstrdup(basename_of(f->path));
	}
}

/* Distributions that stay: those in any directory that holds a
 * dist-info of this run, above a changed or removed file, or in the usual
 * site-packages places. */
static void load_staying(struct stage *s)
{
	struct pmap seen = { 0 };
	static const char *const globs[] = { "lib", "lib64", "local/lib" };

	for (size_t i = 0; i < s->n_dists; i++) {
		autofree char *dir = dir_of(s->dists[i].dist_info);

		load_site_dir(s, dir, &seen);
	}
	for (size_t i = 0; i < s->res.n_files; i++) {
		autofree char *p = NULL;
		char *slash;

		if (s->res.files[i].what == STAGE_ADDED)
			continue;
		p = xstrdup(s->res.files[i].path);
		while ((slash = strrchr(p, '/'))) {
			*slash = '\0';
			load_site_dir(s, p, &seen);
		}
		load_site_dir(s, "", &seen);
	}
	for (size_t g = 0; g < ARRAY_SIZE(globs); g++) {
		autoclose int dfd = open_dir(s->target_fd, globs[g]);
		struct dirent *de;
		DIR *d;

		if (dfd < 0 || !(d = fdopendir(dup(dfd))))
			continue;
		while ((de = readdir(d))) {
			if (strncmp(de->d_name, "python", 6) != 0)
				continue;
			for (int k = 0; k < 2; k++) {
				autofree char *sd = xasprintf("%s/%s/%s", globs[g], de->d_name,
							      k ? "dist-packages" : "site-packages");

				load_site_dir(s, sd, &seen);
			}
		}
		closedir(d);
	}
	pmap_free(&seen);
}

void dists_collect(struct stage *s)
{
	for (size_t i = 0; i < s->res.n_files; i++) {
		struct stage_file *f = &s->res.files[i];
		autofree char *di = NULL;

		if (!is_manifest(f->path, &di))
			continue;
		if (f->what != STAGE_REMOVED)
			load_dist(s, di, true, false);
		if (f->what != STAGE_ADDED)
			load_dist(s, di, false, true);
	}
	for (size_t i = 0; i < s->n_rewritten; i++) {
		load_dist(s, s->rewritten[i], true, false);
		load_dist(s, s->rewritten[i], false, true);
	}
	load_staying(s);
	add_egg_info_files(s);
	dists_classify(s, NULL);
}

/* The manifest's own path (relative to the target) of distribution d. */
static char *manifest_path(const struct dist *d)
{
	return xasprintf("%s/%s", d->dist_info, d->legacy ? EGG_MANIFEST : "RECORD");
}

/* Did pip install the manifest of this run's distribution di?  Not when
 * another manifest of this run lists it among its files (a wheel that
 * ships another distribution's RECORD in its .data/), nor when a process
 * other than pip's wrote it (a build that writes into the environment). */
static char *forged_why(struct stage *s, int di, const struct stage_hooks *h)
{
	struct dist *d = &s->dists[di];
	autofree char *rec = manifest_path(d);

	for (size_t k = 0; k < s->n_dists; k++) {
		struct dist *o = &s->dists[k];

		/* a legacy egg-info lists its own files: not another's */
		if ((int)k == di || !o->from_upper || !strcmp(o->dist_info, d->dist_info))
			continue;
		if (dist_row(s, o, rec))
			return xasprintf("it is one of the files of %s %s (its %s lists it)", o->name,
					 o->version, o->legacy ? EGG_MANIFEST : "RECORD");
	}
	if (h && h->writer_of && h->is_installer) {
		autofree char *abs = xasprintf("%s/%s", s->target, rec);
		uint32_t w = h->writer_of(h->ctx, abs);

		if (!h->is_installer(h->ctx, w))
			return xasprintf("it was written by a process of a build (pid %u), not by pip", w);
	}
	return NULL;
}

/* Was the removal of lower distribution di's manifest pip's doing (an
 * uninstall, or the replacement by a genuine install)? */
static bool removal_genuine(struct stage *s, int di, const struct stage_hooks *h)
{
	struct dist *d = &s->dists[di];
	int up = dists_find(s, d->dist_info, true);
	autofree char *abs = NULL;
	autofree char *rec = NULL;

	if (up >= 0)
		return !s->dists[up].forged;
	if (!h || !h->writer_of || !h->is_installer)
		return true;
	rec = manifest_path(d);
	abs = xasprintf("%s/%s", s->target, rec);
	return h->is_installer(h->ctx, h->writer_of(h->ctx, abs));
}

void dists_classify(struct stage *s, const struct stage_hooks *h)
{
	pmap_free(&s->declared);
	pmap_free(&s->owned);
	pmap_free(&s->dropped);
	for (size_t i = 0; i < s->n_dists; i++) {
		struct dist *d = &s->dists[i];

		free(d->forged_why);
		d->forged_why = d->from_upper ? forged_why(s, (int)i, h) : NULL;
		d->forged = d->forged_why != NULL;
		if (d->forged)
			debugx(1, "stage: %s is no install of pip's: %s", d->dist_info, d->forged_why);
	}
	for (size_t i = 0; i < s->n_dists; i++) {
		struct dist *d = &s->dists[i];

		if (d->from_upper) {
			if (!d->forged)
				map_dist(s, (int)i, &s->declared);
			continue;
		}
		d->removed = d->gone && removal_genuine(s, (int)i, h);
		if (d->gone && !d->removed)
			debugx(1, "stage: %s stays: its removal was no uninstall of pip's", d->dist_info);
		map_dist(s, (int)i, d->removed ? &s->dropped : &s->owned);
	}
}

int dists_declared_by_name(struct stage *s, const char *norm, const char *rel,
			   const struct record_entry **re)
{
	struct pmap_ent *e = pmap_find(&s->declared, rel);

	*re = NULL;
	if (!e)
		return -1;
	if (!strcmp(s->dists[e->dist].norm, norm)) {
		*re = e->re;
		return e->dist;
	}
	if (!e->multi)
		return -1;
	/* Named by several manifests of this run: look for the one of that name. */
	for (size_t k = 0; k < s->n_dists; k++) {
		struct dist *o = &s->dists[k];

		if (!o->from_upper || o->forged || strcmp(o->norm, norm))
			continue;
		if ((*re = dist_row(s, o, rel)))
			return (int)k;
	}
	return -1;
}

int dists_result(struct stage *s, int di)
{
	struct dist *d = &s->dists[di];
	struct stage_dist *rd;

	if (d->result_index >= 0) {
		rd = &s->res.dists[d->result_index];
	} else {
		s->res.dists = xrealloc(s->res.dists, (s->res.n_dists + 1) * sizeof(*s->res.dists));
		rd = &s->res.dists[s->res.n_dists];
		memset(rd, 0, sizeof(*rd));
		d->result_index = (int)s->res.n_dists++;
	}
	if (!rd->name) {
		rd->name = xstrdup(d->name);
		rd->version = xstrdup(d->version);
		rd->dist_info = xstrdup(d->dist_info);
		rd->legacy = d->legacy;
		if (d->record_error) {
			rd->record_bad = true;
			rd->record_error = xstrdup(d->record_error);
		}
	}
	rd->installed |= d->from_upper && !d->forged;
	rd->removed |= d->removed;
	return d->result_index;
}

