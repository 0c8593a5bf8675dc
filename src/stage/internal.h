/* Inside src/stage/: the struct stage that prepare.c, scan.c, dists.c,
 * check.c, report.c and commit.c share, the path map of dists.c, and the
 * small path tests they all use.  Outside the layer, include stage/stage.h. */
#ifndef PIPJAIL_STAGE_INTERNAL_H
#define PIPJAIL_STAGE_INTERNAL_H

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "stage/stage.h"

#define STAGE_MAX_DEPTH  256
#define EGG_MANIFEST     "installed-files.txt"

/* What the scan keeps about one file beyond struct stage_file. */
struct finfo {
	uint64_t size;
	bool hashed;
	uint8_t digest[SHA256_DIGEST_LEN];
};

/* A string-keyed open-addressing map: path -> (distribution, RECORD row). */
struct pmap_ent {
	char *key;
	int dist;
	const struct record_entry *re;
	bool multi;            /* another distribution's manifest names it too */
};
struct pmap {
	struct pmap_ent *v;
	size_t cap, n;
};

/* A distribution seen in the target or the stage, with its RECORD (or,
 * for a legacy `setup.py install`, its .egg-info's installed-files.txt). */
struct dist {
	char *name, *version, *dist_info;
	struct record rec;
	bool legacy;           /* an .egg-info: rows relative to it, no hashes */
	bool from_upper;       /* RECORD read from the stage (installed by this run) */
	bool gone;             /* its RECORD in the target is gone or replaced */
	bool removed;          /* gone, by pip's doing (dists_classify) */
	/* A manifest in the stage that is no install of pip's (dists_classify):
	 * another manifest of this run lists it as one of its files, or a
	 * process of a build wrote it.  It vouches for nothing, and the
	 * distribution it replaced still owns its files. */
	bool forged;
	char *forged_why;
	char *norm;            /* the name, normalized (PEP 503) */
	int result_index;      /* in res.dists, -1 when not part of the report */
	/* it declares a .pth whose code lines the check accepted (check.c:
	 * setuptools' distutils hack, an editable install's finder) */
	bool pth_accepted;
	char *record_error;    /* RECORD unreadable: why */
};

struct stage {
	char *target, *dir, *upper, *work;
	int target_fd, dir_fd, upper_fd, lock_fd;
	bool scanned, checked, committed, keep;
	struct stage_result res;
	struct finfo *fi;
	size_t cap_files;
	struct jop *ops;
	size_t n_ops, cap_ops;
	struct dist *dists;
	size_t n_dists;
	struct pmap declared;  /* files of the RECORDs of this run */
	struct pmap owned;     /* files of distributions that stay */
	struct pmap dropped;   /* files of distributions removed or replaced */
	bool lower_scanned;    /* the lower layer's manifests were all read (dists_collect) */
	char **rewritten;      /* dist-info dirs whose RECORD was rewritten unchanged */
	size_t n_rewritten;
	char path[PATH_MAX];   /* the walk's current path, relative to the target */
};

/* dists.c: the path map. */
struct pmap_ent *pmap_find(const struct pmap *m, const char *key);
/* Insert unless present (the first RECORD that names a path keeps it). */
void pmap_put(struct pmap *m, const char *key, int dist, const struct record_entry *re);
void pmap_free(struct pmap *m);

/* dists.c: the distributions of a scanned stage. */
/* Which manifests of the stage are pip's installs (see struct dist.forged),
 * then the maps declared, owned and dropped from what is genuine.  h may be
 * NULL (no writers known: only the listing test applies). */
void dists_classify(struct stage *s, const struct stage_hooks *h);
/* The distribution of this run named like s->dists[di] (normalized) that
 * declares rel, with its row in *re; -1: none. */
int dists_declared_by_name(struct stage *s, const char *norm, const char *rel,
			   const struct record_entry **re);
/* Index in s->dists of dist_info (relative to the target) as read from the
 * stage (from_upper) or the target, -1: not loaded. */
int dists_find(const struct stage *s, const char *dist_info, bool from_upper);
/* Load every RECORD the scan's files name, and those of the distributions
 * that stay, into s->dists and the maps declared, owned and dropped. */
void dists_collect(struct stage *s);
/* s->dists[di] as an entry of the report (res.dists): its index there. */
int dists_result(struct stage *s, int di);

/* scan.c: is overlayfs' private xattr trusted.overlay.<attr> set on name? */
bool ovl_flag(int dfd, const char *name, const char *attr);

/* startup.c: what runs at every interpreter start. */
enum pth_kind {
	PTH_PATHS = 0,         /* only directories (or nothing readable: site.py skips it) */
	PTH_CODE,              /* lines site.py executes: *text holds them */
	PTH_BAD,               /* a symlink out of the environment, to nothing, or in a
	                        * loop; not a regular file; too large: *text says */
};
/* Read the .pth rel the way CPython 3.11's site.addpackage() does, through
 * the view the jail had (upper over the target), following symlinks inside
 * the target.  *text: malloc'd, the code lines or why it is bad. */
enum pth_kind pth_read(struct stage *s, const char *rel, char **text);
/* May this code line of a .pth declared by distribution di (this run's)
 * run at every start?  Only lines that setuptools writes, in the
 * distribution that declares what they import (docs/staging.md). */
bool pth_line_allowed(struct stage *s, const char *rel, const char *line, int di, bool editable);

/* shadow.c: a new module that stands in for another distribution's. */
enum shadow_kind {
	SHADOW_MODULE,         /* a module of the same name in the same directory */
	SHADOW_NAMESPACE,      /* an __init__ that makes a shared namespace package regular */
	SHADOW_BIN,            /* bin/NAME.py: what every console script imports as NAME */
};
/* A new file rel (of distribution ddist) inside a regular package of another
 * distribution (a directory whose __init__.py it owned before the run),
 * where Python finds it before or beside that package's own modules (a
 * pip/_internal/cli/main/ package beside pip's main.py; an
 * __init__.cpython-*.so before __init__.py): that distribution, or -1.
 * Namespace packages (no __init__.py) are not held to this. */
int stage_foreign_package_owner(struct stage *s, const char *rel, int ddist);
/* The distribution whose module the new file rel (of distribution ddist)
 * stands in for, -1 for none; *kind says how. */
int stage_shadowed_owner(struct stage *s, const char *rel, int ddist, enum shadow_kind *kind);

static inline int open_dir(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* An overlayfs whiteout: a character device 0:0. */
static inline bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static inline const char *basename_of(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

static inline bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The parent directory part of rel ("" for a top-level name). */
static inline char *dir_of(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? xasprintf("%.*s", (int)(slash - rel), rel) : xstrdup("");
}

/* Is rel "<something>.dist-info/<name>"?  Then the dist-info path into *di. */
static inline bool in_dist_info(const char *rel, char **di)
{
	autofree char *dir = dir_of(rel);

	if (!ends_with(dir, ".dist-info") || strlen(basename_of(dir)) <= 10)
		return false;
	*di = steal_pointer(&dir);
	return true;
}

/* Is rel "<something>.egg-info/<name>"?  Then the egg-info path into *di. */
static inline bool in_egg_info(const char *rel, char **di)
{
	autofree char *dir = dir_of(rel);

	if (!ends_with(dir, ".egg-info") || strlen(basename_of(dir)) <= 9)
		return false;
	*di = steal_pointer(&dir);
	return true;
}

/* A file in a distribution's metadata directory (.dist-info or .egg-info). */
static inline bool in_meta_dir(const char *rel, char **di)
{
	return in_dist_info(rel, di) || in_egg_info(rel, di);
}

/* The file that says what a distribution installed: a dist-info's RECORD,
 * or an egg-info's installed-files.txt (a legacy `setup.py install`). */
static inline bool is_manifest(const char *rel, char **di)
{
	const char *name = basename_of(rel);

	return (strcmp(name, "RECORD") == 0 && in_dist_info(rel, di)) ||
	       (strcmp(name, EGG_MANIFEST) == 0 && in_egg_info(rel, di));
}

#endif
