/* Staged install, last step: commit the stage into the target through the
 * journal (docs/staging.md, "Commit"), or discard it; and the recovery of
 * a stage that an interrupted run left behind (`pipjail recover`).  Runs
 * in the supervisor, or in `pipjail recover`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "stage/internal.h"

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
		free(s->res.files[i].extra);
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
		free(s->dists[i].forged_why);
		free(s->dists[i].norm);
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
