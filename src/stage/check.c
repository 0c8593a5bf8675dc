/* Staged install, third step: hold every file the stage added, changed or
 * removed against the RECORDs that dists.c read (docs/staging.md, "The
 * check"), and hand each finding to the caller's hooks.  Runs in the
 * supervisor, after scan.c. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stage/internal.h"

#define SHOWN_CODE (2000)  /* bytes of a .pth's code lines in the evidence */

static bool is_startup_hook(const char *name)
{
	return strcmp(name, "sitecustomize.py") == 0 || strcmp(name, "usercustomize.py") == 0;
}

static bool is_pip_config(const char *name)
{
	return strcmp(name, "pip.conf") == 0 || strcmp(name, "pip.ini") == 0;
}

/* Files of a virtual environment itself, that venv (or virtualenv) made
 * and no distribution installs: the interpreter, the activate scripts,
 * pyvenv.cfg. */
static bool is_env_name(const char *rel)
{
	static const char *const names[] = {
		"pyvenv.cfg", "bin/python", "bin/python3", "bin/python3.*", "bin/pypy*",
		"bin/activate", "bin/activate.*", "bin/activate_this.py", "bin/Activate.ps1",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (fnmatch(names[i], rel, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* "pkg/__pycache__/mod.cpython-311.opt-1.pyc" -> "pkg/mod.py", or NULL:
 * importlib's source_from_cache, read from the right (NAME.TAG[.opt-N].pyc). */
static char *pyc_source(const char *rel)
{
	autofree char *dir = dir_of(rel);
	autofree char *stem = NULL, *pkg = NULL;
	const char *name = basename_of(rel);
	char *dot;

	if (strcmp(basename_of(dir), "__pycache__") != 0 || !ends_with(name, ".pyc"))
		return NULL;
	stem = xasprintf("%.*s", (int)(strlen(name) - 4), name);
	dot = strrchr(stem, '.');
	if (dot && !strncmp(dot, ".opt-", 5)) {
		*dot = '\0';
		dot = strrchr(stem, '.');
	}
	if (!dot || dot == stem)
		return NULL;
	*dot = '\0';                  /* the tag: cpython-311 */
	pkg = dir_of(dir);
	return *pkg ? xasprintf("%s/%s.py", pkg, stem) : xasprintf("%s.py", stem);
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
	int k;

	if (in_dist_info(f->path, &di) && (k = dists_find(s, di, true)) >= 0 && !s->dists[k].forged &&
	    (strcmp(name, "INSTALLER") == 0 || strcmp(name, "REQUESTED") == 0 ||
	     strcmp(name, "direct_url.json") == 0 || strcmp(name, "RECORD") == 0)) {
		f->dist = dists_result(s, k);
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
		autofree char *code = NULL;
		enum pth_kind k2 = pth_read(s, f->path, &code);

		if (k2 == PTH_CODE)
			return xasprintf(".pth file not in a RECORD; it runs code at every interpreter start:\n%.*s",
					 SHOWN_CODE, code);
		if (k2 == PTH_BAD)
			return xasprintf(".pth file not in a RECORD; %s", code);
		return xstrdup(".pth file not in a RECORD");
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

/* A declared .pth: the code lines site.py would run that no rule allows
 * (docs/staging.md), NULL when none. */
static char *pth_unallowed(struct stage *s, struct stage_file *f, int di, const char *lbl, bool editable)
{
	autofree char *code = NULL;
	char *out = NULL, *save = NULL;
	enum pth_kind k = pth_read(s, f->path, &code);

	if (k == PTH_PATHS)
		return NULL;
	if (k == PTH_BAD)
		return xasprintf(".pth file (in %s of %s): %s", manifest_of(s, di), lbl, code);
	for (char *line = strtok_r(code, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t;

		if (pth_line_allowed(s, f->path, line, di, editable))
			continue;
		t = xasprintf("%s%s%s", out ? out : "", out ? "\n" : "", line);
		free(out);
		out = t;
	}
	if (!out) {
		s->dists[di].pth_accepted = true;
		return NULL;
	}
	{
		char *r = xasprintf(".pth file (in %s of %s) runs code at every interpreter start:\n%.*s",
				    manifest_of(s, di), lbl, SHOWN_CODE, out);

		free(out);
		return r;
	}
}

/* Why a module of this run that stands in for another distribution's
 * (shadow.c) is a finding. */
static char *shadow_reason(struct stage *s, enum shadow_kind how, const char *lbl, int owner)
{
	char olbl[256];
	const char *own = dist_label(s, owner, olbl, sizeof(olbl));

	switch (how) {
	case SHADOW_NAMESPACE:
		return xasprintf("added by %s to a namespace package that distribution %s shares (its %s): "
				 "the directory becomes a regular package whose __init__ runs at every "
				 "import of %s's modules there", lbl, own, manifest_of(s, owner),
				 s->dists[owner].name);
	case SHADOW_BIN:
		return xasprintf("added by %s in bin/, which comes first on sys.path in every console "
				 "script of the environment: it stands in for the module of the same name "
				 "of distribution %s (its %s)", lbl, own, manifest_of(s, owner));
	default:
		return xasprintf("added by %s beside a module of the same name that distribution %s owns "
				 "(its %s): one stands in for the other at import", lbl, own,
				 manifest_of(s, owner));
	}
}

/* Check a new or changed file; returns the reason for a finding (its rule
 * in f->rule) or NULL.  The order: pip's configuration; a file owned before
 * this run (by a distribution that stays, or by one that only its own new
 * install may replace); bytecode against its source; the environment's
 * own files; then the RECORDs of this run, their hashes, and start-up
 * code. */
static char *check_present(struct stage *s, size_t i, const struct stage_check_opts *o,
			   const struct stage_hooks *h)
{
	struct stage_file *f = &s->res.files[i];
	const char *name = basename_of(f->path);
	struct pmap_ent *decl = pmap_find(&s->declared, f->path);
	struct pmap_ent *own = pmap_find(&s->owned, f->path);
	struct pmap_ent *drop = pmap_find(&s->dropped, f->path);
	const struct record_entry *re = decl ? decl->re : NULL;
	int ddist = decl ? decl->dist : -1;
	autofree char *src = pyc_source(f->path);
	bool pth = ends_with(name, ".pth");
	char lbl[256];

	f->rule = STAGE_RULE_UNDECLARED;
	if (decl)
		f->dist = dists_result(s, ddist);
	if (is_pip_config(name)) {
		f->rule = STAGE_RULE_PIP_CONFIG;
		return xasprintf("a pip configuration file%s%s: every later pip of this environment (and "
				 "pipjail, for its proxy's allowlist) would read it",
				 decl ? ", declared by " : "", decl ? dist_label(s, ddist, lbl, sizeof(lbl)) : "");
	}
	if (own)
		return xasprintf("changes a file owned by distribution %s (its %s)",
				 dist_label(s, own->dist, lbl, sizeof(lbl)), manifest_of(s, own->dist));
	if (drop) {
		/* Owned before this run by a distribution the run removed or
		 * reinstalled: only a new install under that name vouches for it. */
		ddist = dists_declared_by_name(s, s->dists[drop->dist].norm, f->path, &re);
		if (ddist < 0)
			return xasprintf("changes a file that distribution %s owned before this run (its %s); "
					 "only a new install of %s may declare it",
					 dist_label(s, drop->dist, lbl, sizeof(lbl)), manifest_of(s, drop->dist),
					 s->dists[drop->dist].name);
		f->dist = dists_result(s, ddist);
	}
	if (src && f->type == 'f' && h && h->pyc_check) {
		char *bad;

		if (!s->fi[i].hashed) {
			autoclose int fd = openat(s->upper_fd, f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

			if (fd < 0 || sha256_fd(fd, s->fi[i].digest, &s->fi[i].size) < 0)
				return xasprintf("cannot be read to check it: %s", strerror(errno));
			s->fi[i].hashed = true;
		}
		bad = h->pyc_check(h->ctx, f->path, s->fi[i].digest);
		if (bad) {
			f->rule = STAGE_RULE_PYC;
			return bad;
		}
	}
	if (!drop && f->what == STAGE_CHANGED && !(src && pmap_find(&s->declared, src))) {
		f->rule = STAGE_RULE_ENV_FILE;
		return xasprintf("changes a file of the environment itself (no distribution owned it before "
				 "this run)%s%s", ddist >= 0 ? "; declared by " : "",
				 ddist >= 0 ? dist_label(s, ddist, lbl, sizeof(lbl)) : "");
	}
	/* Python (3.11's getpath) takes the whole sys.path from
	 * <program>._pth beside the interpreter, or beside its library, when
	 * there is one: bin/python._pth puts a directory of the wheel before
	 * the standard library at every start.  No distribution has a reason
	 * to ship one on Linux, wherever it lands. */
	if (!drop && ends_with(f->path, "._pth")) {
		f->rule = STAGE_RULE_ENV_FILE;
		return xasprintf("a ._pth file: Python takes sys.path from <program>._pth beside the "
				 "interpreter, in place of the environment's own paths%s%s",
				 ddist >= 0 ? "; declared by " : "",
				 ddist >= 0 ? dist_label(s, ddist, lbl, sizeof(lbl)) : "");
	}
	if (!drop && is_env_name(f->path)) {
		f->rule = STAGE_RULE_ENV_FILE;
		return xasprintf("a file of the environment itself, which no distribution installs%s%s",
				 ddist >= 0 ? "; declared by " : "",
				 ddist >= 0 ? dist_label(s, ddist, lbl, sizeof(lbl)) : "");
	}
	if (ddist < 0)
		return check_undeclared(s, f, pth);
	dist_label(s, ddist, lbl, sizeof(lbl));
	if (f->what == STAGE_ADDED) {
		int owner = stage_foreign_package_owner(s, f->path, ddist);
		enum shadow_kind how = SHADOW_MODULE;
		char olbl[256];

		if (owner >= 0)
			return xasprintf("added by %s inside a package of distribution %s (its %s), where it "
					 "stands in for that package's own modules", lbl,
					 dist_label(s, owner, olbl, sizeof(olbl)), manifest_of(s, owner));
		owner = stage_shadowed_owner(s, f->path, ddist, &how);
		if (owner >= 0)
			return shadow_reason(s, how, lbl, owner);
	}
	if (f->type == 'f') {
		char *bad = check_hash(s, i, re, lbl);

		if (bad)
			return bad;
	} else if (f->type != 'l') {
		return xstrdup("not a regular file or a symlink");
	}
	if (pth) {
		char *code = pth_unallowed(s, f, ddist, lbl, o && o->editable);

		if (code) {
			f->rule = STAGE_RULE_PTH_CODE;
			return code;
		}
	}
	if (is_startup_hook(name)) {
		f->rule = STAGE_RULE_STARTUP;
		return xasprintf("%s (in %s of %s) runs at every interpreter start", name,
				 manifest_of(s, ddist), lbl);
	}
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
	f->rule = STAGE_RULE_UNDECLARED;
	own = pmap_find(&s->owned, f->path);
	if (own)
		return xasprintf("removes a file owned by distribution %s (its %s)",
				 dist_label(s, own->dist, lbl, sizeof(lbl)), manifest_of(s, own->dist));
	return xstrdup("removes a file that no removed distribution lists");
}

/* A .pyc in __pycache__ that the bytecode check holds to its source. */
static bool pyc_is_checked(const struct stage_file *f)
{
	autofree char *src = pyc_source(f->path);

	return src != NULL && f->type == 'f';
}

/* A staged regular file that holds a secret of this run (a decoy token,
 * plain or encoded: hooks->find_token): the reason, or NULL.  The file is
 * read once: its hash for the check comes from the same bytes. */
static char *check_tokens(struct stage *s, size_t i, const struct stage_hooks *h)
{
	struct stage_file *f = &s->res.files[i];
	struct finfo *fi = &s->fi[i];
	autoclose int fd = -1;
	struct stat st;
	char what[512] = "";
	void *map;
	bool hit;

	fd = openat(s->upper_fd, f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return xasprintf("cannot be read to search it for the run's secrets: %s", strerror(errno));
	if (st.st_size == 0)
		return NULL;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return xasprintf("cannot be read to search it for the run's secrets: %s", strerror(errno));
	if (!fi->hashed) {
		sha256(map, (size_t)st.st_size, fi->digest);
		fi->size = (uint64_t)st.st_size;
		fi->hashed = true;
	}
	hit = h->find_token(h->ctx, map, (size_t)st.st_size, what, sizeof(what));
	munmap(map, (size_t)st.st_size);
	return hit ? xasprintf("holds %s: a secret of this run was copied into the environment", what) : NULL;
}

/* A file of this run that the start-up probe opened (hooks->probe_opened):
 * the environment's interpreter and pip, started on the stage as the
 * user's later ones start, reached it, so its code runs at every start of
 * them (a new top-level module that Debian's sitecustomize or pip's
 * packaging imports by name when it is there).  The reason, or NULL.
 *
 * Not judged here: .pth files (their own rules judged them, and site.py
 * opens every one), the metadata directories (data, read by pip), and
 * files already found.  Exempt are the files of a distribution named pip
 * (a pip upgrade: pip's own modules are what the probe starts) and of a
 * distribution that declares a .pth whose code lines this check accepted
 * (setuptools' distutils-precedence.pth runs its _distutils_hack, an
 * editable install's .pth its __editable___*_finder).  Neither can be
 * forged by a package: the name is the one its manifest and pip's install
 * give it (a wheel of another name cannot be installed as pip), and the
 * .pth exemption rests on this check's own judgement of that .pth
 * (startup.c, pth_line_allowed: setuptools by name, declaring
 * _distutils_hack; a finder the distribution itself declares, in a run
 * that installs something editable) -- a distribution whose accepted .pth
 * already runs its own code at every start gains nothing more. */
static bool dist_pth_accepted(struct stage *s, int d, bool editable)
{
	const struct dist *sd = &s->dists[d];

	if (sd->pth_accepted)
		return true;
	if (sd->legacy || sd->forged)
		return false;
	/* Its .pth may be unchanged by a reinstall (not a file of this run,
	 * so not judged above): read as the check reads one. */
	for (size_t k = 0; k < sd->rec.n; k++) {
		const char *row = sd->rec.e[k].path;
		autofree char *site = dir_of(sd->dist_info), *p = NULL, *code = NULL;
		char *save = NULL;
		bool any = false, all = true;

		/* rows are relative to the dist-info's directory */
		if (strchr(row, '/') || !ends_with(row, ".pth"))
			continue;
		p = *site ? xasprintf("%s/%s", site, row) : xstrdup(row);
		if (pth_read(s, p, &code) != PTH_CODE)
			continue;
		for (char *line = strtok_r(code, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			any = true;
			all = all && pth_line_allowed(s, p, line, d, editable);
		}
		if (any && all)
			return true;
	}
	return false;
}

static char *check_probe(struct stage *s, size_t i, const struct stage_check_opts *o,
			 const struct stage_hooks *h)
{
	struct stage_file *f = &s->res.files[i];
	autofree char *abs = NULL, *di = NULL, *src = NULL;
	const char *who = NULL;
	char lbl[256];

	if (f->reason || f->what == STAGE_REMOVED || (f->type != 'f' && f->type != 'l') ||
	    ends_with(f->path, ".pth") || in_meta_dir(f->path, &di))
		return NULL;
	abs = xasprintf("%s/%s", s->target, f->path);
	if (!h->probe_opened(h->ctx, abs))
		return NULL;
	for (size_t d = 0; f->dist >= 0 && d < s->n_dists; d++) {
		if (s->dists[d].result_index != f->dist)
			continue;
		if (!strcmp(s->dists[d].norm, "pip") || dist_pth_accepted(s, (int)d, o && o->editable))
			return NULL;
		who = dist_label(s, (int)d, lbl, sizeof(lbl));
	}
	f->rule = STAGE_RULE_STARTUP;
	/* Python opens a module's valid bytecode, not its source: say whose. */
	src = pyc_source(f->path);
	return xasprintf("%s%s%s (%s%s) runs when the environment's Python or pip starts: the start-up "
			 "probe opened it", basename_of(f->path), src ? ", the bytecode of " : "",
			 src ? basename_of(src) : "", who ? "declared by " : "declared by no distribution",
			 who ? who : "");
}

/* A finding: its writer, and the finding handed to the hooks. */
static void report_finding(const struct stage *s, struct stage_file *f, const char *rule,
			   const char *reason, const struct stage_hooks *h)
{
	autofree char *abs = xasprintf("%s/%s", s->target, f->path);
	autofree char *ev = NULL;
	struct stage_finding sf = { .rule = rule, .reason = reason };

	if (h && h->writer_of)
		f->writer = h->writer_of(h->ctx, abs);
	ev = xasprintf("%s: %s", abs, reason);
	sf.evidence = ev;
	sf.writer = f->writer;
	if (f->dist >= 0) {
		sf.package = s->res.dists[f->dist].name;
		sf.version = s->res.dists[f->dist].version;
	}
	if (h && h->report)
		h->report(h->ctx, &sf);
}

/* A directory of the environment that the run kept in place but gave
 * another mode or owner (a JOP_META of the scan): pip never does that to a
 * directory that exists (it makes new ones, or replaces them whole), and
 * the commit would apply it to the real environment -- a world-writable
 * bin/ or site-packages lets any local user plant code that the owner runs.
 * Landlock has no right for chmod, and a path through a symlink elsewhere
 * hides the directory from a check by name: the stage shows what changed.
 * Each is a finding; the number of findings. */
static size_t check_meta(const struct stage *s, const struct stage_hooks *h)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_ops; i++) {
		const struct jop *op = &s->ops[i];
		autofree char *abs = NULL, *reason = NULL, *ev = NULL;
		struct stage_finding sf = { .rule = STAGE_RULE_META };
		char own[128] = "";

		if (op->kind != JOP_META)
			continue;
		abs = strcmp(op->rel, ".") == 0 ? xstrdup(s->target) : xasprintf("%s/%s", s->target, op->rel);
		if (op->uid != op->old_uid || op->gid != op->old_gid)
			snprintf(own, sizeof(own), ", owner %u:%u -> %u:%u", op->old_uid, op->old_gid,
				 op->uid, op->gid);
		reason = xasprintf("a directory of the environment got mode %04o -> %04o%s%s", op->old_mode & 07777,
				   op->mode & 07777, own,
				   (op->mode & S_IWOTH) ? " (world-writable: any local user could plant code in it)" : "");
		ev = xasprintf("%s: %s", abs, reason);
		sf.evidence = ev;
		sf.reason = reason;
		if (h && h->writer_of)
			sf.writer = h->writer_of(h->ctx, abs);
		if (h && h->report)
			h->report(h->ctx, &sf);
		n++;
	}
	return n;
}

int stage_check(struct stage *s, const struct stage_check_opts *o, const struct stage_hooks *h)
{
	size_t n = 0;

	if (!s->scanned)
		return -1;
	/* Which manifests are pip's installs, with the writers known now. */
	dists_classify(s, h);
	/* Safe to call again. */
	for (size_t d = 0; d < s->n_dists; d++) {
		struct dist *sd = &s->dists[d];

		sd->pth_accepted = false;
		if (sd->result_index >= 0) {
			s->res.dists[sd->result_index].installed = sd->from_upper && !sd->forged;
			s->res.dists[sd->result_index].removed = sd->removed;
		}
	}
	for (size_t d = 0; d < s->res.n_dists; d++)
		s->res.dists[d].n_added = s->res.dists[d].n_changed = s->res.dists[d].n_removed = 0;
	for (size_t i = 0; i < s->res.n_files; i++) {
		struct stage_file *f = &s->res.files[i];
		char *tok;

		free(f->reason);
		free(f->extra);
		f->extra = NULL;
		f->writer = 0;
		f->rule = NULL;
		/* The run's secrets, first: the same read gives the hash.  Bytecode
		 * held to its source (pyc_check) says what the source says: the
		 * source is searched. */
		tok = NULL;
		if (h && h->find_token && f->what != STAGE_REMOVED && f->type == 'f' &&
		    !(h->pyc_check && pyc_is_checked(f)))
			tok = check_tokens(s, i, h);
		f->reason = f->what == STAGE_REMOVED ? check_removed(s, i) : check_present(s, i, o, h);
		if (tok && !f->reason) {
			f->rule = STAGE_RULE_TOKEN;
			f->reason = tok;
		} else {
			f->extra = tok;
		}
		if (f->dist >= 0) {
			struct stage_dist *d = &s->res.dists[f->dist];

			if (f->what == STAGE_ADDED)
				d->n_added++;
			else if (f->what == STAGE_CHANGED)
				d->n_changed++;
			else
				d->n_removed++;
		}
		if (f->reason) {
			n++;
			report_finding(s, f, f->rule, f->reason, h);
		}
		if (f->extra) {
			n++;
			report_finding(s, f, STAGE_RULE_TOKEN, f->extra, h);
		}
	}
	/* After every file: a distribution's accepted .pth may come after
	 * the module it imports. */
	for (size_t i = 0; h && h->probe_opened && i < s->res.n_files; i++) {
		struct stage_file *f = &s->res.files[i];

		if (!f->reason && (f->reason = check_probe(s, i, o, h))) {
			n++;
			report_finding(s, f, f->rule, f->reason, h);
		}
	}
	n += check_meta(s, h);
	s->res.n_violations = n;
	s->checked = true;
	return (int)n;
}
