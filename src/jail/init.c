/* The jail's PID 1.  It builds the jail's view (mounts, hostname, lo),
 * starts the commands the supervisor sends (the user's, then the checks of
 * a staged install, several at once) as the invoking user behind seccomp
 * and Landlock, reaps every orphan, forwards the signals the supervisor
 * passes on, and when no command runs any more, kills whatever they left
 * behind (a daemon that double-forked and called setsid is still in this
 * pid namespace) before it answers for the last one.  It exits with the
 * first command's status; the kernel kills anything left. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "jail/jail.h"
#include "jail/sandbox.h"
#include "base/base.h"

extern char **environ;

/* Signals the supervisor forwards; init passes them to the command's
 * process group.  PID 1 only receives signals it has a handler for, so
 * these are exactly the ones the jail can be sent. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static void on_signal(int sig)
{
	(void)sig; /* never runs: the signals are blocked and read from a signalfd */
}

static void __attribute__((noreturn)) init_fail(const char *what, const char *err)
{
	fprintf(stderr, "pipjail: jail setup: %s: %s\n", what, err);
	_exit(EXIT_PIPJAIL_ERROR);
}

/* close_range(first, last, flags) for the fds of this process; where the
 * kernel has no close_range (before 5.9, or 5.11 for CLOSE_RANGE_CLOEXEC),
 * the same through /proc/self/fd.  0, or -1 with errno. */
static int close_fds(unsigned int first, unsigned int last, unsigned int flags)
{
	DIR *d;
	struct dirent *de;

	if (syscall(SYS_close_range, first, last, flags) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -1;
	d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		unsigned long fd = strtoul(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd < first || fd > last || (int)fd == dirfd(d))
			continue;
		if (flags & CLOSE_RANGE_CLOEXEC)
			fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		else
			close((int)fd);
	}
	closedir(d);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The init's side of the clone, first thing: the clone gave this process a
 * copy of every descriptor the supervisor held, and of those pipjail's
 * caller left open (a CI runner's pipes, a shell's leaked files): the
 * monitor's maps, the trace, the master side of the command's terminal, a
 * host file.  Keep only stdin/stdout/stderr and what init itself still
 * needs (ctl, the binds' mount trees for mounts_setup, the analyze
 * listener's socket); a descriptor that init needs before the command runs
 * must be named here. */
static void close_inherited(const struct jail_config *cfg, int ctl)
{
	int *keep = xcalloc(cfg->n_binds + 2, sizeof(int));
	size_t n = 0;
	unsigned int from = 3;

	keep[n++] = ctl;
	if (cfg->notify_sock >= 0)
		keep[n++] = cfg->notify_sock;
	for (size_t i = 0; i < cfg->n_binds; i++)
		keep[n++] = cfg->binds[i].fd;
	qsort(keep, n, sizeof(int), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned int)keep[i] > from && close_fds(from, (unsigned int)keep[i] - 1, 0) < 0)
			init_fail("closing inherited descriptors", strerror(errno));
		from = (unsigned int)keep[i] + 1;
	}
	if (close_fds(from, ~0U, 0) < 0)
		init_fail("closing inherited descriptors", strerror(errno));
	free(keep);
}

/* The command's terminal (src/run/pty.c): a pseudo-terminal the supervisor
 * opened, never the user's own.  Each of stdin/stdout/stderr that was the
 * user's terminal becomes its slave side here, in init, before anything in
 * the jail runs, so that init's own messages reach the user in order with
 * the command's output.  Init also leaves pipjail's session: the user's
 * terminal stays the controlling terminal of no process in the jail. */
static void take_terminal(const struct jail_config *cfg)
{
	if (setsid() < 0)
		init_fail("setsid", strerror(errno));
	if (!cfg->tty_stdio)
		return;
	for (int i = 0; i < 3; i++)
		if ((cfg->tty_stdio & (1u << i)) && dup2(cfg->tty_fd, i) < 0)
			init_fail("the command's terminal", strerror(errno));
	close(cfg->tty_fd);
}

/* In the command's child: the pseudo-terminal becomes the controlling
 * terminal of its new session (so /dev/tty, job control and Ctrl-C on it
 * work as on a real terminal).  Still root here: 1 takes it from a session
 * of an earlier command that may not have been reaped of it yet. */
static void attach_terminal(const struct jail_config *cfg)
{
	for (int i = 0; i < 3; i++)
		if (cfg->tty_stdio & (1u << i)) {
			if (ioctl(i, TIOCSCTTY, 1) < 0)
				init_fail("making the pseudo-terminal the controlling terminal",
					  strerror(errno));
			return;
		}
}


/* Writable trees for Landlock: the writable binds, the jail's own tmpfs. */
static const char **writable_paths(const struct jail_config *cfg, unsigned int *n)
{
	/* the six trees below, the staged target, and each bind */
	const char **v = xcalloc(cfg->n_binds + 7, sizeof(char *));

	*n = 0;
	v[(*n)++] = "/tmp";
	v[(*n)++] = "/var/tmp";   /* the jail's own, as /tmp (src/jail/mounts.c) */
	v[(*n)++] = "/dev/shm";
	v[(*n)++] = cfg->user.home;
	v[(*n)++] = JAIL_PIP_CACHE;   /* pip's: the preload library's layer leaves it out */
	v[(*n)++] = JAIL_PIP_TMP;     /* the same, but for a build's own tree and outputs */
	/* The staged target (an overlay: writes land in the stage). */
	if (cfg->stage_target)
		v[(*n)++] = cfg->stage_target;
	/* Writable binds, and those below a throwaway layer (what is written
	 * there is gone with the jail) */
	for (size_t i = 0; i < cfg->n_binds; i++)
		if (cfg->binds[i].writable || cfg->binds[i].layer)
			v[(*n)++] = cfg->binds[i].path;
	return v;
}

/* The seccomp listener goes to the supervisor (src/sinkhole.c), which
 * answers the notified calls; this process keeps no copy.  The filter is
 * already in force: the sendmsg and close below are not notified calls. */
static int send_listener(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char b = JAIL_MSG_LISTENER;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int rc;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	rc = sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
	close(fd);
	close(sock);
	return rc;
}

/* The command's environment: the configured one, and what the jail's own
 * walls need in every process (the preload library, pip's cache and
 * temporary files where only pip writes: the preload library gives every
 * other process TMPDIR=/tmp, PEP 517 builds: a legacy `setup.py install`
 * would have the build write the environment itself, which the
 * environment guard refuses; where the environment has no `wheel` for
 * setuptools' bdist_wheel, the preload library gives the PEP 517 hook
 * runner Debian's, src/run/anchors.c); the first command of the jail (the user's own) is marked so
 * that the preload library leaves it, like the kernel, as it is.  The
 * variables come last: they win over the user's. */
static char **command_env(const struct jail_config *cfg, bool first)
{
	static const char *const guard[] = {
		"LD_PRELOAD=" JAIL_PRELOAD, "PIP_CACHE_DIR=" JAIL_PIP_CACHE, "PIP_USE_PEP517=1",
		"TMPDIR=" JAIL_PIP_TMP, "TMP=" JAIL_PIP_TMP, "TEMP=" JAIL_PIP_TMP,
	};
	size_t n = 0, k = 0;
	char **env;

	while (cfg->env && cfg->env[n])
		n++;
	env = xcalloc(n + ARRAY_SIZE(guard) + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(cfg->env[i], "=");
		bool ours = false;

		for (size_t g = 0; g < ARRAY_SIZE(guard); g++)
			ours |= !strncmp(cfg->env[i], guard[g], len) && guard[g][len] == '=';
		if (!ours && strncmp(cfg->env[i], "PIPJAIL_TOP=", 12) != 0)
			env[k++] = cfg->env[i];
	}
	for (size_t g = 0; g < ARRAY_SIZE(guard); g++)
		env[k++] = (char *)guard[g];
	if (first)
		env[k++] = "PIPJAIL_TOP=1";
	return env;
}

/* In the child that becomes the command.  Order matters: limits and
 * identity while still privileged, then Landlock (needs no_new_privs, which
 * identity_drop set), then seccomp last, so nothing after it needs a call
 * it refuses. */
static void __attribute__((noreturn)) exec_command(const struct jail_config *cfg, char **argv,
						    bool first, int err_fd, const sigset_t *oldmask)
{
	struct landlock_policy lp = {
		.tcp_connect_port = cfg->net == NET_INDEX ? PIPJAIL_PROXY_PORT : -1,
		.net_unrestricted = cfg->net == NET_HOST || cfg->net == NET_SINKHOLE,
	};
	struct seccomp_notify_opts sn = { .connect = cfg->net == NET_SINKHOLE,
					  .fast_time = cfg->fast_time };
	int listener = -1;
	char err[512];
	int e;

	if (setsid() < 0)
		init_fail("setsid", strerror(errno));
	attach_terminal(cfg);
	if (limits_apply(&cfg->limits, cfg->user.uid, err, sizeof(err)) < 0)
		init_fail("limits", err);
	if (identity_drop(&cfg->user, err, sizeof(err)) < 0)
		init_fail("identity", err);
	/* As the user: the directory's own permissions apply. */
	if (chdir(cfg->cwd) < 0 && chdir(cfg->user.home) < 0)
		init_fail(cfg->cwd, strerror(errno));
	lp.rw_paths = writable_paths(cfg, &lp.n_rw);
	if (landlock_apply(&lp, err, sizeof(err)) < 0)
		init_fail("landlock", err);
	if (seccomp_install_notify(cfg->notify ? &sn : NULL, &listener, err, sizeof(err)) < 0)
		init_fail("seccomp", err);
	if (listener >= 0 && send_listener(cfg->notify_sock, listener) < 0)
		init_fail("handing the seccomp listener to the supervisor", strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		signal(forwarded[i], SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	environ = command_env(cfg, first);
	if (limits_apply_memory(&cfg->limits, err, sizeof(err)) < 0)
		init_fail("limits", err);
	/* The command's side of init's fork, last step: only stdin, stdout and
	 * stderr cross the exec.  Marked close-on-exec rather than closed, so
	 * that err_fd (itself close-on-exec) still reports a failed exec.
	 * close_inherited already closed what init inherited; this also covers
	 * whatever init opened since (its signalfd, the seccomp listener's
	 * socket, the control socket). */
	if (close_fds(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		init_fail("closing descriptors", strerror(errno));
	execvp(argv[0], argv);
	e = errno;
	write_all(err_fd, &e, sizeof(e));
	_exit(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);
}

static int status_to_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_PIPJAIL_ERROR;
}

/* Wait for exec: the error pipe closes on success, carries errno on failure. */
static int await_exec(char **argv, int rd)
{
	int e = 0;
	ssize_t n = read_all(rd, &e, sizeof(e));

	close(rd);
	if (n != (ssize_t)sizeof(e))
		return 0;
	if (e == ENOENT || e == ENOTDIR)
		fprintf(stderr, "pipjail: %s: command not found in the jail\n", argv[0]);
	else
		fprintf(stderr, "pipjail: %s: cannot execute: %s\n", argv[0], strerror(e));
	return e;
}

/* Start one command: fork, and in the child become it; returns when it
 * executed (or failed to: the child then exits 126 or 127). */
static pid_t start_command(const struct jail_config *cfg, char **argv, bool first, int sfd,
			   const sigset_t *oldmask)
{
	int pipefd[2];
	pid_t cmd;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		init_fail("pipe", strerror(errno));
	cmd = fork();
	if (cmd < 0)
		init_fail("fork", strerror(errno));
	if (cmd == 0) {
		close(pipefd[0]);
		close(sfd);
		exec_command(cfg, argv, first, pipefd[1], oldmask);
	}
	close(pipefd[1]);
	await_exec(argv, pipefd[0]);
	return cmd;
}

/* The commands running, each the leader of its own session (exec_command's
 * setsid), and which of them is the jail's first (its code is the jail's). */
struct running {
	struct {
		pid_t pid;
		uint32_t id;
		bool first;
	} cmd[JAIL_MAX_RUNNING];
	size_t n;
	int first_code;
};

static void answer(int ctl, uint32_t id, int code)
{
	struct jail_done d = { .id = id, .code = code };

	if (send(ctl, &d, sizeof(d), MSG_NOSIGNAL) != (ssize_t)sizeof(d))
		_exit(EXIT_PIPJAIL_ERROR); /* the supervisor is gone */
}

/* A signal: a forwarded one goes to every running command's process group;
 * SIGCHLD reaps.  The commands that ended are answered; when none runs any
 * more, whatever they left behind is killed first (a daemon that
 * double-forked and called setsid is still in this pid namespace), so that
 * the next command starts in a jail with no process of an earlier one. */
static void on_init_signal(int sfd, int ctl, struct running *rn)
{
	struct signalfd_siginfo si;
	struct jail_done done[JAIL_MAX_RUNNING];
	size_t n_done = 0;
	int status;
	pid_t p;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si)) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		init_fail("signalfd", strerror(errno));
	}
	if (si.ssi_signo != SIGCHLD) {
		for (size_t i = 0; i < rn->n; i++)
			kill(-rn->cmd[i].pid, (int)si.ssi_signo);
		return;
	}
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < rn->n; i++) {
			if (rn->cmd[i].pid != p)
				continue;
			done[n_done].id = rn->cmd[i].id;
			done[n_done].code = status_to_code(status);
			if (rn->cmd[i].first)
				rn->first_code = done[n_done].code;
			n_done++;
			rn->cmd[i] = rn->cmd[--rn->n];
			break;
		}
	}
	if (n_done > 0 && rn->n == 0) {
		kill(-1, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
	}
	for (size_t i = 0; i < n_done; i++)
		answer(ctl, done[i].id, done[i].code);
}

/* A JAIL_MSG_RUN request (enum jail_msg in jail.h): its id and argv,
 * pointing into buf; NULL for anything else (JAIL_MSG_END, EOF: the end). */
static char **read_request(int ctl, char *buf, size_t len, uint32_t *id)
{
	ssize_t n = recv(ctl, buf, len - 1, 0);
	size_t head = 1 + sizeof(*id), argc = 0;
	char **argv;

	if (n <= (ssize_t)head || buf[0] != JAIL_MSG_RUN)
		return NULL;
	memcpy(id, buf + 1, sizeof(*id));
	buf[n] = '\0';
	argv = xcalloc((size_t)n + 1, sizeof(char *));
	for (char *p = buf + head; p < buf + n; p += strlen(p) + 1)
		argv[argc++] = p;
	return argv;
}

/* Run what the supervisor sends, several commands at once, until it says
 * the end (or goes away); returns the first command's code. */
static int serve(const struct jail_config *cfg, int ctl, int sfd, const sigset_t *oldmask)
{
	static char req[65536];
	struct running rn = { .first_code = EXIT_PIPJAIL_ERROR };
	struct pollfd pf[2] = { { .fd = ctl, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
	bool first = true;

	for (;;) {
		uint32_t id = 0;
		char **argv;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			init_fail("poll", strerror(errno));
		}
		if (pf[1].revents & POLLIN)
			on_init_signal(sfd, ctl, &rn);
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		argv = read_request(ctl, req, sizeof(req), &id);
		if (!argv)
			return rn.first_code;
		if (rn.n == JAIL_MAX_RUNNING) {
			fprintf(stderr, "pipjail: %s: more than %d commands at once in the jail\n", argv[0],
				JAIL_MAX_RUNNING);
			answer(ctl, id, EXIT_PIPJAIL_ERROR);
		} else {
			rn.cmd[rn.n].pid = start_command(cfg, argv, first, sfd, oldmask);
			rn.cmd[rn.n].id = id;
			rn.cmd[rn.n++].first = first;
			first = false;
		}
		free(argv);
	}
}

void jail_init(const struct jail_config *cfg, int ctl)
{
	sigset_t mask, oldmask;
	char err[512], go = 0;
	int sfd, code;

	/* The supervisor's death must end the jail. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	take_terminal(cfg);
	close_inherited(cfg, ctl);
	if (recv(ctl, &go, 1, 0) != 1 || go != JAIL_MSG_BUILD)
		_exit(EXIT_PIPJAIL_ERROR);

	if (mounts_setup(cfg, err, sizeof(err)) < 0)
		init_fail("filesystem", err);
	if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		init_fail("hostname", strerror(errno));
	if (cfg->net != NET_HOST && netns_loopback_up(err, sizeof(err)) < 0)
		init_fail("loopback", err);
	/* Built: the supervisor may now look at the jail's files (to mark the
	 * decoys for the monitor) before it sends the command. */
	if (send(ctl, &(char){ JAIL_MSG_BUILT }, 1, 0) != 1)
		_exit(EXIT_PIPJAIL_ERROR);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&mask, forwarded[i]);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	/* PID 1 drops signals whose action is the default, so give each one
	 * a handler; being blocked, they queue for the signalfd. */
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		signal(forwarded[i], on_signal);
	signal(SIGCHLD, on_signal);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		init_fail("signalfd", strerror(errno));

	/* The first request is the command; its code is the jail's. */
	code = serve(cfg, ctl, sfd, &oldmask);
	/* whatever still runs ends with init */
	_exit(code);
}
