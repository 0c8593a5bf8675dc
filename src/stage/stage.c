/* Staged install: prepare the overlay's upper layer, read it back when the
 * jail is gone, hold it against the RECORDs, commit or discard it.
 * docs/staging.md explains the rules and the journal. */
#include "stage/stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "stage/journal.h"
#include "pip/pip.h"
#include "base/base.h"

#define STAGE_PREFIX     ".pipjail-stage."
#define STAGE_FALLBACK   "/var/tmp"
#define STAGE_MAX_DEPTH  256
#define STAGE_MAX_FILES  2000000
#define PTH_MAX_READ     (64u << 10)
#define PKGINFO_MAX_READ (64u << 10)
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
	bool removed;          /* its RECORD in the target is gone or replaced */
	int result_index;      /* in res.dists, -1 when not part of the report */
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
	char **rewritten;      /* dist-info dirs whose RECORD was rewritten unchanged */
	size_t n_rewritten;
	char path[PATH_MAX];   /* the walk's current path, relative to the target */
};

const char *stage_what_name(enum stage_what w)
{
	return w == STAGE_ADDED ? "added" : w == STAGE_CHANGED ? "changed" : "removed";
}

/* ---- path map ---- */


static uint64_t str_hash(const char *s)
{
	return fnv1a(FNV1A_INIT, s, strlen(s));
}

static struct pmap_ent *pmap_find(const struct pmap *m, const char *key)
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
static void pmap_put(struct pmap *m, const char *key, int dist, const struct record_entry *re)
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
	for (i = str_hash(key) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->v[i].key, key) == 0)
			return;
	m->v[i].key = xstrdup(key);
	m->v[i].dist = dist;
	m->v[i].re = re;
	m->n++;
}

static void pmap_free(struct pmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->v[i].key);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- prepare ---- */

static int open_dir(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* meta: which target this stage is for, and its identity, so that
 * `pipjail recover` never follows a path that was swapped meanwhile. */
static int write_meta(struct stage *s, const struct stat *tst, char *err, size_t errlen)
{
	autofree char *t = path_escape(s->target);
	autofree char *txt = xasprintf("pipjail-stage 1\ntarget %s\ntarget_id %llu %llu\n", t,
				       (unsigned long long)tst->st_dev, (unsigned long long)tst->st_ino);
	autoclose int fd = openat(s->dir_fd, "meta", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 || write_all(fd, txt, strlen(txt)) < 0 || fsync(fd) < 0) {
		set_err(err, errlen, "write %s/meta: %s", s->dir, strerror(errno));
		return -1;
	}
	return 0;
}

int stage_prepare(struct stage **out, const char *target, const struct jail_user *u,
		  char *err, size_t errlen)
{
	struct stage *s = xcalloc(1, sizeof(*s));
	autofree char *parent = NULL;
	struct stat tst, dst;
	char rnd[13];
	const char *base;

	*out = NULL;
	s->target_fd = s->dir_fd = s->upper_fd = s->lock_fd = -1;
	if (!target || target[0] != '/') {
		set_err(err, errlen, "the install target must be an absolute path");
		goto fail;
	}
	s->target = realpath(target, NULL);
	if (!s->target) {
		set_err(err, errlen, "install target %s: %s", target, strerror(errno));
		goto fail;
	}
	if (strcmp(s->target, "/") == 0) {
		set_err(err, errlen, "the install target cannot be /");
		goto fail;
	}
	s->target_fd = open_dir(AT_FDCWD, s->target);
	if (s->target_fd < 0 || fstat(s->target_fd, &tst) < 0) {
		set_err(err, errlen, "install target %s: %s", s->target, strerror(errno));
		goto fail;
	}
	base = strrchr(s->target, '/') + 1;
	parent = xasprintf("%.*s", (int)(base - 1 - s->target) ? (int)(base - 1 - s->target) : 1, s->target);
	random_hex(rnd, 12);
	s->dir = xasprintf("%s/%s%s.%s", strcmp(parent, "/") ? parent : "", STAGE_PREFIX, base, rnd);
	if (mkdir_as_user(u, s->dir, 0700) < 0) {
		debugx(1, "stage: cannot create %s as the user (%s); using %s", s->dir, strerror(errno),
		       STAGE_FALLBACK);
		free(s->dir);
		s->dir = xasprintf("%s/pipjail-stage.%s", STAGE_FALLBACK, rnd);
		if (mkdir(s->dir, 0700) < 0) {
			set_err(err, errlen, "create the stage %s: %s", s->dir, strerror(errno));
			free(s->dir);
			s->dir = NULL;
			goto fail;
		}
	}
	s->dir_fd = open_dir(AT_FDCWD, s->dir);
	if (s->dir_fd < 0 || fstat(s->dir_fd, &dst) < 0) {
		set_err(err, errlen, "open the stage %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	/* From here on only pipjail may touch the stage: a user who could
	 * change it between the check and the commit (which runs with
	 * pipjail's rights) could plant files anywhere the commit writes. */
	if ((dst.st_uid != 0 && fchown(s->dir_fd, 0, 0) < 0) || fchmod(s->dir_fd, 0700) < 0) {
		set_err(err, errlen, "make the stage %s private to pipjail: %s", s->dir, strerror(errno));
		goto fail;
	}
	if (dst.st_dev != tst.st_dev) {
		/* TODO(copy commit): a stage on another filesystem needs a copy
		 * into the target before the journal; not done yet. */
		set_err(err, errlen,
			"cannot stage %s: the stage %s is on another filesystem (the user cannot create a "
			"directory next to the target)", s->target, s->dir);
		goto fail;
	}
	s->lock_fd = openat(s->dir_fd, "lock", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		set_err(err, errlen, "lock the stage %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	if (write_meta(s, &tst, err, errlen) < 0)
		goto fail;
	if (mkdirat(s->dir_fd, "upper", 0755) < 0 || mkdirat(s->dir_fd, "work", 0700) < 0 ||
	    mkdirat(s->dir_fd, "backup", 0700) < 0) {
		set_err(err, errlen, "create the stage's layers in %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	s->upper_fd = open_dir(s->dir_fd, "upper");
	if (s->upper_fd < 0) {
		set_err(err, errlen, "open %s/upper: %s", s->dir, strerror(errno));
		goto fail;
	}
	/* The merged root shows upper's mode and owner: make them the target's. */
	if (fchmod(s->upper_fd, tst.st_mode & 07777) < 0 ||
	    (geteuid() == 0 && fchown(s->upper_fd, tst.st_uid, tst.st_gid) < 0)) {
		set_err(err, errlen, "set up %s/upper: %s", s->dir, strerror(errno));
		goto fail;
	}
	s->upper = xasprintf("%s/upper", s->dir);
	s->work = xasprintf("%s/work", s->dir);
	debugx(1, "stage: %s staged in %s", s->target, s->dir);
	*out = s;
	return 0;
fail:
	stage_discard(s);
	return -1;
}

const char *stage_target(const struct stage *s) { return s->target; }
const char *stage_dir(const struct stage *s) { return s->dir; }
const char *stage_upper(const struct stage *s) { return s->upper; }
const char *stage_work(const struct stage *s) { return s->work; }
const struct stage_result *stage_result(const struct stage *s) { return &s->res; }
bool stage_committed(const struct stage *s) { return s->committed; }

/* ---- scan ---- */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Is overlayfs' private xattr trusted.overlay.<attr> set on name?  For
 * "opaque" only the values "y" (and "x", newer kernels) count. */
static bool ovl_flag(int dfd, const char *name, const char *attr)
{
	autofree char *path = xasprintf("/proc/self/fd/%d/%s", dfd, name);
	char key[64], val[8];
	ssize_t n;

	snprintf(key, sizeof(key), "trusted.overlay.%s", attr);
	n = lgetxattr(path, key, val, sizeof(val));
	if (n < 0)
		return errno == ERANGE; /* set, with a long value */
	if (strcmp(attr, "opaque") == 0)
		return n >= 1 && (val[0] == 'y' || val[0] == 'x');
	return true;
}

static char ftype(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISLNK(m) ? 'l' : S_ISDIR(m) ? 'd' : 'o';
}

static struct stage_file *add_file(struct stage *s, const char *rel, enum stage_what what, char type)
{
	struct stage_file *f;

	if (s->res.n_files >= STAGE_MAX_FILES)
		return NULL;
	if (s->res.n_files == s->cap_files) {
		s->cap_files = s->cap_files ? 2 * s->cap_files : 256;
		s->res.files = xrealloc(s->res.files, s->cap_files * sizeof(*s->res.files));
		s->fi = xrealloc(s->fi, s->cap_files * sizeof(*s->fi));
	}
	f = &s->res.files[s->res.n_files];
	memset(f, 0, sizeof(*f));
	memset(&s->fi[s->res.n_files], 0, sizeof(s->fi[0]));
	s->res.n_files++;
	f->path = xstrdup(rel);
	f->what = what;
	f->type = type;
	f->dist = -1;
	return f;
}

static void add_op(struct stage *s, char kind, const char *rel, const struct stat *ust,
		   const struct stat *lst)
{
	struct jop *op;

	if (s->n_ops == s->cap_ops) {
		s->cap_ops = s->cap_ops ? 2 * s->cap_ops : 256;
		s->ops = xrealloc(s->ops, s->cap_ops * sizeof(*s->ops));
	}
	op = &s->ops[s->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->rel = xstrdup(rel);
	if (ust) {
		op->mode = ust->st_mode & 07777;
		op->uid = ust->st_uid;
		op->gid = ust->st_gid;
	}
	if (lst) {
		op->old_mode = lst->st_mode & 07777;
		op->old_uid = lst->st_uid;
		op->old_gid = lst->st_gid;
	}
}

/* Append name to s->path; returns the old length to restore, or -1. */
static ssize_t path_push(struct stage *s, const char *name)
{
	size_t len = strlen(s->path), n = strlen(name);

	if (len + n + 2 > sizeof(s->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (len)
		s->path[len] = '/';
	memcpy(s->path + len + (len ? 1 : 0), name, n + 1);
	return (ssize_t)len;
}

/* Everything under a lower entry that the stage removes (by whiteout,
 * opaque directory, or replacement by another type). */
static int list_removed(struct stage *s, int lfd, const char *name, const struct stat *lst,
			int depth, char *err, size_t errlen)
{
	autoclose int dfd = -1;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!S_ISDIR(lst->st_mode)) {
		if (!add_file(s, s->path, STAGE_REMOVED, ftype(lst->st_mode))) {
			set_err(err, errlen, "more than %d changed files", STAGE_MAX_FILES);
			return -1;
		}
		return 0;
	}
	if (depth > STAGE_MAX_DEPTH) {
		set_err(err, errlen, "%s: directories nested too deep", s->path);
		return -1;
	}
	dfd = open_dir(lfd, name);
	if (dfd < 0 || !(d = fdopendir(dup(dfd)))) {
		set_err(err, errlen, "read %s/%s: %s", s->target, s->path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (de = readdir(d))) {
		struct stat st;
		ssize_t old;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (old = path_push(s, de->d_name)) < 0) {
			set_err(err, errlen, "%s/%s/%s: %s", s->target, s->path, de->d_name, strerror(errno));
			ret = -1;
			break;
		}
		ret = list_removed(s, dfd, de->d_name, &st, depth + 1, err, errlen);
		s->path[old] = '\0';
	}
	closedir(d);
	return ret;
}

/* Same content as the lower file?  Compares sizes, then the hashes. */
static int same_content(struct stage *s, size_t fidx, int ufd, int lfd, const char *name,
			const struct stat *ust, const struct stat *lst)
{
	struct finfo *fi = &s->fi[fidx];
	uint8_t ld[SHA256_DIGEST_LEN];
	autoclose int a = -1, b = -1;

	if ((ust->st_mode & 07777) != (lst->st_mode & 07777) || ust->st_uid != lst->st_uid ||
	    ust->st_gid != lst->st_gid || ftype(ust->st_mode) != ftype(lst->st_mode))
		return 0;
	if (S_ISLNK(ust->st_mode)) {
		char t1[PATH_MAX], t2[PATH_MAX];
		ssize_t n1 = readlinkat(ufd, name, t1, sizeof(t1)), n2 = readlinkat(lfd, name, t2, sizeof(t2));

		return n1 >= 0 && n1 == n2 && memcmp(t1, t2, (size_t)n1) == 0;
	}
	if (!S_ISREG(ust->st_mode) || ust->st_size != lst->st_size)
		return 0;
	a = openat(ufd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	b = openat(lfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (a < 0 || b < 0 || sha256_fd(a, fi->digest, &fi->size) < 0 || sha256_fd(b, ld, NULL) < 0)
		return -1;
	fi->hashed = true;
	return memcmp(fi->digest, ld, sizeof(ld)) == 0;
}

static int walk(struct stage *s, int ufd, int lfd, bool opaque, bool inside_replaced, int depth,
		char *err, size_t errlen);
static bool in_dist_info(const char *rel, char **di);
static bool is_manifest(const char *rel, char **di);

/* parent_opaque: the directory holding name hides its lower twin (it is
 * opaque, or inside one), so a subdirectory here hides its lower twin too:
 * what only the lower one has is removed. */
static int walk_entry(struct stage *s, int ufd, int lfd, const char *name, bool parent_opaque,
		      bool inside_replaced, int depth, char *err, size_t errlen)
{
	struct stat ust, lst;
	bool lexists = false;

	if (fstatat(ufd, name, &ust, AT_SYMLINK_NOFOLLOW) < 0) {
		set_err(err, errlen, "stat %s/%s: %s", s->upper, s->path, strerror(errno));
		return -1;
	}
	if (lfd >= 0) {
		if (fstatat(lfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0) {
			lexists = true;
		} else if (errno != ENOENT) {
			set_err(err, errlen, "stat %s/%s: %s", s->target, s->path, strerror(errno));
			return -1;
		}
	}
	if (is_whiteout(&ust)) {
		if (!lexists)
			return 0;
		if (!inside_replaced)
			add_op(s, JOP_DELETE, s->path, NULL, &lst);
		return list_removed(s, lfd, name, &lst, depth, err, errlen);
	}
	if (S_ISDIR(ust.st_mode)) {
		autoclose int cu = -1, cl = -1;
		bool op = parent_opaque || ovl_flag(ufd, name, "opaque"), replaced;

		if (ovl_flag(ufd, name, "redirect")) {
			set_err(err, errlen, "%s: an overlay redirect (mount the overlay with redirect_dir=off)", s->path);
			return -1;
		}
		if (lexists && !S_ISDIR(lst.st_mode) && list_removed(s, lfd, name, &lst, depth, err, errlen) < 0)
			return -1;
		if (lexists && S_ISDIR(lst.st_mode)) {
			cl = open_dir(lfd, name);
			if (cl < 0) {
				set_err(err, errlen, "open %s/%s: %s", s->target, s->path, strerror(errno));
				return -1;
			}
		}
		replaced = !inside_replaced && (cl < 0 || op);
		if (replaced)
			add_op(s, JOP_REPLACE, s->path, &ust, lexists ? &lst : NULL);
		else if (!inside_replaced && ((ust.st_mode & 07777) != (lst.st_mode & 07777) ||
					      ust.st_uid != lst.st_uid || ust.st_gid != lst.st_gid))
			add_op(s, JOP_META, s->path, &ust, &lst);
		cu = open_dir(ufd, name);
		if (cu < 0) {
			set_err(err, errlen, "open %s/%s: %s", s->upper, s->path, strerror(errno));
			return -1;
		}
		return walk(s, cu, cl, op, inside_replaced || replaced, depth + 1, err, errlen);
	}
	/* A regular file, a symlink, or another node: it replaces the lower entry. */
	if (S_ISREG(ust.st_mode) && ovl_flag(ufd, name, "metacopy")) {
		set_err(err, errlen, "%s: an overlay metacopy file (mount the overlay with metacopy=off)", s->path);
		return -1;
	}
	if (!inside_replaced)
		add_op(s, JOP_REPLACE, s->path, &ust, lexists ? &lst : NULL);
	if (lexists && S_ISDIR(lst.st_mode)) {
		if (list_removed(s, lfd, name, &lst, depth, err, errlen) < 0)
			return -1;
		lexists = false;
	}
	if (!add_file(s, s->path, lexists ? STAGE_CHANGED : STAGE_ADDED, ftype(ust.st_mode))) {
		set_err(err, errlen, "more than %d changed files", STAGE_MAX_FILES);
		return -1;
	}
	if (lexists) {
		int same = same_content(s, s->res.n_files - 1, ufd, lfd, name, &ust, &lst);

		if (same < 0) {
			set_err(err, errlen, "compare %s: %s", s->path, strerror(errno));
			return -1;
		}
		/* A copy-up without a change (opened for writing, touched):
		 * committed like the rest, but nothing to report or check. */
		if (same) {
			struct stage_file *f = &s->res.files[--s->res.n_files];
			autofree char *di = NULL;

			/* A RECORD written again (pip install --force-reinstall of
			 * the same wheel) still says who wrote this run's files. */
			if (is_manifest(f->path, &di)) {
				s->rewritten = xrealloc(s->rewritten, (s->n_rewritten + 1) * sizeof(*s->rewritten));
				s->rewritten[s->n_rewritten++] = steal_pointer(&di);
			}
			free(f->path);
		}
	}
	return 0;
}

static int walk(struct stage *s, int ufd, int lfd, bool opaque, bool inside_replaced, int depth,
		char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (depth > STAGE_MAX_DEPTH) {
		set_err(err, errlen, "%s: directories nested too deep", s->path);
		return -1;
	}
	d = fdopendir(dup(ufd));
	if (!d) {
		set_err(err, errlen, "read %s/%s: %s", s->upper, s->path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (de = readdir(d))) {
		ssize_t old;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((old = path_push(s, de->d_name)) < 0) {
			set_err(err, errlen, "%s/%s: %s", s->path, de->d_name, strerror(errno));
			ret = -1;
			break;
		}
		ret = walk_entry(s, ufd, lfd, de->d_name, opaque, inside_replaced, depth, err, errlen);
		s->path[old] = '\0';
	}
	closedir(d);
	if (ret < 0 || !opaque || lfd < 0)
		return ret;
	/* An opaque directory hides all of the lower one: what upper does
	 * not have again is removed. */
	d = fdopendir(dup(lfd));
	if (!d) {
		set_err(err, errlen, "read %s/%s: %s", s->target, s->path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (de = readdir(d))) {
		struct stat st;
		ssize_t old;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(ufd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (fstatat(lfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (old = path_push(s, de->d_name)) < 0) {
			set_err(err, errlen, "%s/%s: %s", s->path, de->d_name, strerror(errno));
			ret = -1;
			break;
		}
		ret = list_removed(s, lfd, de->d_name, &st, depth, err, errlen);
		s->path[old] = '\0';
	}
	closedir(d);
	return ret;
}

/* ---- distributions and their RECORDs ---- */

static const char *basename_of(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* "a/b/../c" relative to the target, or NULL when it leaves the target. */
static char *normalize(const char *base, const char *path, const char *target)
{
	size_t tlen = strlen(target);

	if (path[0] == '/')
		return path_is_under(path, target) && path[tlen] == '/'
		       ? path_clean_rel("", path + tlen + 1) : NULL;
	return path_clean_rel(base, path);
}

static int find_dist(const struct stage *s, const char *dist_info, bool from_upper)
{
	for (size_t i = 0; i < s->n_dists; i++)
		if (s->dists[i].from_upper == from_upper && strcmp(s->dists[i].dist_info, dist_info) == 0)
			return (int)i;
	return -1;
}

/* Copy a metadata value (a name, a version) that came from the package:
 * printable ASCII only, cut at anything else, never empty ("?" then). */
static char *clean_value(const char *v, size_t n, size_t max)
{
	size_t k = 0;

	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (k < n && k < max && (unsigned char)v[k] > 0x20 && (unsigned char)v[k] < 0x7f)
		k++;
	return k ? xasprintf("%.*s", (int)k, v) : xstrdup("?");
}

/* Name and version from an .egg-info's PKG-INFO (its headers, up to the
 * first blank line), each left NULL when absent. */
static void egg_pkginfo(int dfd, const char *egg_info, char **name, char **version)
{
	autofree char *p = xasprintf("%s/PKG-INFO", egg_info);
	autoclose int fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	autofree char *buf = NULL;
	struct stat st;
	ssize_t n;
	char *line, *next;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	buf = xmalloc(PKGINFO_MAX_READ + 1);
	n = read_all(fd, buf, PKGINFO_MAX_READ);
	if (n < 0)
		return;
	buf[n] = '\0';
	/* The headers end at the first empty line; the description follows. */
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '\r' || line[0] == '\0')
			break;
		if (!*name && strncmp(line, "Name:", 5) == 0)
			*name = clean_value(line + 5, strlen(line + 5), 128);
		else if (!*version && strncmp(line, "Version:", 8) == 0)
			*version = clean_value(line + 8, strlen(line + 8), 64);
	}
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
	int i = find_dist(s, dist_info, from_upper);

	if (i >= 0) {
		s->dists[i].removed |= removed;
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
	d->from_upper = from_upper;
	d->removed = removed;
	d->result_index = -1;
	if ((legacy ? record_read_lines_at : record_read_at)(dfd, rec, &d->rec, perr, sizeof(perr)) < 0) {
		/* Kept with no files: everything it would declare is undeclared. */
		d->record_error = xasprintf("%s: %s", rec, perr);
		debugx(1, "stage: %s: %s", rec, perr);
	}
	return (int)s->n_dists++;
}

/* Put each RECORD path of dist di into map m.  RECORD paths are relative
 * to the dist-info's parent, installed-files.txt paths to the .egg-info. */
static void map_dist(struct stage *s, int di, struct pmap *m)
{
	struct dist *d = &s->dists[di];
	autofree char *base = NULL;
	const char *slash = strrchr(d->dist_info, '/');

	if (d->legacy)
		base = xstrdup(d->dist_info);
	else
		base = slash ? xasprintf("%.*s", (int)(slash - d->dist_info), d->dist_info) : xstrdup("");
	for (size_t i = 0; i < d->rec.n; i++) {
		autofree char *rel = normalize(base, d->rec.e[i].path, s->target);

		if (rel)
			pmap_put(m, rel, di, &d->rec.e[i]);
	}
}

/* The parent directory part of rel ("" for a top-level name). */
static char *dir_of(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? xasprintf("%.*s", (int)(slash - rel), rel) : xstrdup("");
}

/* Is rel "<something>.dist-info/<name>"?  Then the dist-info path into *di. */
static bool in_dist_info(const char *rel, char **di)
{
	autofree char *dir = dir_of(rel);

	if (!ends_with(dir, ".dist-info") || strlen(basename_of(dir)) <= 10)
		return false;
	*di = steal_pointer(&dir);
	return true;
}

/* Is rel "<something>.egg-info/<name>"?  Then the egg-info path into *di. */
static bool in_egg_info(const char *rel, char **di)
{
	autofree char *dir = dir_of(rel);

	if (!ends_with(dir, ".egg-info") || strlen(basename_of(dir)) <= 9)
		return false;
	*di = steal_pointer(&dir);
	return true;
}

/* A file in a distribution's metadata directory (.dist-info or .egg-info). */
static bool in_meta_dir(const char *rel, char **di)
{
	return in_dist_info(rel, di) || in_egg_info(rel, di);
}

/* The file that says what a distribution installed: a dist-info's RECORD,
 * or an egg-info's installed-files.txt (a legacy `setup.py install`). */
static bool is_manifest(const char *rel, char **di)
{
	const char *name = basename_of(rel);

	return (strcmp(name, "RECORD") == 0 && in_dist_info(rel, di)) ||
	       (strcmp(name, EGG_MANIFEST) == 0 && in_egg_info(rel, di));
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
	dfd = *dir ? openat(s->target_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
		   : dup(s->target_fd);
	if (dfd < 0 || !(d = fdopendir(dup(dfd))))
		return;
	while ((de = readdir(d))) {
		autofree char *di = NULL;
		bool egg = ends_with(de->d_name, ".egg-info") && strlen(de->d_name) > 9;

		if (!egg && (!ends_with(de->d_name, ".dist-info") || strlen(de->d_name) <= 10))
			continue;
		di = *dir ? xasprintf("%s/%s", dir, de->d_name) : xstrdup(de->d_name);
		if (find_dist(s, di, false) < 0) {
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

		if (f->what == STAGE_REMOVED || !in_egg_info(f->path, &di) || (k = find_dist(s, di, true)) < 0)
			continue;
		r = &s->dists[k].rec;
		r->e = xrealloc(r->e, (r->n + 1) * sizeof(*r->e));
		memset(&r->e[r->n], 0, sizeof(r->e[0]));
		r->e[r->n++].path = xstrdup(basename_of(f->path));
	}
}

static int collect_dists(struct stage *s)
{
	struct pmap seen = { 0 };
	static const char *const globs[] = { "lib", "lib64", "local/lib" };

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
	/* Distributions that stay: those in any directory that holds a
	 * dist-info of this run, above a changed or removed file, or in the
	 * usual site-packages places. */
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
		autoclose int dfd = openat(s->target_fd, globs[g], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
	add_egg_info_files(s);
	for (size_t i = 0; i < s->n_dists; i++) {
		struct dist *d = &s->dists[i];

		if (d->from_upper)
			map_dist(s, (int)i, &s->declared);
		else
			map_dist(s, (int)i, d->removed ? &s->dropped : &s->owned);
	}
	return 0;
}

static int result_dist(struct stage *s, int di)
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
	rd->installed |= d->from_upper;
	rd->removed |= d->removed;
	return d->result_index;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct stage_file *)a)->path, ((const struct stage_file *)b)->path);
}

int stage_scan(struct stage *s, char *err, size_t errlen)
{
	if (s->scanned) {
		set_err(err, errlen, "the stage was scanned already");
		return -1;
	}
	s->path[0] = '\0';
	if (walk(s, s->upper_fd, s->target_fd, false, false, 0, err, errlen) < 0)
		return -1;
	collect_dists(s);
	/* Distributions of the report: the ones this run installed or removed. */
	for (size_t i = 0; i < s->n_dists; i++)
		if (s->dists[i].from_upper || s->dists[i].removed)
			result_dist(s, (int)i);
	/* The hashes in s->fi follow the files: sort both together. */
	{
		struct { struct stage_file f; struct finfo fi; } *tmp = xmalloc((s->res.n_files + 1) * sizeof(*tmp));

		for (size_t i = 0; i < s->res.n_files; i++) {
			tmp[i].f = s->res.files[i];
			tmp[i].fi = s->fi[i];
		}
		qsort(tmp, s->res.n_files, sizeof(*tmp), cmp_files);
		for (size_t i = 0; i < s->res.n_files; i++) {
			s->res.files[i] = tmp[i].f;
			s->fi[i] = tmp[i].fi;
		}
		free(tmp);
	}
	s->scanned = true;
	return 0;
}

/* ---- check ---- */

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

/* Check a new or changed file; returns the reason for a violation or NULL. */
static char *check_present(struct stage *s, size_t i, const char *const *allow)
{
	struct stage_file *f = &s->res.files[i];
	struct finfo *fi = &s->fi[i];
	const char *name = basename_of(f->path);
	struct pmap_ent *decl = pmap_find(&s->declared, f->path);
	struct pmap_ent *own = pmap_find(&s->owned, f->path);
	bool pth = ends_with(name, ".pth");
	char lbl[256];

	if (decl)
		f->dist = result_dist(s, decl->dist);
	if (own)
		return xasprintf("changes a file owned by distribution %s (its %s)",
				 dist_label(s, own->dist, lbl, sizeof(lbl)), manifest_of(s, own->dist));
	if (!decl) {
		autofree char *di = NULL, *src = NULL;

		if (in_dist_info(f->path, &di) && find_dist(s, di, true) >= 0 &&
		    (strcmp(name, "INSTALLER") == 0 || strcmp(name, "REQUESTED") == 0 ||
		     strcmp(name, "direct_url.json") == 0 || strcmp(name, "RECORD") == 0)) {
			f->dist = result_dist(s, find_dist(s, di, true));
			return NULL;
		}
		src = pyc_source(f->path);
		if (src && f->type == 'f') {
			struct pmap_ent *se = pmap_find(&s->declared, src);

			if (se) {
				f->dist = result_dist(s, se->dist);
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
	dist_label(s, decl->dist, lbl, sizeof(lbl));
	if (f->type == 'f') {
		const struct record_entry *re = decl->re;

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
		f->dist = result_dist(s, e->dist);
		return NULL;
	}
	if (in_meta_dir(f->path, &di)) {
		int d = find_dist(s, di, false);

		if (d >= 0 && s->dists[d].removed) {
			f->dist = result_dist(s, d);
			return NULL;
		}
	}
	src = pyc_source(f->path);
	if (src && (e = pmap_find(&s->dropped, src))) {
		f->dist = result_dist(s, e->dist);
		return NULL;
	}
	own = pmap_find(&s->owned, f->path);
	if (own)
		return xasprintf("removes a file owned by distribution %s (its %s)",
				 dist_label(s, own->dist, lbl, sizeof(lbl)), manifest_of(s, own->dist));
	return xstrdup("removes a file that no removed distribution lists");
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
	}
	s->res.n_violations = n;
	s->checked = true;
	return (int)n;
}

void stage_report_text(const struct stage *s, FILE *f, const struct stage_hooks *h)
{
	const struct stage_result *r = &s->res;
	size_t unowned = 0;

	fprintf(f, "staged install into %s: %zu file(s) changed%s\n", s->target, r->n_files,
		s->committed ? ", committed" : "");
	for (size_t d = 0; d < r->n_dists; d++) {
		const struct stage_dist *sd = &r->dists[d];

		if (sd->record_bad) {
			fprintf(f, "  RECORD unreadable: %s\n", sd->record_error);
			continue;
		}
		fprintf(f, "  %s %s (%s%s): %zu added, %zu changed, %zu removed\n", sd->name, sd->version,
			sd->installed && sd->removed ? "reinstalled" : sd->installed ? "installed" : "removed",
			sd->legacy ? ", legacy setup.py install: files listed, no hashes" : "",
			sd->n_added, sd->n_changed, sd->n_removed);
		if (pj_verbose < 1)
			continue;
		for (size_t i = 0; i < r->n_files; i++)
			if (r->files[i].dist == (int)d)
				fprintf(f, "    %-7s %s\n", stage_what_name(r->files[i].what), r->files[i].path);
	}
	for (size_t i = 0; i < r->n_files; i++)
		if (r->files[i].dist < 0)
			unowned++;
	if (unowned) {
		fprintf(f, "  no distribution: %zu file(s)\n", unowned);
		for (size_t i = 0; i < r->n_files; i++)
			if (r->files[i].dist < 0)
				fprintf(f, "    %-7s %s\n", stage_what_name(r->files[i].what), r->files[i].path);
	}
	if (r->n_violations)
		fprintf(f, "  undeclared: %zu\n", r->n_violations);
	for (size_t i = 0; i < r->n_files; i++) {
		const struct stage_file *sf = &r->files[i];
		char who[512] = "writer unknown";

		if (!sf->reason)
			continue;
		if (sf->writer && h && h->describe)
			h->describe(h->ctx, sf->writer, who, sizeof(who));
		else if (sf->writer)
			snprintf(who, sizeof(who), "written by pid %u", sf->writer);
		fprintf(f, "    %s %s: %s [%s]\n", stage_what_name(sf->what), sf->path, sf->reason, who);
	}
}

void stage_report_json(const struct stage *s, cJSON *obj)
{
	const struct stage_result *r = &s->res;
	cJSON *st = cJSON_AddObjectToObject(obj, "staging"), *dists, *und;

	if (!st)
		return;
	cJSON_AddStringToObject(st, "target", s->target);
	cJSON_AddBoolToObject(st, "committed", s->committed);
	dists = cJSON_AddArrayToObject(st, "distributions");
	for (size_t d = 0; dists && d < r->n_dists; d++) {
		const struct stage_dist *sd = &r->dists[d];
		cJSON *o = cJSON_CreateObject(), *lists[3];

		if (!o)
			break;
		cJSON_AddItemToArray(dists, o);
		if (sd->record_bad) {
			cJSON_AddStringToObject(o, "record_error", sd->record_error);
			continue;
		}
		cJSON_AddStringToObject(o, "name", sd->name);
		cJSON_AddStringToObject(o, "version", sd->version);
		cJSON_AddStringToObject(o, "dist_info", sd->dist_info);
		cJSON_AddStringToObject(o, "manifest", sd->legacy ? EGG_MANIFEST : "RECORD");
		cJSON_AddBoolToObject(o, "installed", sd->installed);
		cJSON_AddBoolToObject(o, "removed", sd->removed);
		lists[0] = cJSON_AddArrayToObject(o, "added");
		lists[1] = cJSON_AddArrayToObject(o, "changed");
		lists[2] = cJSON_AddArrayToObject(o, "removed_files");
		for (size_t i = 0; i < r->n_files; i++)
			if (r->files[i].dist == (int)d && lists[r->files[i].what])
				cJSON_AddItemToArray(lists[r->files[i].what], cJSON_CreateString(r->files[i].path));
	}
	und = cJSON_AddArrayToObject(st, "undeclared");
	for (size_t i = 0; und && i < r->n_files; i++) {
		const struct stage_file *sf = &r->files[i];
		cJSON *o;

		if (!sf->reason || !(o = cJSON_CreateObject()))
			continue;
		cJSON_AddItemToArray(und, o);
		cJSON_AddStringToObject(o, "path", sf->path);
		cJSON_AddStringToObject(o, "change", stage_what_name(sf->what));
		cJSON_AddStringToObject(o, "reason", sf->reason);
		cJSON_AddNumberToObject(o, "writer_hpid", sf->writer);
	}
}

/* ---- commit ---- */

/* Before the journal: inside a directory that moves as a whole, whiteouts
 * mean nothing (it replaces the lower one entirely) and overlay's xattrs
 * must not reach the real tree.  Safe to repeat. */
static int clean_subtree(int dfd, const char *name, bool is_dir, int depth)
{
	static const char *const attrs[] = { "trusted.overlay.opaque", "trusted.overlay.origin",
					     "trusted.overlay.impure", "trusted.overlay.nlink",
					     "trusted.overlay.upper", "trusted.overlay.protattr" };
	autofree char *p = xasprintf("/proc/self/fd/%d/%s", dfd, name);
	autoclose int cfd = -1;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	char names[4096];
	ssize_t nl = llistxattr(p, names, sizeof(names));

	/* One listxattr per entry; most have no overlay xattr at all. */
	if (nl < 0 && errno != ENOTSUP && errno != ERANGE)
		return -1;
	if ((nl < 0 && errno == ERANGE) || (nl > 0 && memmem(names, (size_t)nl, ".overlay.", 9)))
		for (size_t i = 0; i < ARRAY_SIZE(attrs); i++)
			if (lremovexattr(p, attrs[i]) < 0 && errno != ENODATA && errno != ENOTSUP)
				return -1;
	if (!is_dir)
		return 0;
	if (depth > STAGE_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	cfd = open_dir(dfd, name);
	if (cfd < 0 || !(d = fdopendir(dup(cfd))))
		return -1;
	while (ret == 0 && (de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(cfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = -1;
		} else if (is_whiteout(&st)) {
			ret = unlinkat(cfd, de->d_name, 0);
		} else {
			ret = clean_subtree(cfd, de->d_name, S_ISDIR(st.st_mode), depth + 1);
		}
	}
	closedir(d);
	return ret;
}

static int clean_upper(struct stage *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n_ops; i++) {
		struct stat st;

		if (s->ops[i].kind != JOP_REPLACE && s->ops[i].kind != JOP_META)
			continue;
		if (fstatat(s->upper_fd, s->ops[i].rel, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    clean_subtree(s->upper_fd, s->ops[i].rel, s->ops[i].kind == JOP_REPLACE && S_ISDIR(st.st_mode), 0) < 0) {
			set_err(err, errlen, "prepare %s/%s: %s", s->upper, s->ops[i].rel, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int stage_commit(struct stage *s, char *err, size_t errlen)
{
	char e2[512];
	size_t failed_at = 0;
	int r;

	if (!s->scanned || s->committed) {
		set_err(err, errlen, "commit: the stage was not scanned, or is committed already");
		return -1;
	}
	if (clean_upper(s, err, errlen) < 0)
		return -1;
	/* The staged data on disk before the journal, so that a journal
	 * rolled forward after a power cut never puts empty files in place. */
	if (syncfs(s->dir_fd) < 0) {
		set_err(err, errlen, "syncfs: %s", strerror(errno));
		return -1;
	}
	if (journal_write(s->dir_fd, s->target, s->ops, s->n_ops, err, errlen) < 0)
		return -1;
	s->keep = true; /* from here a failure leaves the journal for recover */
	r = journal_forward(s->dir_fd, s->target_fd, s->ops, s->n_ops, test_failpoints.commit_fail_after,
			    &failed_at, err, errlen);
	if (r == -2 && test_failpoints.commit_fail_crash)
		return -1;
	if (r < 0) {
		size_t upto = failed_at + 1 < s->n_ops ? failed_at + 1 : s->n_ops;

		if (journal_backward(s->dir_fd, s->target_fd, s->ops, upto, e2, sizeof(e2)) < 0 ||
		    syncfs(s->target_fd) < 0 || unlinkat(s->dir_fd, JOURNAL_NAME, 0) < 0 || fsync(s->dir_fd) < 0) {
			size_t l = strlen(err);

			snprintf(err + l, errlen > l ? errlen - l : 0,
				 "; rolling back failed too (%s): run 'pipjail recover %s'", e2, s->target);
			return -1;
		}
		s->keep = false;
		return -1;
	}
	if (journal_mark_done(s->dir_fd, s->target_fd, err, errlen) < 0)
		return -1;
	s->keep = false;
	s->committed = true;
	return 0;
}

/* ---- discard ---- */

static void remove_stage_dir(const char *dir, int dir_fd)
{
	static const char *const parts[] = { "upper", "work", "backup", JOURNAL_NAME ".tmp", "meta", "lock" };
	autofree char *parent = dir_of(dir);
	const char *base = basename_of(dir);

	/* The journal first and "done" last: a half-removed stage is never
	 * taken for a commit to redo. */
	if (unlinkat(dir_fd, JOURNAL_NAME, 0) < 0 && errno != ENOENT)
		warn_errno("remove %s/%s", dir, JOURNAL_NAME);
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (rmtree_at(dir_fd, parts[i]) < 0)
			warn_errno("remove %s/%s", dir, parts[i]);
	if (unlinkat(dir_fd, JOURNAL_DONE, 0) < 0 && errno != ENOENT)
		warn_errno("remove %s/%s", dir, JOURNAL_DONE);
	if (rmdir(dir) < 0 && errno != ENOENT)
		warn_errno("remove the stage %s (parent %s, %s)", dir, parent, base);
}

void stage_discard(struct stage *s)
{
	if (!s)
		return;
	if (s->dir && s->dir_fd >= 0) {
		if (s->keep && journal_exists(s->dir_fd) && !journal_is_done(s->dir_fd))
			warnx_("the interrupted commit's journal is kept in %s: run 'pipjail recover %s'",
			       s->dir, s->target);
		else
			remove_stage_dir(s->dir, s->dir_fd);
	}
	closep(&s->target_fd);
	closep(&s->dir_fd);
	closep(&s->upper_fd);
	closep(&s->lock_fd);
	for (size_t i = 0; i < s->res.n_files; i++) {
		free(s->res.files[i].path);
		free(s->res.files[i].reason);
	}
	free(s->res.files);
	for (size_t i = 0; i < s->res.n_dists; i++) {
		free(s->res.dists[i].name);
		free(s->res.dists[i].version);
		free(s->res.dists[i].dist_info);
		free(s->res.dists[i].record_error);
	}
	free(s->res.dists);
	free(s->fi);
	jops_free(s->ops, s->n_ops);
	for (size_t i = 0; i < s->n_dists; i++) {
		free(s->dists[i].name);
		free(s->dists[i].version);
		free(s->dists[i].dist_info);
		free(s->dists[i].record_error);
		record_free(&s->dists[i].rec);
	}
	free(s->dists);
	for (size_t i = 0; i < s->n_rewritten; i++)
		free(s->rewritten[i]);
	free(s->rewritten);
	pmap_free(&s->declared);
	pmap_free(&s->owned);
	pmap_free(&s->dropped);
	free(s->target);
	free(s->dir);
	free(s->upper);
	free(s->work);
	free(s);
}

/* ---- recover ---- */

/* The target must be the very directory the stage was made for. */
static int check_target_id(int dfd, int tfd, const char *target, char *err, size_t errlen)
{
	autoclose int fd = openat(dfd, "meta", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[16384], *p;
	unsigned long long dev, ino;
	struct stat st, mst;
	ssize_t n;

	if (fd < 0 || fstat(fd, &mst) < 0 || mst.st_uid != 0 || (n = read_all(fd, buf, sizeof(buf) - 1)) < 0) {
		set_err(err, errlen, "read the stage's meta file: %s", strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	p = strstr(buf, "\ntarget_id ");
	if (!p || sscanf(p + 11, "%llu %llu", &dev, &ino) != 2 || fstat(tfd, &st) < 0 ||
	    st.st_dev != dev || st.st_ino != ino) {
		set_err(err, errlen, "%s is not the directory this stage was made for (moved or replaced?)", target);
		return -1;
	}
	return 0;
}

int stage_recover_dir(const char *dir, bool rollback, FILE *log, char *err, size_t errlen)
{
	autoclose int dfd = -1, lfd = -1, tfd = -1;
	autofree char *target = NULL;
	struct jop *ops = NULL;
	size_t n = 0, failed_at = 0;
	struct stat st;
	int ret = -1;

	dfd = open_dir(AT_FDCWD, dir);
	if (dfd < 0) {
		set_err(err, errlen, "open %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Only a stage that pipjail made: root's, private.  A journal in a
	 * directory someone else could write would let them move any file
	 * anywhere with pipjail's rights. */
	if (fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077) != 0) {
		set_err(err, errlen, "%s is not a stage made by pipjail (it must be root's, mode 0700)", dir);
		return -1;
	}
	lfd = openat(dfd, "lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			if (log)
				fprintf(log, "%s: in use by a running pipjail, left alone\n", dir);
			return 1;
		}
		set_err(err, errlen, "lock %s: %s", dir, strerror(errno));
		return -1;
	}
	if (journal_is_done(dfd)) {
		if (log)
			fprintf(log, "%s: the commit had finished; removing what was left\n", dir);
		remove_stage_dir(dir, dfd);
		return 0;
	}
	if (!journal_exists(dfd)) {
		if (log)
			fprintf(log, "%s: no commit had started; the environment was never changed; removing the stage\n", dir);
		remove_stage_dir(dir, dfd);
		return 0;
	}
	if (journal_read(dfd, &target, &ops, &n, err, errlen) < 0)
		return -1;
	tfd = open_dir(AT_FDCWD, target);
	if (tfd < 0) {
		set_err(err, errlen, "open the target %s: %s", target, strerror(errno));
		goto out;
	}
	if (check_target_id(dfd, tfd, target, err, errlen) < 0)
		goto out;
	if (!rollback) {
		if (journal_forward(dfd, tfd, ops, n, -1, &failed_at, err, errlen) < 0)
			goto out;
		if (journal_mark_done(dfd, tfd, err, errlen) < 0)
			goto out;
		if (log)
			fprintf(log, "%s: finished the interrupted commit into %s (%zu operations)\n", dir, target, n);
	} else {
		if (journal_backward(dfd, tfd, ops, n, err, errlen) < 0)
			goto out;
		if (syncfs(tfd) < 0 || unlinkat(dfd, JOURNAL_NAME, 0) < 0 || fsync(dfd) < 0) {
			set_err(err, errlen, "remove the journal in %s: %s", dir, strerror(errno));
			goto out;
		}
		if (log)
			fprintf(log, "%s: rolled back the interrupted commit; %s is as before the install\n", dir, target);
	}
	remove_stage_dir(dir, dfd);
	ret = 0;
out:
	jops_free(ops, n);
	return ret;
}
