/* A short-lived child takes the user's identity, drops every capability,
 * opens the file and passes the descriptor back over a socketpair.  The
 * child is the only place the path is resolved, so permission checks,
 * symlinks and all happen exactly as for the user. */
#include "useropen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "util.h"

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
	cap_t none = cap_init();
	int fd;

	if (setgroups((size_t)u->n_groups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0 || !none || cap_set_proc(none) < 0) {
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

	if (u->uid == 0 && getuid() == 0)
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
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = err;
	return fd;
}
