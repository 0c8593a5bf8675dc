/* The supervisor: pipjail's own process, outside the jail.  It creates the
 * jail's cgroup, loads the monitor scoped to it, starts the jail's init in
 * new namespaces directly inside that cgroup, then waits: forwarding
 * signals, enforcing the timeout, draining events, until init is gone.  On
 * every way out it removes what it created. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "jail/jail.h"
#include "decide/engine.h"
#include "observe/monitor.h"
#include "net/net.h"
#include "run/internal.h"
#include "base/base.h"

static const int handled_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD,
};

/* Each bind becomes a detached copy of its mount tree, made here in the
 * host's mount namespace and attached by init inside the jail's.  The path
 * is opened with the user's rights: a setcap'd pipjail must not show a file
 * the user could not reach (a 0644 file inside a 0700 directory). */
static void open_bind_trees(struct jail_config *cfg)
{
	for (size_t i = 0; i < cfg->n_binds; i++) {
		struct jail_bind *b = &cfg->binds[i];
		autoclose int fd = open_as_user(&cfg->user, b->path, O_PATH | O_NOFOLLOW, 0);

		if (fd < 0)
			die_errno("%s", b->path);
		b->fd = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				     AT_EMPTY_PATH | AT_RECURSIVE);
		if (b->fd < 0)
			die_errno("cloning the mount tree of %s", b->path);
	}
}

/* clone3 with every namespace and CLONE_INTO_CGROUP: the init is born in
 * the jail's cgroup.  Its pidfd names it to the monitor (monitor_adopt_init),
 * which is still loading when it is born. */
static pid_t spawn_init(struct run *r, int ctl_child, int *pidfd, uint64_t *fork_ts)
{
	struct clone_args args = {
		.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
			 CLONE_INTO_CGROUP | CLONE_PIDFD |
			 (r->cfg->net == NET_HOST ? 0 : CLONE_NEWNET),
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)r->cg.v2_fd,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));

	*fork_ts = now_ns();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &r->orig_mask, NULL);
		close(r->ctl);
		jail_init(r->cfg, ctl_child);
	}
	return pid;
}

static void epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die_errno("epoll_ctl");
}

void run_epoll_add(struct run *r, int fd)
{
	epoll_add(r->epfd, fd);
}

static void setup_events(struct run *r)
{
	sigset_t mask;

	sigemptyset(&mask);
	for (size_t i = 0; i < ARRAY_SIZE(handled_signals); i++)
		sigaddset(&mask, handled_signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, &r->orig_mask) < 0)
		die_errno("sigprocmask");
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->sfd < 0 || r->epfd < 0)
		die_errno("signalfd/epoll");
	epoll_add(r->epfd, r->sfd);
	if (r->opt->timeout_s) {
		struct itimerspec its = { .it_value.tv_sec = (time_t)r->opt->timeout_s };

		r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (r->tfd < 0 || timerfd_settime(r->tfd, 0, &its, NULL) < 0)
			die_errno("timerfd");
		epoll_add(r->epfd, r->tfd);
	}
}

/* Returns true once init has exited. */
static bool on_signal(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sig = (int)si.ssi_signo;

		if (sig == SIGCHLD) {
			if (waitpid(r->init, &r->init_status, WNOHANG) == r->init)
				return true;
			continue;
		}
		if (sig == SIGWINCH && pty_resize(r))
			continue;
		/* A second Ctrl-C or TERM means "stop now": kill the jail. */
		if ((sig == SIGINT || sig == SIGTERM) && ++r->interrupts > 1) {
			pty_release(r);
			if (r->interrupts == 2)
				warnx_("interrupted again: killing the jail");
			kill(r->init, SIGKILL);
			continue;
		}
		kill(r->init, sig);
	}
	return false;
}

/* Ask init to start argv in the jail; it answers with id when it ends. */
static int send_run(struct run *r, uint32_t id, char *const *argv)
{
	char buf[65536];
	size_t len = 1 + sizeof(id);

	buf[0] = JAIL_MSG_RUN;
	memcpy(buf + 1, &id, sizeof(id));
	for (size_t i = 0; argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (len + n > sizeof(buf)) {
			warnx_("the command line is longer than %zu bytes", sizeof(buf));
			return -1;
		}
		memcpy(buf + len, argv[i], n);
		len += n;
	}
	return send(r->ctl, buf, len, 0) == (ssize_t)len ? 0 : -1;
}

/* How many checks run at once in the jail: one per CPU this process may
 * run on (the import checks and the start-up probe are independent
 * interpreters, each attributed by its own marker). */
static size_t checks_at_once(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > JAIL_MAX_RUNNING ? JAIL_MAX_RUNNING : (size_t)n;
}

/* Start the staged install's checks (src/run/install.c) while there are
 * free slots; once none runs and none is left, end the jail. */
static void start_checks(struct run *r)
{
	size_t at_once = checks_at_once();
	uint32_t id;
	char **argv;

	while (r->running < at_once && !engine_killed(r->engine) &&
	       (argv = install_next_command(r, r->running, &id))) {
		engine_set_next_command_role(r->engine, ROLE_IMPORT);
		if (send_run(r, id, argv) == 0)
			r->running++;
		else  /* a check that could not start is one that did not complete */
			install_command_done(r, id, EXIT_PIPJAIL_ERROR);
	}
	if (r->running == 0)
		send(r->ctl, &(char){ JAIL_MSG_END }, 1, 0);
}

/* init finished a command.  After the command, the checks of a staged
 * install run in the same jail: the import check of each distribution
 * and the start-up probe, several at once (each its own process, so that
 * what it does is attributed to it), then the bytecode check; then the
 * jail ends. */
static void on_ctl(struct run *r)
{
	struct jail_done d;

	if (recv(r->ctl, &d, sizeof(d), MSG_DONTWAIT) != (ssize_t)sizeof(d))
		return;
	/* the guardian's test: the supervisor dies with the stage full and
	 * the jail still standing */
	if (failpoint("supervisor-crash"))
		abort();
	if (r->running > 0)
		r->running--;
	if (r->runs++ == 0) {
		r->command_code = d.code;
		if (r->mon)
			monitor_consume(r->mon); /* the engine's view must be current */
	} else {
		install_command_done(r, d.id, d.code);
	}
	start_checks(r);
}

static void on_timeout(struct run *r)
{
	pty_release(r);
	warnx_("timeout: the command ran longer than %llu s; the jail was killed",
	       r->opt->timeout_s);
	r->timed_out = true;
	kill(r->init, SIGKILL);
}

static void wait_loop(struct run *r)
{
	for (;;) {
		struct epoll_event evs[4];
		/* The monitor wakes us at once only for rare events; frequent file
		 * events wait in the ring buffer for this tick.  The trace is
		 * written out on it too, so that tail -f follows the run. */
		int n = epoll_wait(r->epfd, evs, ARRAY_SIZE(evs), MONITOR_POLL_MS);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_errno("epoll_wait");
		}
		if (n == 0) {
			if (r->mon)
				monitor_consume(r->mon);
			if (r->trace)
				trace_writer_flush(r->trace);
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == r->sfd && on_signal(r))
				return;
			if (fd == r->tfd && !r->timed_out)
				on_timeout(r);
			if (fd == r->ctl)
				on_ctl(r);
			if (r->mon && fd == monitor_fd(r->mon))
				monitor_consume(r->mon);
			if (r->proxy && fd == proxy_fd(r->proxy))
				proxy_handle(r->proxy);
			sink_handle(r, fd);
			pty_handle(r, fd);
		}
	}
}

static int exit_code(struct run *r)
{
	int st = r->init_status;

	if (r->timed_out)
		return EXIT_TIMEOUT;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (r->interrupts > 1)
		return 128 + SIGINT;
	warnx_("the jail's init died from signal %d", WTERMSIG(st));
	return EXIT_PIPJAIL_ERROR;
}

/* The trace file is opened first, with the user's rights, so that a bad
 * path fails before anything is built. */
static void open_trace(struct run *r)
{
	int fd;

	if (!r->opt->trace_path)
		return;
	fd = open_as_user(&r->cfg->user, r->opt->trace_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die_errno("--trace %s", r->opt->trace_path);
	r->trace = trace_writer_open(fd);
}

/* The header carries what a later reader needs to judge the events: the
 * decoy tokens of this run, the user, the options. */
static void write_trace_header(struct run *r)
{
	const struct jail_config *cfg = r->cfg;
	char num[5][24];
	struct trace_option opts[] = {
		{ "timeout_s", num[0] }, { "buffer_mb", num[1] }, { "max_procs", num[2] },
		{ "max_mem_mb", num[3] }, { "cwd", cfg->cwd }, { "user", cfg->user.name },
		{ "uid", num[4] }, { "home", cfg->user.home }, { "hostname", cfg->hostname },
	};
	cJSON *extra = cJSON_CreateObject(), *decoys = cJSON_AddArrayToObject(extra, "decoys");
	cJSON *binds = cJSON_AddArrayToObject(extra, "binds");
	cJSON_AddItemToObject(extra, "profile", profile_to_json(r->profile));
	struct trace_header h = {
		.argv = (const char *const *)cfg->argv, .options = opts, .n_options = ARRAY_SIZE(opts),
		.cgroup_id = r->cg.id, .extra = extra,
	};

	snprintf(num[0], sizeof(num[0]), "%llu", r->opt->timeout_s);
	snprintf(num[1], sizeof(num[1]), "%llu", r->opt->buffer_mb);
	snprintf(num[2], sizeof(num[2]), "%llu", cfg->limits.max_procs);
	snprintf(num[3], sizeof(num[3]), "%llu", cfg->limits.max_mem_mb);
	snprintf(num[4], sizeof(num[4]), "%u", cfg->user.uid);
	for (size_t i = 0; i < cfg->decoys.n; i++) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "where", cfg->decoys.items[i].where);
		cJSON_AddStringToObject(d, "token", cfg->decoys.items[i].token);
		cJSON_AddItemToArray(decoys, d);
	}
	for (size_t i = 0; i < cfg->n_binds; i++) {
		cJSON *b = cJSON_CreateObject();

		cJSON_AddStringToObject(b, "path", cfg->binds[i].path);
		cJSON_AddBoolToObject(b, "writable", cfg->binds[i].writable);
		/* below a throwaway writable layer (src/jail/mounts.c layer()) */
		cJSON_AddBoolToObject(b, "layer", cfg->binds[i].layer);
		if (cfg->binds[i].pip_only)
			cJSON_AddBoolToObject(b, "pip_only", true);
		if (cfg->binds[i].why)
			cJSON_AddStringToObject(b, "why", cfg->binds[i].why);
		cJSON_AddItemToArray(binds, b);
	}
	unixsock_header(r, extra);
	if (trace_write_header(r->trace, &h) < 0)
		warn_errno("writing the trace header to %s", r->opt->trace_path);
	cJSON_Delete(extra);
}

/* SIGINT or SIGTERM stopped the command (install.c's test too): the run
 * did not show all the command would have done, so it is never clean. */
static bool cut_short(const struct run *r)
{
	return r->interrupts > 0 && (r->command_code != 0 || r->checks_cut);
}

static void close_trace(struct run *r, int code, uint64_t lost)
{
	cJSON *extra;
	struct trace_summary s = { .lost = lost, .wait_status = r->init_status };

	if (!r->trace)
		return;
	extra = cJSON_CreateObject();
	cJSON_AddNumberToObject(extra, "exit_code", code);
	cJSON_AddBoolToObject(extra, "timed_out", r->timed_out);
	s.extra = extra;
	s.incomplete = code == EXIT_PIPJAIL_ERROR || cut_short(r);
	if (trace_write_summary(r->trace, &s) < 0 || trace_writer_close(r->trace) < 0)
		warn_errno("writing the trace %s", r->opt->trace_path);
	r->trace = NULL;
	cJSON_Delete(extra);
}

/* The monitor's load (mostly the kernel's verifier) runs in this thread
 * while the main thread builds the jail.  It is started after the init's
 * clone3: the clone must happen while the process has one thread (a raw
 * clone3 does not take glibc's locks the way fork() does). */
struct monitor_loader {
	pthread_t thread;
	struct run *r;
	bool started;
	int rc;
	char err[512];
};

static void monitor_failed(const char *err)
{
	warnx_("the monitor could not start: %s (pipjail doctor tells which kernel feature is "
	       "missing)", err);
}

static void *load_monitor(void *arg)
{
	struct monitor_loader *ld = arg;
	struct monitor_opts mo = { .cgroup_id = ld->r->cg.id, .buffer_mb = (unsigned)ld->r->opt->buffer_mb,
				   .on_event = engine_on_event, .ctx = ld->r->engine,
				   .unix_guard = ld->r->cfg->unix_guard };

	ld->rc = monitor_load(&ld->r->mon, &mo, ld->err, sizeof(ld->err));
	if (ld->rc == 0 && failpoint("monitor-load")) {
		snprintf(ld->err, sizeof(ld->err), "monitor: failpoint monitor-load");
		ld->rc = -1;
	}
	return NULL;
}

static void loader_start(struct monitor_loader *ld, struct run *r)
{
	int e;

	ld->r = r;
	engine_set_trace(r->engine, r->trace);
	e = pthread_create(&ld->thread, NULL, load_monitor, ld);
	if (e) {
		/* no thread: load here, nothing overlaps */
		debugx(1, "monitor: no loader thread (%s): loading in turn", strerror(e));
		load_monitor(ld);
		return;
	}
	ld->started = true;
}

/* -1: the monitor could not be loaded (said why). */
static int loader_join(struct monitor_loader *ld)
{
	if (ld->started)
		pthread_join(ld->thread, NULL);
	ld->started = false;
	if (ld->rc < 0) {
		monitor_failed(ld->err);
		return -1;
	}
	return 0;
}

/* The init is built and waiting for its command: mark it as pipjail's own,
 * then start recording.  -1: said why. */
static int start_monitor(struct run *r, int init_pidfd, uint64_t fork_ts)
{
	char err[512];

	if (monitor_adopt_init(r->mon, init_pidfd, r->init, fork_ts) < 0) {
		warn_errno("the monitor could not adopt the jail's init");
		return -1;
	}
	if (monitor_attach(r->mon, err, sizeof(err)) < 0) {
		monitor_failed(err);
		return -1;
	}
	epoll_add(r->epfd, monitor_fd(r->mon));
	return 0;
}

/* init has exited: everything the jail did is in the ring buffer. */
static uint64_t drain_monitor(struct run *r)
{
	struct monitor_stats st = { 0 };

	if (!r->mon)
		return 0;
	monitor_consume(r->mon);
	monitor_stats(r->mon, &st);
	if (st.lost)
		warnx_("the trace is incomplete: %llu events were lost (try a larger --buffer-mb)",
		       (unsigned long long)st.lost);
	return st.lost;
}

/* Wait for init to say the jail is built.  It prints its own reason when
 * it cannot build it, then exits (EOF here). */
static bool jail_built(struct run *r)
{
	char m = 0;

	while (recv(r->ctl, &m, 1, 0) < 0 && errno == EINTR)
		;
	return m == JAIL_MSG_BUILT;
}

static void kill_init(struct run *r)
{
	kill(r->init, SIGKILL);
	waitpid(r->init, NULL, 0);
}

/* Build the jail while the monitor loads (the two take about as long as
 * each other), then start recording and hand the init its command.
 * -1: nothing ran. */
static int start_jail(struct run *r, uint64_t *monitor_ns, uint64_t *build_ns)
{
	struct monitor_loader ld = { 0 };
	uint64_t fork_ts = 0, t0;
	int sv[2], pidfd = -1, rc = -1;
	char err[512] = "";
	bool built;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		warn_errno("socketpair");
		return -1;
	}
	r->ctl = sv[0];
	epoll_add(r->epfd, r->ctl);
	t0 = now_ns();
	r->init = spawn_init(r, sv[1], &pidfd, &fork_ts);
	close(sv[1]);
	/* The jail's init holds its own copies of the mount trees now. */
	for (size_t i = 0; i < r->cfg->n_binds; i++)
		closep(&r->cfg->binds[i].fd);
	pty_started(r);
	if (r->init < 0) {
		warn_errno("creating the jail (clone3 with new namespaces)");
		return -1;
	}
	loader_start(&ld, r);
	/* in the shadow of the monitor's load; before anything runs in the jail */
	guard_start(r);
	built = cgroup_attach_v1(&r->cg, r->init, err, sizeof(err)) == 0 && egress_listen(r) == 0 &&
		sink_listen(r) == 0 && send(r->ctl, &(char){ JAIL_MSG_BUILD }, 1, 0) == 1 && jail_built(r);
	*build_ns = now_ns() - t0;
	if (built && failpoint("jail-build")) {
		snprintf(err, sizeof(err), "the jail: failpoint jail-build");
		built = false;
	}
	if (!built && err[0])
		warnx_("%s", err);
	/* joined on every path: no thread outlives this function */
	if (loader_join(&ld) < 0 || !built || start_monitor(r, pidfd, fork_ts) < 0 || unixsock_attach(r) < 0)
		goto out;
	*monitor_ns = monitor_load_ns(r->mon);
	anchors_arm(r);
	policy_arm_kernel(r);
	if (send_run(r, 0, r->cfg->argv) < 0)
		goto out;
	r->running = 1;
	rc = 0;
out:
	if (rc < 0) {
		kill_init(r);
		/* nothing ran: the programs go now, attached or not */
		monitor_close(r->mon);
		r->mon = NULL;
	}
	closep(&pidfd);
	return rc;
}

void run_opts_init(struct run_opts *o)
{
	*o = (struct run_opts){ .buffer_mb = 16, .import_check = true };
}

int jail_run(struct jail_config *cfg, const struct run_opts *opt)
{
	struct run r = { .cfg = cfg, .opt = opt, .sfd = -1, .tfd = -1, .epfd = -1, .ctl = -1,
			 .report_fd = -1, .init_status = -1, .command_code = -1, .guard = -1,
			 .guard_fd = -1 };
	char err[512] = "";
	uint64_t lost = 0;
	int code = EXIT_PIPJAIL_ERROR;
	bool ran = false;

	uint64_t t[8], monitor_ns = 0, build_ns = 0;

	/* Everything that can refuse bad input does so before anything exists. */
	t[0] = now_ns();
	policy_load(&r);
	egress_prepare(&r);
	sink_prepare(&r);
	open_trace(&r);
	open_bind_trees(cfg);
	t[1] = now_ns();
	install_prepare(&r);
	cgroup_reap_stale();
	if (cgroup_create(&r.cg, cfg->limits.max_procs, cfg->limits.max_mem_mb, err, sizeof(err)) < 0) {
		warnx_("%s", err);
		goto cleanup;
	}
	unixsock_prepare(&r);
	t[2] = now_ns();
	if (r.trace)
		write_trace_header(&r);
	setup_events(&r);
	if (pty_open(&r) < 0)
		goto cleanup;
	t[3] = now_ns();
	if (start_jail(&r, &monitor_ns, &build_ns) < 0)
		goto cleanup;
	t[4] = now_ns();
	ran = true;
	wait_loop(&r);
	pty_finish(&r);   /* the command's last output before pipjail's own lines */
	t[5] = now_ns();
	code = exit_code(&r);
	/* the command succeeded, its checks were interrupted: 128+N as for
	 * an interrupted command (init's code is the command's) */
	if (r.checks_cut && code == 0)
		code = 128 + SIGINT;
	if (cgroup_pids_max_hits(&r.cg))
		warnx_("the jail hit its process limit (%llu, --max-procs)", cfg->limits.max_procs);

cleanup:
	pty_finish(&r);
	lost = drain_monitor(&r);
	if (ran) {
		struct engine_outcome o = { .lost = lost, .timed_out = r.timed_out,
					    .incomplete = cut_short(&r), .command_code = code,
					    .trace_path = opt->trace_path };
		int own_code = code;

		sink_finish(&r);
		engine_set_outcome(r.engine, &o);
		unixsock_finish(&r);
		install_check(&r);
		code = engine_exit_code(r.engine, code);
		/* interrupted: the verdict says incomplete, the exit stays 128+N */
		if (o.incomplete && !lost && code == EXIT_INCOMPLETE)
			code = own_code;
		if (install_settle(&r, code == 0 && r.command_code == 0) < 0)
			code = EXIT_PIPJAIL_ERROR;
		policy_finish(&r, code);
	} else {
		install_settle(&r, false);
	}
	guard_disarm(&r);  /* the jail is gone, the stage settled, the verdict out */
	closep(&r.ctl);
	install_free(&r);
	close_trace(&r, code, lost);
	monitor_close(r.mon);
	egress_free(&r);
	sink_free(&r);
	cgroup_destroy(&r.cg);
	policy_free(&r);
	guard_done(&r);
	if (ran) {
		t[6] = now_ns();
		/* make bench reads this line: the cost of each phase, in ms. */
		debugx(1, "timing: profile+options %.1f ms, staging+cgroup %.1f ms, jail start %.1f ms "
		       "(monitor load+attach %.1f ms in parallel with building the jail %.1f ms), "
		       "command (incl. mounts) %.1f ms, verdict+commit+cleanup %.1f ms",
		       (t[1] - t[0]) / 1e6, (t[2] - t[1]) / 1e6, (t[4] - t[3]) / 1e6, monitor_ns / 1e6,
		       build_ns / 1e6, (t[5] - t[4]) / 1e6, (t[6] - t[5]) / 1e6);
	}
	/* -v: the verdict is still the last line */
	if (r.verdict_again) {
		fputs(r.verdict_again, stderr);
		free(r.verdict_again);
	}
	return code;
}
