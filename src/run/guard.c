/* The guardian: a small process forked by the supervisor once the jail's
 * cgroup, the stage and the jail's init exist, before anything runs in the
 * jail (while the monitor loads in another thread: off the start's
 * critical path; the monitor is attached after it, so it holds no link).
 * It holds a pidfd of the supervisor and waits.  When the supervisor ends
 * the way it should, it says so (guard_disarm) and the guardian exits.  When the
 * supervisor dies any other way (a crash, abort, an OOM kill, SIGKILL,
 * die() half-way), the guardian puts the host back as a finished run
 * would have left it, without trusting anything of the dead run:
 *   - the jail's cgroup is killed (cgroup.kill) and the cgroups removed;
 *     the jail's mounts die with its mount namespace, the monitor's BPF
 *     links with the supervisor's descriptors;
 *   - the stage directory is removed, unless a commit had started (its
 *     journal is left for `pipjail recover`, which the guardian names);
 *   - --report gets a report whose verdict is "incomplete";
 *   - its last line on stderr is the verdict:
 *       pipjail: verdict: incomplete (pipjail itself failed: SIGSEGV)
 * Nothing is committed by the guardian.
 *
 * What it trusts: the pidfd (the kernel says when the supervisor is gone,
 * whoever else holds the socket) and messages on its socket only when the
 * kernel's SCM_CREDENTIALS say the supervisor sent them: a process of the
 * jail that held a copy of the socket could not disarm it.  The cause of
 * death comes from the supervisor's own fatal-signal hook or its exit hook
 * (both send one message), else from the exit status in /proc/PID/stat
 * while the supervisor is still a zombie (read only while pidfd_send_signal
 * says that pid is still it).
 *
 * Cost: one fork while the monitor loads (the start waits for the load,
 * not for the fork); at the end one message, and the guardian's exit runs
 * while the supervisor unloads the monitor. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decide/engine.h"
#include "jail/jail.h"
#include "report/report.h"
#include "run/internal.h"
#include "stage/stage.h"
#include "base/base.h"

enum { MSG_DONE = 'D', MSG_SIGNAL = 'S', MSG_EXIT = 'E' };

struct guard_msg {
	char kind;
	int value;
};

/* The supervisor's side: its end of the socket, for the hooks. */
static int notify_fd = -1;

/* Signals whose default action ends the process and that the supervisor
 * does not read through its signalfd. */
static const int fatal_signals[] = {
	SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP, SIGXCPU, SIGXFSZ, SIGPIPE,
};
static struct sigaction prev_action[NSIG];

static void notify(char kind, int value)
{
	struct guard_msg m = { .kind = kind, .value = value };

	if (notify_fd >= 0)
		send(notify_fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Tell the guardian, then do what was done before: the previous handler
 * (ASan's report in the sanitizer build), ignore, or die of it. */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *p = &prev_action[sig];
	int saved = errno;

	if (p->sa_handler != SIG_IGN)
		notify(MSG_SIGNAL, sig);
	errno = saved;
	if ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction) {
		p->sa_sigaction(sig, si, uc);
		return;
	}
	if (p->sa_handler == SIG_IGN)
		return;
	if (p->sa_handler != SIG_DFL) {
		p->sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);  /* delivered when the handler returns (a fault: re-executed) */
}

static void on_exit_hook(int status, void *arg)
{
	(void)arg;
	notify(MSG_EXIT, status);
}

static void hooks_install(int fd)
{
	struct sigaction sa = { .sa_sigaction = on_fatal, .sa_flags = SA_SIGINFO };

	notify_fd = fd;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
		sigaction(fatal_signals[i], &sa, &prev_action[fatal_signals[i]]);
	on_exit(on_exit_hook, NULL);
}

/* ---- the guardian ------------------------------------------------------------ */

static const char *sig_text(int sig, char *buf, size_t len)
{
	const char *abbrev = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* The dead supervisor's wait status from /proc/PID/stat (field 52,
 * exit_code) while it is a zombie; -1 when it was reaped already. */
static int zombie_status(pid_t pid, int pidfd)
{
	char path[64], buf[2048], *p;
	int status = -1, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	/* the pid is still the supervisor's: the zombie is not reaped yet */
	if (n <= 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 52; field++)
		p = strchr(p + 1, ' ');
	if (p && sscanf(p + 1, "%d", &status) != 1)
		status = -1;
	return status;
}

/* Kill every task of the jail: cgroup.kill (Linux 5.14), else each pid of
 * cgroup.procs until none is left. */
static void kill_jail(const struct jail_cgroup *cg)
{
	autofree char *kill_path = xasprintf("%s/cgroup.kill", cg->v2_path);
	autofree char *procs = xasprintf("%s/cgroup.procs", cg->v2_path);

	if (write_file(kill_path, "1") == 0)
		return;
	for (int round = 0; round < 100; round++) {
		char buf[4096];
		int fd = open(procs, O_RDONLY | O_CLOEXEC), n = 0;
		ssize_t got = fd < 0 ? -1 : read_all(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		if (got <= 0)
			return;
		buf[got] = '\0';
		for (char *p = buf, *end; *p; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
				n++;
		}
		if (!n)
			return;
		usleep(10000);
	}
}

/* The stage: removed, unless a commit started (its journal says how far it
 * went: `pipjail recover` finishes or undoes it). */
static void settle_stage(struct stage *s)
{
	autoclose int dfd = -1;

	if (!s)
		return;
	dfd = open(stage_dir(s), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return;  /* the supervisor removed it already */
	if (journal_exists(dfd) && !journal_is_done(dfd)) {
		warnx_("a commit had started: its journal is kept in %s; run 'pipjail recover %s'",
		       stage_dir(s), stage_target(s));
		return;
	}
	if (journal_is_done(dfd))
		warnx_("the install had been committed into %s", stage_target(s));
	else
		warnx_("the install was not committed: %s is unchanged", stage_target(s));
	stage_discard(s);
}

static void write_report(struct run *r, int code)
{
	struct engine_outcome o = { .incomplete = true, .command_code = -1,
				    .trace_path = r->opt->trace_path };

	if (r->report_fd < 0 || !r->engine)
		return;
	engine_set_outcome(r->engine, &o);
	if (lseek(r->report_fd, 0, SEEK_SET) < 0 || ftruncate(r->report_fd, 0) < 0 ||
	    report_write_json_fd(r->engine, r->report_fd, code) < 0)
		warn_errno("--report %s", r->opt->report_path);
}

static void cleanup(struct run *r, pid_t sup, int pidfd, const struct guard_msg *cause)
{
	char why[64], sig[32];
	int status = -1, code = EXIT_PIPJAIL_ERROR;

	if (cause->kind == MSG_SIGNAL) {
		status = cause->value & 0x7f;       /* as a wait status: killed by it */
	} else if (cause->kind == MSG_EXIT) {
		status = (cause->value & 0xff) << 8;
	} else {
		status = zombie_status(sup, pidfd);
	}
	if (status < 0)
		snprintf(why, sizeof(why), "killed");
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "%s", sig_text(WTERMSIG(status), sig, sizeof(sig)));
	else
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
	if (status >= 0)
		code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	warnx_("pipjail itself failed (%s): the jail is killed, nothing is committed", why);
	kill_jail(&r->cg);
	cgroup_destroy(&r->cg);
	settle_stage(r->stage);
	write_report(r, code);
	warnx_("verdict: incomplete (pipjail itself failed: %s)", why);
}

/* One message from the supervisor (SCM_CREDENTIALS say who sent it):
 * 1 read, 0 end of the socket (every holder closed it), -1 nothing. */
static int read_msg(int sock, pid_t sup, struct guard_msg *out)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} c;
	struct guard_msg m = { 0 };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT);
	bool from_sup = false;

	if (n == 0)
		return 0;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		struct ucred uc;

		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&uc, CMSG_DATA(h), sizeof(uc));
			from_sup = uc.pid == sup;
		}
	}
	if (n != (ssize_t)sizeof(m) || !from_sup)
		return -1;
	*out = m;
	return 1;
}

/* The guardian's life: wait for the supervisor's word or its end. */
static __attribute__((noreturn)) void guard_main(struct run *r, pid_t sup, int pidfd, int sock)
{
	static const int quiet[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGTSTP, SIGTTIN,
				     SIGTTOU, SIGUSR1, SIGUSR2 };
	struct guard_msg cause = { 0 }, m;
	sigset_t none;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), got;

	prctl(PR_SET_NAME, "pipjail-guard");
	/* The terminal's ^C and ^Z are the supervisor's to handle; the
	 * guardian outlives whatever ends the supervisor. */
	for (size_t i = 0; i < ARRAY_SIZE(quiet); i++)
		signal(quiet[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	/* the jail's init must see the supervisor's end as its end */
	closep(&r->ctl);
	for (;;) {
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN },
				       { .fd = sock, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		while (sock >= 0 && (got = read_msg(sock, sup, &m)) != -1) {
			if (got == 0) {
				sock = -1;  /* closed by all: the pidfd alone tells now */
			} else if (m.kind == MSG_DONE) {
				_exit(0);
			} else if (!cause.kind) {
				cause = m;
			}
		}
		if (p[0].revents)
			break;
	}
	cleanup(r, sup, pidfd, &cause);
	_exit(0);
}

void guard_start(struct run *r)
{
	pid_t sup = getpid(), pid;
	int sv[2], pidfd;

	r->guard = -1;
	r->guard_fd = -1;
	pidfd = (int)syscall(SYS_pidfd_open, sup, 0);
	if (pidfd < 0) {
		debugx(1, "no guardian (pidfd_open: %s): a crash of pipjail would leave the jail's "
		       "cgroup and stage behind", strerror(errno));
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0) {
		warn_errno("the guardian's socket");
		close(pidfd);
		return;
	}
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		guard_main(r, sup, pidfd, sv[1]);
	}
	close(pidfd);
	close(sv[1]);
	if (pid < 0) {
		warn_errno("fork (the guardian)");
		close(sv[0]);
		return;
	}
	r->guard = pid;
	r->guard_fd = sv[0];
	hooks_install(sv[0]);
}

/* The jail is gone, the stage settled, the verdict printed: the guardian
 * leaves while the supervisor unloads the monitor and removes the (empty)
 * cgroups; should the supervisor die in that last step, the next run
 * removes what is left (cgroup_reap_stale). */
void guard_disarm(struct run *r)
{
	struct guard_msg m = { .kind = MSG_DONE };

	if (r->guard <= 0 || r->guard_fd < 0)
		return;
	notify_fd = -1;
	if (send(r->guard_fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		kill(r->guard, SIGKILL);  /* it would take our exit for a failure */
	closep(&r->guard_fd);
}

void guard_done(struct run *r)
{
	if (r->guard <= 0)
		return;
	guard_disarm(r);
	while (waitpid(r->guard, NULL, 0) < 0 && errno == EINTR)
		;
	r->guard = -1;
}
