/* Staged install, first step: the stage directory next to the target, with
 * the overlay's upper and work directories, made private to pipjail before
 * the jail starts (docs/staging.md, "The stage").  Runs in the supervisor.
 * Then: scan.c reads the upper layer back, dists.c finds the RECORDs,
 * check.c holds every change against them, report.c tells the user, and
 * commit.c commits or discards the stage. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage/internal.h"

#define STAGE_PREFIX     ".pipjail-stage."
#define STAGE_FALLBACK   "/var/tmp"


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
