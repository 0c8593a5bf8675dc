/* Staged install, second step: read the overlay's upper layer back once
 * the jail is gone (its mount namespace, and so the overlay, with it):
 * whiteouts, opaque directories, new and changed files, and the journal
 * operations that would apply them to the target.  Runs in the supervisor. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "stage/internal.h"

#define STAGE_MAX_FILES  2000000

/* Is overlayfs' private xattr trusted.overlay.<attr> set on name?  For
 * "opaque" only the values "y" (and "x", newer kernels) count. */
bool ovl_flag(int dfd, const char *name, const char *attr)
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

/* What to do with one entry of the directory dfd, its name on s->path. */
typedef int (*entry_fn)(struct stage *s, int dfd, const char *name, const void *arg,
			char *err, size_t errlen);

/* Call fn for every entry of the directory dfd but "." and "..", with the
 * entry's name appended to s->path meanwhile; stops at the first error.
 * root: what s->path is relative to (s->upper or s->target), for messages. */
static int each_entry(struct stage *s, int dfd, const char *root, entry_fn fn, const void *arg,
		      char *err, size_t errlen)
{
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	int ret = 0;

	if (!d) {
		set_err(err, errlen, "read %s/%s: %s", root, s->path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (de = readdir(d))) {
		ssize_t old;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		old = path_push(s, de->d_name);
		if (old < 0) {
			set_err(err, errlen, "%s/%s/%s: %s", root, s->path, de->d_name, strerror(errno));
			ret = -1;
			break;
		}
		ret = fn(s, dfd, de->d_name, arg, err, errlen);
		s->path[old] = '\0';
	}
	closedir(d);
	return ret;
}

static int list_removed(struct stage *s, int lfd, const char *name, const struct stat *lst,
			int depth, char *err, size_t errlen);

/* An entry inside a removed lower directory (arg: that directory's depth). */
static int removed_entry(struct stage *s, int dfd, const char *name, const void *arg,
			 char *err, size_t errlen)
{
	const int *depth = arg;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		set_err(err, errlen, "%s/%s: %s", s->target, s->path, strerror(errno));
		return -1;
	}
	return list_removed(s, dfd, name, &st, *depth + 1, err, errlen);
}

/* Everything under a lower entry that the stage removes (by whiteout,
 * opaque directory, or replacement by another type). */
static int list_removed(struct stage *s, int lfd, const char *name, const struct stat *lst,
			int depth, char *err, size_t errlen)
{
	autoclose int dfd = -1;

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
	if (dfd < 0) {
		set_err(err, errlen, "read %s/%s: %s", s->target, s->path, strerror(errno));
		return -1;
	}
	return each_entry(s, dfd, s->target, removed_entry, &depth, err, errlen);
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

/* Where the walk is: the directories of upper and lower (-1: none) that
 * hold the entries, and what their parents made of them. */
struct walk_at {
	int ufd, lfd;
	bool opaque, inside_replaced;
	int depth;
};

static int upper_entry(struct stage *s, int ufd, const char *name, const void *arg,
		       char *err, size_t errlen)
{
	const struct walk_at *w = arg;

	return walk_entry(s, ufd, w->lfd, name, w->opaque, w->inside_replaced, w->depth, err, errlen);
}

/* An entry of the lower twin of an opaque directory: removed, unless
 * upper has it again. */
static int hidden_entry(struct stage *s, int lfd, const char *name, const void *arg,
			char *err, size_t errlen)
{
	const struct walk_at *w = arg;
	struct stat st;

	if (fstatat(w->ufd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (fstatat(lfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		set_err(err, errlen, "%s: %s", s->path, strerror(errno));
		return -1;
	}
	return list_removed(s, lfd, name, &st, w->depth, err, errlen);
}

static int walk(struct stage *s, int ufd, int lfd, bool opaque, bool inside_replaced, int depth,
		char *err, size_t errlen)
{
	const struct walk_at w = { .ufd = ufd, .lfd = lfd, .opaque = opaque,
				   .inside_replaced = inside_replaced, .depth = depth };

	if (depth > STAGE_MAX_DEPTH) {
		set_err(err, errlen, "%s: directories nested too deep", s->path);
		return -1;
	}
	if (each_entry(s, ufd, s->upper, upper_entry, &w, err, errlen) < 0)
		return -1;
	if (!opaque || lfd < 0)
		return 0;
	/* An opaque directory hides all of the lower one: what upper does
	 * not have again is removed. */
	return each_entry(s, lfd, s->target, hidden_entry, &w, err, errlen);
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
	dists_collect(s);
	/* Distributions of the report: the ones this run installed or removed. */
	for (size_t i = 0; i < s->n_dists; i++)
		if (s->dists[i].from_upper || s->dists[i].removed)
			dists_result(s, (int)i);
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

