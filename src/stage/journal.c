/* Commit journal: the operations of a staged install and their forward and
 * backward steps.  Each step looks at the filesystem to decide what is left
 * to do, so running a journal twice, or after a crash at any point, gives
 * the same result.  Parents are opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): no symlink in the target or the stage can send a
 * rename elsewhere. */
#include "stage/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/base.h"

#define JOURNAL_MAGIC "pipjail-journal 1"
#define JOURNAL_MAX_BYTES (256u << 20)

/* A journal path must be plain: relative, no empty, "." or ".." parts. */
static bool rel_ok(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/')
		return false;
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = *e ? e + 1 : e;
		if (*e && !*p)
			return false;
	}
	return true;
}

int journal_write(int cdirfd, const char *target, const struct jop *ops, size_t n,
		  char *err, size_t errlen)
{
	autofree char *t = path_escape(target);
	autoclose int fd = -1;
	FILE *f;
	int ret = -1;

	fd = openat(cdirfd, JOURNAL_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		set_err(err, errlen, "create the journal: %s", strerror(errno));
		return -1;
	}
	f = fdopen(dup(fd), "w");
	if (!f) {
		set_err(err, errlen, "fdopen: %s", strerror(errno));
		return -1;
	}
	fprintf(f, "%s\ntarget %s\n", JOURNAL_MAGIC, t);
	for (size_t i = 0; i < n; i++) {
		autofree char *r = path_escape(ops[i].rel);

		fprintf(f, "%c %s %o %u %u %o %u %u\n", ops[i].kind, r, ops[i].mode, ops[i].uid,
			ops[i].gid, ops[i].old_mode, ops[i].old_uid, ops[i].old_gid);
	}
	fprintf(f, "end %zu\n", n);
	if (fclose(f) != 0) {
		set_err(err, errlen, "write the journal: %s", strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0 || renameat(cdirfd, JOURNAL_NAME ".tmp", cdirfd, JOURNAL_NAME) < 0 ||
	    fsync(cdirfd) < 0) {
		set_err(err, errlen, "make the journal durable: %s", strerror(errno));
		return -1;
	}
	ret = 0;
	return ret;
}

static int parse_op(char *line, struct jop *op)
{
	char kind, rel[16384];
	unsigned mode, uid, gid, omode, ouid, ogid;

	if (strlen(line) >= sizeof(rel))
		return -1;
	if (sscanf(line, "%c %16383s %o %u %u %o %u %u", &kind, rel, &mode, &uid, &gid, &omode,
		   &ouid, &ogid) != 8)
		return -1;
	if (kind != JOP_REPLACE && kind != JOP_DELETE && kind != JOP_META)
		return -1;
	op->rel = path_unescape(rel);
	if (!op->rel || !rel_ok(op->rel)) {
		free(op->rel);
		op->rel = NULL;
		return -1;
	}
	op->kind = kind;
	op->mode = mode;
	op->uid = uid;
	op->gid = gid;
	op->old_mode = omode;
	op->old_uid = ouid;
	op->old_gid = ogid;
	return 0;
}

int journal_read(int cdirfd, char **target, struct jop **ops, size_t *n, char *err, size_t errlen)
{
	autoclose int fd = -1;
	autofree char *buf = NULL;
	struct jop *v = NULL;
	size_t cap = 0, cnt = 0, lineno = 0;
	char *save = NULL, *line;
	bool ended = false;
	struct stat st;
	ssize_t len;

	*target = NULL;
	*ops = NULL;
	*n = 0;
	fd = openat(cdirfd, JOURNAL_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		set_err(err, errlen, "open the journal: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > JOURNAL_MAX_BYTES) {
		set_err(err, errlen, "the journal is not a regular file of a sane size");
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	len = read_all(fd, buf, (size_t)st.st_size);
	if (len != st.st_size) {
		set_err(err, errlen, "read the journal: %s", len < 0 ? strerror(errno) : "short read");
		return -1;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', (size_t)len))
		goto bad;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (ended)
			goto bad;
		if (lineno == 1) {
			if (strcmp(line, JOURNAL_MAGIC) != 0)
				goto bad;
		} else if (lineno == 2) {
			if (strncmp(line, "target ", 7) != 0 || !(*target = path_unescape(line + 7)) ||
			    (*target)[0] != '/')
				goto bad;
		} else if (strncmp(line, "end ", 4) == 0) {
			unsigned long long want;

			if (!parse_uint(line + 4, 0, SIZE_MAX, &want) || want != cnt)
				goto bad;
			ended = true;
		} else {
			if (cnt == cap) {
				cap = cap ? 2 * cap : 64;
				v = xrealloc(v, cap * sizeof(*v));
			}
			memset(&v[cnt], 0, sizeof(v[cnt]));
			if (parse_op(line, &v[cnt]) < 0)
				goto bad;
			cnt++;
		}
	}
	if (!ended || !*target)
		goto bad;
	*ops = v;
	*n = cnt;
	return 0;
bad:
	set_err(err, errlen, "the journal is damaged (line %zu)", lineno);
	jops_free(v, cnt);
	free(*target);
	*target = NULL;
	return -1;
}

void jops_free(struct jop *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ops[i].rel);
	free(ops);
}

/* The directory holding rel (beneath rootfd, no symlinks), and rel's last part. */
static int open_parent(int rootfd, const char *rel, const char **base)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	const char *slash = strrchr(rel, '/');
	autofree char *dir = NULL;

	if (!slash) {
		*base = rel;
		return (int)syscall(SYS_openat2, rootfd, ".", &how, sizeof(how));
	}
	*base = slash + 1;
	dir = xasprintf("%.*s", (int)(slash - rel), rel);
	return (int)syscall(SYS_openat2, rootfd, dir, &how, sizeof(how));
}

/* 1 exists, 0 does not, -1 error. */
static int exists_at(int dfd, const char *name, struct stat *st)
{
	struct stat tmp;

	if (fstatat(dfd, name, st ? st : &tmp, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

struct opctx {
	int tdir, udir, bdir;       /* parents of target/P, upper/P, and backup/ */
	const char *base;           /* P's last part */
	char bname[32];             /* backup/<i> */
};

static int op_open(int cdirfd, int targetfd, const struct jop *op, size_t i, struct opctx *c)
{
	const char *b2;

	c->tdir = c->udir = c->bdir = -1;
	snprintf(c->bname, sizeof(c->bname), "%zu", i);
	c->tdir = open_parent(targetfd, op->rel, &c->base);
	if (c->tdir < 0)
		return -1;
	c->bdir = openat(cdirfd, "backup", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->bdir < 0)
		return -1;
	if (op->kind == JOP_REPLACE) {
		autoclose int ufd = openat(cdirfd, "upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (ufd < 0)
			return -1;
		c->udir = open_parent(ufd, op->rel, &b2);
		/* upper/P's parent is gone only if a whole parent was moved,
		 * which the journal never does: that is an error. */
		if (c->udir < 0)
			return -1;
	}
	return 0;
}

static void op_close(struct opctx *c)
{
	closep(&c->tdir);
	closep(&c->udir);
	closep(&c->bdir);
}

/* mid: stop half-way (the old entry saved, the new one not in place), as
 * a crash there would: for the test hook. */
static int step_forward(const struct jop *op, struct opctx *c, bool mid)
{
	struct stat ust, tst;
	int u, t, b;

	t = exists_at(c->tdir, c->base, &tst);
	b = exists_at(c->bdir, c->bname, NULL);
	if (t < 0 || b < 0)
		return -1;
	switch (op->kind) {
	case JOP_DELETE:
		if (t && b) {
			errno = EEXIST;
			return -1;
		}
		return t ? renameat(c->tdir, c->base, c->bdir, c->bname) : 0;
	case JOP_META:
		if (!t)
			return 0; /* nothing to fix: the directory is gone (cannot happen in a sane journal) */
		if (fchmodat(c->tdir, c->base, op->mode & 07777, 0) < 0)
			return -1;
		return fchownat(c->tdir, c->base, op->uid, op->gid, AT_SYMLINK_NOFOLLOW);
	case JOP_REPLACE:
		u = exists_at(c->udir, c->base, &ust);
		if (u < 0)
			return -1;
		if (!u)
			return 0; /* already in place */
		if (t && !b) {
			/* Keep the old entry: a hard link for a file replaced by a
			 * file (the rename that follows is then one atomic swap),
			 * a move otherwise. */
			if (S_ISDIR(tst.st_mode) || S_ISDIR(ust.st_mode) ||
			    linkat(c->tdir, c->base, c->bdir, c->bname, 0) < 0) {
				if (renameat(c->tdir, c->base, c->bdir, c->bname) < 0)
					return -1;
			}
		}
		if (mid)
			return -2;
		return renameat(c->udir, c->base, c->tdir, c->base);
	}
	errno = EINVAL;
	return -1;
}

static int step_backward(const struct jop *op, struct opctx *c)
{
	int u, t, b;

	t = exists_at(c->tdir, c->base, NULL);
	b = exists_at(c->bdir, c->bname, NULL);
	if (t < 0 || b < 0)
		return -1;
	switch (op->kind) {
	case JOP_DELETE:
		if (!b)
			return 0;
		if (t) {
			errno = EEXIST;
			return -1;
		}
		return renameat(c->bdir, c->bname, c->tdir, c->base);
	case JOP_META:
		if (!t)
			return 0;
		if (fchmodat(c->tdir, c->base, op->old_mode & 07777, 0) < 0)
			return -1;
		return fchownat(c->tdir, c->base, op->old_uid, op->old_gid, AT_SYMLINK_NOFOLLOW);
	case JOP_REPLACE:
		u = exists_at(c->udir, c->base, NULL);
		if (u < 0)
			return -1;
		if (u) {
			/* Not applied.  The old entry may sit in backup: as a
			 * move (target/P missing) or as a hard link (present). */
			if (!b)
				return 0;
			if (!t)
				return renameat(c->bdir, c->bname, c->tdir, c->base);
			return unlinkat(c->bdir, c->bname, 0);
		}
		/* Applied: give the new entry back to upper, the old one back to the target. */
		if (!t) {
			errno = ENOENT;
			return -1;
		}
		if (renameat(c->tdir, c->base, c->udir, c->base) < 0)
			return -1;
		return b ? renameat(c->bdir, c->bname, c->tdir, c->base) : 0;
	}
	errno = EINVAL;
	return -1;
}

static const char *kind_name(char k)
{
	return k == JOP_REPLACE ? "put in place" : k == JOP_DELETE ? "delete" : "set mode and owner of";
}

int journal_forward(int cdirfd, int targetfd, const struct jop *ops, size_t n,
		    long stop_after, size_t *failed_at, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct opctx c;
		int r;
		bool here = stop_after >= 0 && i == (size_t)stop_after / 2;

		if (here && stop_after % 2 == 0) {
			*failed_at = i;
			set_err(err, errlen, "stopped before operation %zu (test hook)", i);
			return -2;
		}
		r = op_open(cdirfd, targetfd, &ops[i], i, &c);
		if (r == 0)
			r = step_forward(&ops[i], &c, here);
		if (r == 0 && here) {
			/* Nothing to stop inside: stop right after it. */
			r = -2;
		}
		if (r == -2) {
			op_close(&c);
			*failed_at = i;
			set_err(err, errlen, "stopped inside operation %zu (test hook)", i);
			return -2;
		}
		if (r < 0) {
			set_err(err, errlen, "%s %s: %s", kind_name(ops[i].kind), ops[i].rel, strerror(errno));
			op_close(&c);
			*failed_at = i;
			return -1;
		}
		op_close(&c);
	}
	return 0;
}

int journal_backward(int cdirfd, int targetfd, const struct jop *ops, size_t n,
		     char *err, size_t errlen)
{
	int ret = 0;

	for (size_t i = n; i-- > 0;) {
		struct opctx c;
		int r;

		r = op_open(cdirfd, targetfd, &ops[i], i, &c);
		if (r == 0)
			r = step_backward(&ops[i], &c);
		if (r < 0 && ret == 0) {
			/* Go on: undo as much as possible, report the first failure. */
			set_err(err, errlen, "undo %s %s: %s", kind_name(ops[i].kind), ops[i].rel,
				strerror(errno));
			ret = -1;
		}
		op_close(&c);
	}
	return ret;
}

int journal_mark_done(int cdirfd, int targetfd, char *err, size_t errlen)
{
	autoclose int fd = -1;

	/* Every rename of the commit must be on disk before "done" is. */
	if (syncfs(targetfd) < 0) {
		set_err(err, errlen, "syncfs: %s", strerror(errno));
		return -1;
	}
	fd = openat(cdirfd, JOURNAL_DONE, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fsync(fd) < 0 || fsync(cdirfd) < 0) {
		set_err(err, errlen, "mark the commit done: %s", strerror(errno));
		return -1;
	}
	return 0;
}

bool journal_is_done(int cdirfd)
{
	return exists_at(cdirfd, JOURNAL_DONE, NULL) == 1;
}

bool journal_exists(int cdirfd)
{
	return exists_at(cdirfd, JOURNAL_NAME, NULL) == 1;
}
