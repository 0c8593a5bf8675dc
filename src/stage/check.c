/* Staged install, third step: hold every file the stage added, changed or
 * removed against the RECORDs that dists.c read (docs/staging.md, "The
 * check"), and hand each finding to the caller's hooks.  Runs in the
 * supervisor, after scan.c. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

#include "stage/internal.h"

#define PTH_MAX_READ     (64u << 10)

static bool name_allowed(const char *name, const char *const *allow)
{
	static const char *const builtin[] = { "distutils-precedence.pth", "__editable__.*.pth",
					       "_virtualenv.pth" };

	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (fnmatch(builtin[i], name, 0) == 0)
			return true;
	for (; allow && *allow; allow++)
		if (fnmatch(*allow, name, 0) == 0)
			return true;
	return false;
}

/* The lines of a .pth that site.py executes ("import " or "import\t" at
 * the start), joined; NULL when none. */
static char *pth_exec_lines(struct stage *s, const char *rel)
{
	autoclose int fd = openat(s->upper_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	autofree char *buf = NULL;
	char *out = NULL, *line, *save = NULL;
	size_t olen = 0;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = xmalloc(PTH_MAX_READ + 1);
	n = read_all(fd, buf, PTH_MAX_READ);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len;

		if (strncmp(line, "import ", 7) != 0 && strncmp(line, "import\t", 7) != 0)
			continue;
		len = strnlen(line, 400);
		out = xrealloc(out, olen + len + 2);
		memcpy(out + olen, line, len);
		olen += len;
		out[olen++] = '\n';
		out[olen] = '\0';
		if (olen > 1000)
			break;
	}
	if (out && olen)
		out[olen - 1] = '\0';
	return out;
}

static bool is_startup_hook(const char *name)
{
	return strcmp(name, "sitecustomize.py") == 0 || strcmp(name, "usercustomize.py") == 0;
}

/* "pkg/__pycache__/mod.cpython-311.opt-1.pyc" -> "pkg/mod.py", or NULL. */
static char *pyc_source(const char *rel)
{
	autofree char *dir = dir_of(rel);
	const char *name = basename_of(rel), *dot;

	if (strcmp(basename_of(dir), "__pycache__") != 0 || !ends_with(name, ".pyc"))
		return NULL;
	dot = strchr(name, '.');
	if (!dot)
		return NULL;
	{
		autofree char *pkg = dir_of(dir);

		return *pkg ? xasprintf("%s/%.*s.py", pkg, (int)(dot - name), name)
			    : xasprintf("%.*s.py", (int)(dot - name), name);
	}
}

static const char *dist_label(struct stage *s, int di, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", s->dists[di].name, s->dists[di].version);
	return buf;
}

/* What declares a distribution's files: "RECORD" or "installed-files.txt". */
static const char *manifest_of(const struct stage *s, int di)
{
	return s->dists[di].legacy ? EGG_MANIFEST : "RECORD";
}

/* A new or changed file that no RECORD of this run names: its reason,
 * or NULL when it still belongs to one (pip's own files in a dist-info of
 * this run, bytecode of a declared source). */
static char *check_undeclared(struct stage *s, struct stage_file *f, bool pth)
{
	const char *name = basename_of(f->path);
	autofree char *di = NULL, *src = NULL;

	if (in_dist_info(f->path, &di) && dists_find(s, di, true) >= 0 &&
	    (strcmp(name, "INSTALLER") == 0 || strcmp(name, "REQUESTED") == 0 ||
	     strcmp(name, "direct_url.json") == 0 || strcmp(name, "RECORD") == 0)) {
		f->dist = dists_result(s, dists_find(s, di, true));
		return NULL;
	}
	src = pyc_source(f->path);
	if (src && f->type == 'f') {
		struct pmap_ent *se = pmap_find(&s->declared, src);

		if (se) {
			f->dist = dists_result(s, se->dist);
			return NULL;
		}
	}
	if (pth) {
		autofree char *code = pth_exec_lines(s, f->path);

		return code ? xasprintf(".pth file not in a RECORD; it runs code at every interpreter start:\n%s", code)
			    : xstrdup(".pth file not in a RECORD");
	}
	if (is_startup_hook(name))
		return xasprintf("%s not in a RECORD: it runs at every interpreter start", name);
	return xstrdup("not in any RECORD");
}

/* A declared regular file against its RECORD row (lbl: "name version"):
 * size and hash; the reason of a mismatch, or NULL. */
static char *check_hash(struct stage *s, size_t i, const struct record_entry *re, const char *lbl)
{
	struct stage_file *f = &s->res.files[i];
	struct finfo *fi = &s->fi[i];

	if (!fi->hashed) {
		autoclose int fd = openat(s->upper_fd, f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

		if (fd < 0 || sha256_fd(fd, fi->digest, &fi->size) < 0)
			return xasprintf("cannot be read to check its hash: %s", strerror(errno));
		fi->hashed = true;
	}
	if (re->size_bad)
		return xasprintf("RECORD of %s has a malformed size for it", lbl);
	if (re->has_size && re->size != fi->size)
		return xasprintf("size mismatch with RECORD of %s (%llu bytes, RECORD says %llu)", lbl,
				 (unsigned long long)fi->size, (unsigned long long)re->size);
	if (re->hash == RECORD_HASH_BAD)
		return xasprintf("RECORD of %s has a malformed hash for it", lbl);
	if (re->hash == RECORD_HASH_OTHER)
		return xasprintf("RECORD of %s uses hash algorithm %s, which pipjail cannot check", lbl, re->algo);
	if (re->hash == RECORD_HASH_SHA256 && memcmp(re->digest, fi->digest, SHA256_DIGEST_LEN) != 0)
		return xasprintf("hash mismatch with RECORD of %s", lbl);
	return NULL;
}

/* Check a new or changed file; returns the reason for a violation or NULL. */
static char *check_present(struct stage *s, size_t i, const char *const *allow)
{
	struct stage_file *f = &s->res.files[i];
	const char *name = basename_of(f->path);
	struct pmap_ent *decl = pmap_find(&s->declared, f->path);
	struct pmap_ent *own = pmap_find(&s->owned, f->path);
	bool pth = ends_with(name, ".pth");
	char lbl[256];

	if (decl)
		f->dist = dists_result(s, decl->dist);
	if (own)
		return xasprintf("changes a file owned by distribution %s (its %s)",
				 dist_label(s, own->dist, lbl, sizeof(lbl)), manifest_of(s, own->dist));
	if (!decl)
		return check_undeclared(s, f, pth);
	dist_label(s, decl->dist, lbl, sizeof(lbl));
	if (f->type == 'f') {
		char *bad = check_hash(s, i, decl->re, lbl);

		if (bad)
			return bad;
	} else if (f->type != 'l') {
		return xstrdup("not a regular file or a symlink");
	}
	/* Declared, and still a start-up hook: say so unless the profile allows it by name. */
	if (pth && !name_allowed(name, allow)) {
		autofree char *code = pth_exec_lines(s, f->path);

		if (code)
			return xasprintf(".pth file (in %s of %s) runs code at every interpreter start:\n%s",
					 manifest_of(s, decl->dist), lbl, code);
	}
	if (is_startup_hook(name) && !name_allowed(name, allow))
		return xasprintf("%s (in %s of %s) runs at every interpreter start", name,
				 manifest_of(s, decl->dist), lbl);
	return NULL;
}

static char *check_removed(struct stage *s, size_t i)
{
	struct stage_file *f = &s->res.files[i];
	struct pmap_ent *e = pmap_find(&s->dropped, f->path), *own;
	autofree char *di = NULL, *src = NULL;
	char lbl[256];

	if (e) {
		f->dist = dists_result(s, e->dist);
		return NULL;
	}
	if (in_meta_dir(f->path, &di)) {
		int d = dists_find(s, di, false);

		if (d >= 0 && s->dists[d].removed) {
			f->dist = dists_result(s, d);
			return NULL;
		}
	}
	src = pyc_source(f->path);
	if (src && (e = pmap_find(&s->dropped, src))) {
		f->dist = dists_result(s, e->dist);
		return NULL;
	}
	own = pmap_find(&s->owned, f->path);
	if (own)
		return xasprintf("removes a file owned by distribution %s (its %s)",
				 dist_label(s, own->dist, lbl, sizeof(lbl)), manifest_of(s, own->dist));
	return xstrdup("removes a file that no removed distribution lists");
}

/* A violation found: its writer, and the finding handed to the hooks. */
static void report_finding(const struct stage *s, struct stage_file *f, const struct stage_hooks *h)
{
	autofree char *abs = xasprintf("%s/%s", s->target, f->path);
	autofree char *ev = NULL;
	struct stage_finding sf = { .rule = "undeclared-file", .reason = f->reason };

	if (h && h->writer_of)
		f->writer = h->writer_of(h->ctx, abs);
	ev = xasprintf("%s: %s", abs, f->reason);
	sf.evidence = ev;
	sf.writer = f->writer;
	if (f->dist >= 0) {
		sf.package = s->res.dists[f->dist].name;
		sf.version = s->res.dists[f->dist].version;
	}
	if (h && h->report)
		h->report(h->ctx, &sf);
}

int stage_check(struct stage *s, const char *const *pth_allow, const struct stage_hooks *h)
{
	size_t n = 0;

	if (!s->scanned)
		return -1;
	/* Safe to call again (e.g. with another allow list). */
	for (size_t d = 0; d < s->res.n_dists; d++)
		s->res.dists[d].n_added = s->res.dists[d].n_changed = s->res.dists[d].n_removed = 0;
	for (size_t i = 0; i < s->res.n_files; i++) {
		struct stage_file *f = &s->res.files[i];

		free(f->reason);
		f->writer = 0;
		f->reason = f->what == STAGE_REMOVED ? check_removed(s, i) : check_present(s, i, pth_allow);
		if (f->dist >= 0) {
			struct stage_dist *d = &s->res.dists[f->dist];

			if (f->what == STAGE_ADDED)
				d->n_added++;
			else if (f->what == STAGE_CHANGED)
				d->n_changed++;
			else
				d->n_removed++;
		}
		if (!f->reason)
			continue;
		n++;
		report_finding(s, f, h);
	}
	s->res.n_violations = n;
	s->checked = true;
	return (int)n;
}
