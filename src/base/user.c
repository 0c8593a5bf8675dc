/* The invoking user, and acting with their rights (see base/user.h).  For
 * open_as_user the child opens the file and passes the descriptor back over
 * a socketpair: the child is the only place the path is resolved. */
#include "base/user.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/util.h"

int user_become(const struct jail_user *u)
{
	cap_t none = cap_init();
	int rc = -1;

	if (none && setgroups((size_t)u->n_groups, u->groups) == 0 &&
	    setresgid(u->gid, u->gid, u->gid) == 0 && setresuid(u->uid, u->uid, u->uid) == 0 &&
	    cap_set_proc(none) == 0)
		rc = 0;
	if (rc < 0 && !errno)
		errno = EPERM;
	if (none)
		cap_free(none);
	return rc;
}

bool user_is_self(const struct jail_user *u)
{
	cap_t now, none;
	bool plain;

	if (u->uid == 0 && getuid() == 0)
		return true;
	if (getuid() != u->uid || geteuid() != u->uid)
		return false;
	now = cap_get_proc();
	none = cap_init();
	plain = now && none && cap_compare(now, none) == 0;
	if (now)
		cap_free(now);
	if (none)
		cap_free(none);
	return plain;
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int send_fd(int sock, int fd, int err)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	int err = EIO, fd = -1;
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0)
		errno = err;
	return fd;
}

static void __attribute__((noreturn)) child(const struct jail_user *u, int sock,
					     const char *path, int flags, mode_t mode)
{
	int fd;

	if (user_become(u) < 0) {
		send_fd(sock, -1, errno ? errno : EPERM);
		_exit(1);
	}
	fd = open(path, flags | O_CLOEXEC, mode);
	send_fd(sock, fd, fd < 0 ? errno : 0);
	_exit(0);
}

int open_as_user(const struct jail_user *u, const char *path, int flags, mode_t mode)
{
	int sv[2], fd, err;
	pid_t pid;

	if (user_is_self(u))
		return open(path, flags | O_CLOEXEC, mode);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(sv[0]);
		close(sv[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		child(u, sv[1], path, flags, mode);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	err = errno;
	close(sv[0]);
	wait_child(pid, NULL);
	errno = err;
	return fd;
}

/* SUDO_* is believed only from root: a user running a setcap'd pipjail
 * could otherwise claim to be anyone. */
void user_find_invoker(struct jail_user *u)
{
	const char *sudo_uid = getenv("SUDO_UID");
	unsigned long long v;
	struct passwd *pw;
	int n = 0;

	u->uid = getuid();
	u->gid = getgid();
	if (u->uid == 0 && sudo_uid) {
		if (!parse_uint(sudo_uid, 0, UINT32_MAX - 1, &v))
			die("SUDO_UID=%s: not a user id", sudo_uid);
		u->uid = (uid_t)v;
	}
	pw = getpwuid(u->uid);
	if (!pw)
		die("user id %u has no entry in the password database", u->uid);
	u->name = xstrdup(pw->pw_name);
	u->home = xstrdup(pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : "/nonexistent");
	if (u->uid != getuid()) {
		const char *sudo_gid = getenv("SUDO_GID");

		u->gid = pw->pw_gid;
		if (sudo_gid && !parse_uint(sudo_gid, 0, UINT32_MAX - 1, &v))
			die("SUDO_GID=%s: not a group id", sudo_gid);
		if (sudo_gid)
			u->gid = (gid_t)v;
	}
	getgrouplist(u->name, u->gid, NULL, &n);
	u->groups = xcalloc((size_t)n + 1, sizeof(gid_t));
	if (getgrouplist(u->name, u->gid, u->groups, &n) < 0)
		n = 0;
	u->n_groups = n;
}

void user_free(struct jail_user *u)
{
	free(u->name);
	free(u->home);
	free(u->groups);
	u->name = u->home = NULL;
	u->groups = NULL;
}


int run_as_user(const struct jail_user *u, char *const *argv, char *const *env, bool quiet,
		const char *cwd)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (user_become(u) < 0) {
			fprintf(stderr, "pipjail: becoming user %u: %s\n", u->uid, strerror(errno));
			_exit(EXIT_PIPJAIL_ERROR);
		}
		if (cwd && chdir(cwd) < 0)
			_exit(EXIT_PIPJAIL_ERROR);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (null >= 0)
				dup2(null, 1);
		}
		execve(argv[0], argv, env);
		fprintf(stderr, "pipjail: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (wait_child(pid, &st) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int call_as_user(const struct jail_user *u, int (*fn)(void *ctx), void *ctx)
{
	int st;
	pid_t pid;

	if (user_is_self(u))
		return fn(ctx);
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (user_become(u) < 0)
			_exit(errno ? errno : EPERM);
		_exit(fn(ctx) & 0xff);
	}
	if (wait_child(pid, &st) < 0)
		return errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
}

struct mkdir_args {
	const char *path;
	mode_t mode;
};

static int do_mkdir(void *ctx)
{
	const struct mkdir_args *a = ctx;

	return mkdir(a->path, a->mode) < 0 ? errno : 0;
}

int mkdir_as_user(const struct jail_user *u, const char *path, mode_t mode)
{
	struct mkdir_args a = { path, mode };
	int err = call_as_user(u, do_mkdir, &a);

	errno = err;
	return err ? -1 : 0;
}

char *read_file_as_user(const struct jail_user *u, const char *path, size_t max, size_t *len)
{
	autoclose int fd = open_as_user(u, path, O_RDONLY, 0);
	size_t cap = 1 << 16, n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max)
				break;
			cap = cap * 2 < max ? cap * 2 : max;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}
