/* The eBPF monitor, for real (root): each test makes its own cgroup v2
 * child, runs a child process in it and asserts the decoded events.
 *   1. the known actions of build/helpers/actions (with a seccomp filter
 *      refusing ptrace), in the trace with the right fields and results
 *   2. a one-page ring buffer that is not drained while the child floods:
 *      the loss is counted exactly and the summary says "incomplete"
 *   3. two monitors on two cgroups at once: each sees only its own pids
 *   4. pipjail's own setup (a pipjail-like init cloned into the cgroup and
 *      its child before exec) is not in the trace; the command's first exec
 *      is trusted, an exec of pip's own entry point by the registered
 *      interpreter stays trusted, anything else (a build hook, a program
 *      merely named pip) is not and is killed in the kernel when it opens a
 *      pip_only file
 *   5. untrusted opens of a pip_only file: killed by SIGKILL before the
 *      next instruction, 200 times, with the kill latency; user space
 *      cannot make a process trusted (there is no such call)
 *   6. exec of a denied program: killed before it runs (no marker); in
 *      audit mode (enforce off) it runs and the event still names the rule
 *   7. the environment guard's second wall: an untrusted change to the
 *      environment (by absolute name, by a file opened for writing, by a
 *      directory fd of it) is killed before its next instruction, and the
 *      jail is poisoned: a bystander dies at its next system call
 *
 * The binary doubles as the programs those tests start: with "--do ACTION"
 * among its arguments it runs ACTION (see child_main). */
#include <errno.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <math.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include "observe/monitor.h"
#include "observe/trace.h"
#include "../unit.h"
#include "base/base.h"

/* ---- events kept for assertions -------------------------------------------- */

struct rec {
	char *kind, *syscall, *path, *abs, *path2, *abs2, *file, *str, *addr, *dns, *argv, *exe, *cwd,
	     *signal, *request, *comm, *kernel_rule;
	uint32_t pid, hpid, tid, ppid, child_hpid, child_pid;
	int64_t ret, target_pid;
	int port, exit_code;
	bool refused, file_valid, thread, killed_in_kernel, kernel_trusted;
	uint64_t ino, t_mono;
	uint32_t repeat;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void on_event(const struct trace_event *ev, void *ctx)
{
	struct recs *rs = ctx;
	struct rec *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	r->kind = dup_or_null(ev->kind);
	r->syscall = dup_or_null(ev->syscall);
	r->path = dup_or_null(ev->path);
	r->abs = dup_or_null(ev->abs);
	r->path2 = dup_or_null(ev->path2);
	r->abs2 = dup_or_null(ev->abs2);
	r->file = dup_or_null(ev->file);
	r->str = dup_or_null(ev->str);
	r->addr = dup_or_null(ev->addr);
	r->dns = dup_or_null(ev->dns_query);
	r->exe = dup_or_null(ev->exe);
	r->cwd = dup_or_null(ev->cwd);
	r->signal = dup_or_null(ev->signal);
	r->request = dup_or_null(ev->request);
	r->comm = dup_or_null(ev->comm);
	r->kernel_rule = dup_or_null(ev->kernel_rule);
	r->killed_in_kernel = ev->killed_in_kernel;
	r->kernel_trusted = ev->kernel_trusted;
	r->t_mono = ev->t_mono_ns;
	r->repeat = ev->repeat;
	if (ev->argv) {
		size_t len = 1;

		for (size_t i = 0; ev->argv[i]; i++)
			len += strlen(ev->argv[i]) + 1;
		r->argv = xcalloc(1, len);
		for (size_t i = 0; ev->argv[i]; i++) {
			if (i)
				strcat(r->argv, " ");
			strcat(r->argv, ev->argv[i]);
		}
	}
	r->pid = ev->pid;
	r->hpid = ev->hpid;
	r->tid = ev->tid;
	r->ppid = ev->ppid;
	r->child_hpid = ev->child_hpid;
	r->child_pid = ev->child_pid;
	r->ret = ev->ret;
	r->target_pid = ev->target_pid;
	r->port = ev->port;
	r->exit_code = ev->exit_code;
	r->refused = ev->refused;
	r->file_valid = ev->file_valid;
	r->thread = ev->thread;
	r->ino = ev->ino;
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct rec *r = &rs->v[i];
		char **s[] = { &r->kind, &r->syscall, &r->path, &r->abs, &r->path2, &r->abs2, &r->file,
			       &r->str, &r->addr, &r->dns, &r->argv, &r->exe, &r->cwd, &r->signal,
			       &r->request, &r->comm, &r->kernel_rule };

		for (size_t k = 0; k < ARRAY_SIZE(s); k++)
			free(*s[k]);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

static bool eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* First event of kind whose path (or, with path NULL, anything) matches. */
static const struct rec *find(const struct recs *rs, const char *kind, const char *path)
{
	for (size_t i = 0; i < rs->n; i++)
		if (eq(rs->v[i].kind, kind) && (!path || eq(rs->v[i].path, path)))
			return &rs->v[i];
	return NULL;
}

/* ---- cgroups and children ---------------------------------------------------- */

static const char *cg_root(void)
{
	struct statfs sf;

	if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup";
	return NULL;
}

static char *cg_make(const char *tag, uint64_t *id)
{
	char rnd[9];
	char *path;

	random_hex(rnd, 8);
	path = xasprintf("%s/pipjail-test-%s.%d.%s", cg_root(), tag, getpid(), rnd);
	if (mkdir(path, 0755) < 0)
		die_errno("mkdir %s", path);
	if (monitor_cgroup_id(path, id) < 0)
		die_errno("cgroup id of %s", path);
	return path;
}

static void cg_remove(char *path)
{
	for (int i = 0; i < 100 && rmdir(path) < 0 && errno == EBUSY; i++)
		usleep(10000);
	free(path);
}

/* Fork a child that joins cgroup cg, waits for a byte on a pipe, then runs fn. */
static pid_t spawn_in(const char *cg, int *go_fd, void (*fn)(void *), void *arg)
{
	int go[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		char *procs = xasprintf("%s/cgroup.procs", cg), b;

		close(go[1]);
		if (write_file(procs, "0") < 0)
			_exit(120);
		if (read(go[0], &b, 1) != 1)
			_exit(121);
		close(go[0]);
		fn(arg);
		_exit(0);
	}
	close(go[0]);
	*go_fd = go[1];
	return pid;
}

static void go(int fd)
{
	if (write(fd, "g", 1) != 1)
		die_errno("starting the child");
	close(fd);
}

/* Drain m (epoll, like the supervisor) until pid exits; returns its status. */
static int run_until_exit(struct monitor *m, pid_t pid)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), status = -1;
	struct epoll_event ev = { .events = EPOLLIN };

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, monitor_fd(m), &ev) < 0)
		die_errno("epoll");
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		epoll_wait(ep, &ev, 1, 20);
		monitor_consume(m);
	}
	monitor_consume(m);
	close(ep);
	return status;
}

/* ---- 1. known actions ------------------------------------------------------------ */

struct actions_arg {
	const char *helper, *decoy, *scratch;
};

static void run_actions(void *p)
{
	struct actions_arg *a = p;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = open("/dev/null", O_WRONLY);

	/* the helper's report would clutter the test output */
	if (fd >= 0) {
		dup2(fd, 1);
		close(fd);
	}
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 0) ||
	    seccomp_load(ctx))
		_exit(122);
	seccomp_release(ctx);
	execl(a->helper, "actions", a->decoy, a->scratch, (char *)NULL);
	_exit(127);
}

static char *helper_path(const char *argv0)
{
	char *copy = xstrdup(argv0), *path;
	char real[PATH_MAX];

	path = xasprintf("%s/../helpers/actions", dirname(copy));
	free(copy);
	if (!realpath(path, real)) {
		free(path);
		return NULL;
	}
	free(path);
	return xstrdup(real);
}

static void test_actions(const char *argv0)
{
	char tmpl[] = "/tmp/pipjail-test-monitor.XXXXXX";
	char *dir = mkdtemp(tmpl), *decoy, *scratch, *cg, *trace_path, *helper = helper_path(argv0);
	struct actions_arg a;
	struct recs rs = {};
	struct monitor *m = NULL;
	struct monitor_stats st;
	struct trace_writer *tw;
	const struct rec *r;
	char err[512];
	uint64_t cgid;
	int gofd, status, tfd;
	pid_t pid;

	if (!helper) {
		CHECK(0, "build/helpers/actions is missing: make build/helpers/actions");
		return;
	}
	if (!dir)
		die_errno("mkdtemp");
	decoy = xasprintf("%s/id_rsa", dir);
	scratch = xasprintf("%s/scratch", dir);
	trace_path = xasprintf("%s/trace.jsonl", dir);
	if (write_file(decoy, "-----BEGIN OPENSSH PRIVATE KEY----- decoy\n") < 0 || mkdir(scratch, 0755) < 0)
		die_errno("test files");
	cg = cg_make("actions", &cgid);

	tfd = open(trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tfd < 0)
		die_errno("%s", trace_path);
	tw = trace_writer_open(tfd);
	{
		const char *argv[] = { helper, decoy, scratch, NULL };
		struct trace_header h = { .argv = argv, .cgroup_id = cgid };

		CHECK_INT_EQ(trace_write_header(tw, &h), 0);
	}
	struct monitor_opts mo = { .cgroup_id = cgid, .buffer_mb = 4, .trace = tw,
				   .on_event = on_event, .ctx = &rs };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0) {
		CHECK(0, "monitor_open: %s", err);
		goto out;
	}
	a = (struct actions_arg){ helper, decoy, scratch };
	pid = spawn_in(cg, &gofd, run_actions, &a);
	go(gofd);
	status = run_until_exit(m, pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "actions exited with status 0x%x", status);
	monitor_stats(m, &st);
	CHECK_INT_EQ(st.lost, 0);
	CHECK_INT_EQ(st.bad_records, 0);
	CHECK(st.events == rs.n, "stats count %llu events, the callback saw %zu",
	      (unsigned long long)st.events, rs.n);
	{
		struct trace_summary s = { .lost = st.lost, .wait_status = status };

		CHECK_INT_EQ(trace_write_summary(tw, &s), 0);
		CHECK_INT_EQ(trace_writer_close(tw), 0);
	}

	/* every event is ours: the child's pid or its descendants */
	for (size_t i = 0; i < rs.n; i++)
		CHECK(rs.v[i].hpid != (uint32_t)getpid(), "event %s of the test process itself", rs.v[i].kind);

	/* the exec of the helper itself, with exe and argv */
	r = find(&rs, "exec", helper);
	CHECK(r != NULL, "no exec event for %s", helper);
	if (r) {
		CHECK(r->hpid == (uint32_t)pid, "exec by %u, expected %d", r->hpid, pid);
		CHECK_STR_EQ(r->exe, helper);
		CHECK(r->argv && strstr(r->argv, decoy), "argv %s", r->argv ? r->argv : "(null)");
	}

	/* 1. the decoy was opened, with the actual file */
	r = find(&rs, "open", decoy);
	CHECK(r != NULL, "no open event for the decoy %s", decoy);
	if (r) {
		struct stat sb;

		CHECK_STR_EQ(r->syscall, "openat");
		CHECK(r->ret >= 0, "open of the decoy returned %lld", (long long)r->ret);
		CHECK_STR_EQ(r->abs, decoy);
		CHECK_STR_EQ(r->file, decoy);
		CHECK(r->file_valid && stat(decoy, &sb) == 0 && r->ino == sb.st_ino,
		      "opened inode %llu", (unsigned long long)r->ino);
		CHECK_STR_EQ(r->comm, "actions");
		CHECK_STR_EQ(r->exe, helper);
		CHECK(r->hpid == (uint32_t)pid && r->pid == (uint32_t)pid, "pid %u hpid %u", r->pid, r->hpid);
		CHECK(r->ppid == (uint32_t)getpid(), "ppid %u, expected %d", r->ppid, getpid());
	}

	/* 2. the missing file: ENOENT */
	r = find(&rs, "open", "/nonexistent-pipjail/missing-file");
	CHECK(r != NULL, "no open event for the missing file");
	if (r) {
		CHECK_INT_EQ(r->ret, -ENOENT);
		CHECK(r->file == NULL, "a failed open has a file: %s", r->file);
	}

	/* 3. relative paths made absolute, the file behind a symlink */
	{
		char *f = xasprintf("%s/d/f", scratch), *g = xasprintf("%s/d/g", scratch);
		char *l = xasprintf("%s/d/l", scratch), *d = xasprintf("%s/d", scratch);

		r = find(&rs, "open", "d/f");
		CHECK(r && eq(r->abs, f) && eq(r->file, f), "create d/f: abs %s file %s",
		      r ? r->abs : "-", r ? r->file : "-");
		r = find(&rs, "mkdir", "d");
		CHECK(r && eq(r->abs, d) && r->ret == 0, "mkdir d: abs %s", r ? r->abs : "-");
		r = find(&rs, "rename", "d/f");
		CHECK(r && eq(r->abs, f) && eq(r->path2, "d/g") && eq(r->abs2, g), "rename: %s -> %s",
		      r ? r->abs : "-", r ? r->abs2 : "-");
		r = find(&rs, "symlink", "d/l");
		CHECK(r && eq(r->str, "g") && eq(r->abs, l), "symlink: %s -> %s", r ? r->abs : "-",
		      r ? r->str : "-");
		r = find(&rs, "chmod", "d/g");
		CHECK(r && eq(r->abs, g) && r->ret == 0, "chmod d/g");
		r = find(&rs, "open", "l");
		CHECK(r && eq(r->abs, l) && eq(r->file, g), "openat(dirfd, \"l\"): abs %s file %s",
		      r ? r->abs : "-", r ? r->file : "-");
		r = find(&rs, "unlink", "d/g");
		CHECK(r && eq(r->abs, g) && r->ret == 0, "unlink d/g");
		r = find(&rs, "rmdir", "d");
		CHECK(r && eq(r->abs, d) && r->ret == 0, "rmdir d");
		free(f);
		free(g);
		free(l);
		free(d);
	}

	/* 4. fork + exec /bin/echo with 3 args */
	r = find(&rs, "exec", "/bin/echo");
	CHECK(r != NULL, "no exec of /bin/echo");
	if (r) {
		CHECK_STR_EQ(r->argv, "echo one two three");
		CHECK(r->exe && strstr(r->exe, "echo"), "exe %s", r->exe ? r->exe : "(null)");
		CHECK(r->ppid == (uint32_t)pid, "echo's parent %u, expected %d", r->ppid, pid);
		CHECK(r->cwd && !strcmp(r->cwd, scratch), "cwd %s", r->cwd ? r->cwd : "(null)");
		const struct rec *f = NULL;

		for (size_t i = 0; i < rs.n; i++)
			if (eq(rs.v[i].kind, "fork") && rs.v[i].child_hpid == r->hpid)
				f = &rs.v[i];
		CHECK(f && f->hpid == (uint32_t)pid && !f->thread, "no fork event for echo's process");
	}

	/* 5. connect to 127.0.0.1:9 */
	r = find(&rs, "connect", NULL);
	CHECK(r && eq(r->addr, "127.0.0.1") && r->port == 9 && r->ret == -ECONNREFUSED,
	      "connect: %s:%d ret %lld", r ? r->addr : "-", r ? r->port : -1, r ? (long long)r->ret : 0);
	r = find(&rs, "socket", NULL);
	CHECK(r != NULL, "no socket event");

	/* 6. DNS query over UDP */
	r = find(&rs, "send", NULL);
	CHECK(r && eq(r->addr, "127.0.0.1") && r->port == 53, "send: %s:%d", r ? r->addr : "-",
	      r ? r->port : -1);
	CHECK(r && eq(r->dns, "exfiltrated-0123456789abcdef0123456789abcdef-data.a-rather-long-label-for-tests.pipjail-test.example"),
	      "dns query %s", r && r->dns ? r->dns : "(none)");

	/* 7. a child exits 7 */
	{
		const struct rec *e = NULL;

		for (size_t i = 0; i < rs.n; i++)
			if (eq(rs.v[i].kind, "exit") && rs.v[i].exit_code == 7 && rs.v[i].ppid == (uint32_t)pid)
				e = &rs.v[i];
		CHECK(e != NULL, "no exit event with code 7");
		r = NULL;
		for (size_t i = 0; i < rs.n; i++)
			if (eq(rs.v[i].kind, "exit") && rs.v[i].hpid == (uint32_t)pid)
				r = &rs.v[i];
		CHECK(r && r->exit_code == 0 && !r->thread, "the helper's own exit (code 0)");
	}

	/* 8. memfd_create */
	r = find(&rs, "memfd", NULL);
	CHECK(r && eq(r->str, "pipjail-memfd") && r->ret >= 0, "memfd: name %s", r ? r->str : "-");

	/* 9. ptrace refused by seccomp: never entered, seen at exit */
	r = find(&rs, "seccomp_refused", NULL);
	CHECK(r && eq(r->syscall, "ptrace") && r->ret == -EPERM && r->refused, "seccomp_refused ptrace: %s",
	      r ? r->syscall : "(none)");

	/* the trace on disk is valid and consistent */
	CHECK(trace_check_file(trace_path, NULL, err, sizeof(err)) == 0, "trace-check: %s", err);
	m = (monitor_close(m), NULL);
out:
	monitor_close(m);
	cg_remove(cg);
	if (unit_failed == 0 && !getenv("KEEP_TRACE")) {
		unlink(trace_path);
		unlink(decoy);
		rmdir(scratch);
		rmdir(dir);
	} else {
		fprintf(stderr, "test_monitor: trace kept in %s\n", trace_path);
	}
	recs_free(&rs);
	free(decoy);
	free(scratch);
	free(trace_path);
	free(helper);
}

/* ---- 2. a tiny ring buffer, not drained: the loss is counted exactly ------ */

#define FLOOD 20000

/* distinct paths: identical ones would be folded into one event */
static void flood(void *p)
{
	char path[64];

	(void)p;
	for (int i = 0; i < FLOOD; i++) {
		snprintf(path, sizeof(path), "/nonexistent-pipjail/flood-%d", i);
		open(path, O_RDONLY);
	}
	_exit(0);
}

static void test_loss(void)
{
	struct recs rs = {};
	struct monitor *m = NULL;
	struct monitor_stats st;
	char err[512], tp[] = "/tmp/pipjail-test-loss.XXXXXX";
	uint64_t cgid, opens = 0, exits = 0;
	char *cg = cg_make("loss", &cgid);
	int gofd, status, tfd = mkstemp(tp);
	struct trace_writer *tw;
	pid_t pid;

	if (tfd < 0)
		die_errno("mkstemp");
	tw = trace_writer_open(tfd);
	{
		const char *argv[] = { "flood", NULL };
		struct trace_header h = { .argv = argv };

		trace_write_header(tw, &h);
	}
	struct monitor_opts mo = { .cgroup_id = cgid, .buffer_bytes = 4096, .trace = tw,
				   .on_event = on_event, .ctx = &rs };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0) {
		CHECK(0, "monitor_open: %s", err);
		goto out;
	}
	pid = spawn_in(cg, &gofd, flood, NULL);
	go(gofd);
	/* no consuming while the child floods */
	if (waitpid(pid, &status, 0) != pid)
		die_errno("waitpid");
	monitor_consume(m);
	monitor_stats(m, &st);
	for (size_t i = 0; i < rs.n; i++) {
		opens += eq(rs.v[i].kind, "open") && rs.v[i].path &&
			 !strncmp(rs.v[i].path, "/nonexistent-pipjail/flood-", 27);
		exits += eq(rs.v[i].kind, "exit");
	}
	CHECK(st.lost > 0, "nothing lost with a one-page buffer and %d opens", FLOOD);
	CHECK(opens + exits + st.lost == FLOOD + 1,
	      "received %llu opens + %llu exits + %llu lost != %d expected",
	      (unsigned long long)opens, (unsigned long long)exits, (unsigned long long)st.lost, FLOOD + 1);
	CHECK(st.lost_ringbuf == st.lost, "lost %llu, of which ring buffer %llu",
	      (unsigned long long)st.lost, (unsigned long long)st.lost_ringbuf);
	{
		struct trace_summary s = { .lost = st.lost, .wait_status = status };
		FILE *f;
		char line[4096], last[4096] = "";

		trace_write_summary(tw, &s);
		CHECK_INT_EQ(trace_writer_close(tw), 0);
		tw = NULL;
		f = fopen(tp, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strchr(line, '\n'))
				strcpy(last, line);
		if (f)
			fclose(f);
		CHECK(strstr(last, "\"verdict\":\"incomplete\"") != NULL, "summary: %s", last);
		CHECK(trace_check_file(tp, NULL, err, sizeof(err)) == 0, "trace-check: %s", err);
	}
out:
	if (tw)
		trace_writer_close(tw);
	monitor_close(m);
	cg_remove(cg);
	unlink(tp);
	recs_free(&rs);
}

/* ---- 2b. identical failed lookups are folded, distinct ones never ---------- */

#define FOLD_N 5000

static void folder(void *p)
{
	char *dir = p;

	for (int i = 0; i < FOLD_N; i++)
		open("/nonexistent-pipjail/same", O_RDONLY);
	/* alternating: nothing to fold */
	for (int i = 0; i < 10; i++) {
		open("/nonexistent-pipjail/alt-a", O_RDONLY);
		open("/nonexistent-pipjail/alt-b", O_RDONLY);
	}
	/* the same relative name in two directories: two different files */
	for (int i = 0; i < 20; i++) {
		if (chdir(i % 2 ? "/" : dir) < 0)
			_exit(70);
		open("missing-rel", O_RDONLY);
	}
	/* same path, other flags: not identical */
	open("/nonexistent-pipjail/same", O_RDONLY | O_CLOEXEC);
	open("/nonexistent-pipjail/same", O_RDONLY);
	_exit(0);
}

static void test_fold(void)
{
	char tmpl[] = "/tmp/pipjail-test-fold.XXXXXX", err[512];
	char *dir = mkdtemp(tmpl), *cg;
	struct recs rs = {};
	struct monitor *m = NULL;
	struct monitor_stats st;
	uint64_t cgid, same = 0, same_lines = 0, alt = 0, rel_root = 0, rel_dir = 0;
	int gofd, status;
	pid_t pid;

	if (!dir)
		die_errno("mkdtemp");
	cg = cg_make("fold", &cgid);
	struct monitor_opts mo = { .cgroup_id = cgid, .buffer_mb = 4, .on_event = on_event, .ctx = &rs };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0) {
		CHECK(0, "monitor_open: %s", err);
		goto out;
	}
	pid = spawn_in(cg, &gofd, folder, dir);
	go(gofd);
	status = run_until_exit(m, pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "folder: status 0x%x", status);
	monitor_stats(m, &st);
	CHECK_INT_EQ(st.lost, 0);
	CHECK_INT_EQ(st.bad_records, 0);
	for (size_t i = 0; i < rs.n; i++) {
		const struct rec *r = &rs.v[i];
		uint64_t calls = r->repeat ? r->repeat : 1;  /* a repeat line stands for its count */

		if (!eq(r->kind, "open") || r->hpid != (uint32_t)pid)
			continue;
		CHECK(r->ret == -ENOENT, "open of %s returned %lld", r->path, (long long)r->ret);
		if (eq(r->path, "/nonexistent-pipjail/same")) {
			same += calls;
			same_lines++;
		} else if (r->path && !strncmp(r->path, "/nonexistent-pipjail/alt-", 25)) {
			alt += calls;
			CHECK(r->repeat == 0, "alternating paths folded");
		} else if (eq(r->abs, "/missing-rel")) {
			rel_root += calls;
		} else if (r->abs && !strncmp(r->abs, dir, strlen(dir))) {
			rel_dir += calls;
		}
	}
	/* every call accounted for, exactly */
	CHECK_INT_EQ(same, FOLD_N + 2);
	CHECK(same_lines <= 5, "%llu lines for %d identical calls", (unsigned long long)same_lines, FOLD_N);
	CHECK_INT_EQ(alt, 20);
	CHECK_INT_EQ(rel_root, 10);
	CHECK_INT_EQ(rel_dir, 10);
	CHECK(st.folded >= FOLD_N - 5, "folded %llu", (unsigned long long)st.folded);
out:
	monitor_close(m);
	cg_remove(cg);
	rmdir(dir);
	recs_free(&rs);
}

/* ---- 3. two monitors, two cgroups ---------------------------------------------- */

static void opener(void *p)
{
	const char *tag = p;
	char path[64];

	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/nonexistent-pipjail/%s-%d", tag, i);
		open(path, O_RDONLY);
		if (i % 50 == 0) {
			pid_t c = fork();

			if (c == 0) {
				open(path, O_RDONLY);
				_exit(0);
			}
			waitpid(c, NULL, 0);
		}
	}
}

static void test_two_jails(void)
{
	struct recs rs[2] = {};
	struct monitor *m[2] = {};
	const char *tags[2] = { "jailA", "jailB" };
	char *cg[2] = {};
	uint64_t id[2];
	pid_t pid[2];
	char err[512];
	int gofd[2];

	for (int j = 0; j < 2; j++) {
		cg[j] = cg_make(tags[j], &id[j]);
		struct monitor_opts mo = { .cgroup_id = id[j], .buffer_mb = 1, .on_event = on_event,
					   .ctx = &rs[j] };
		if (monitor_open(&m[j], &mo, err, sizeof(err)) < 0) {
			CHECK(0, "monitor_open: %s", err);
			goto out;
		}
	}
	for (int j = 0; j < 2; j++)
		pid[j] = spawn_in(cg[j], &gofd[j], opener, (void *)tags[j]);
	go(gofd[0]);
	go(gofd[1]);
	for (int j = 0; j < 2; j++)
		run_until_exit(m[j], pid[j]);
	for (int j = 0; j < 2; j++) {
		monitor_consume(m[j]);
		size_t mine = 0, others = 0;
		uint32_t kids[8] = {};
		size_t nk = 0;

		for (size_t i = 0; i < rs[j].n; i++)
			if (eq(rs[j].v[i].kind, "fork") && rs[j].v[i].hpid == (uint32_t)pid[j] && nk < 8)
				kids[nk++] = rs[j].v[i].child_hpid;
		for (size_t i = 0; i < rs[j].n; i++) {
			const struct rec *r = &rs[j].v[i];
			bool own = r->hpid == (uint32_t)pid[j];

			for (size_t k = 0; k < nk; k++)
				own |= r->hpid == kids[k];
			if (own)
				mine++;
			else
				others++;
			if (r->path && strstr(r->path, tags[1 - j]))
				CHECK(0, "monitor %s saw %s", tags[j], r->path);
		}
		CHECK(others == 0, "monitor %s saw %zu events of other processes", tags[j], others);
		CHECK(mine >= 200 + 4, "monitor %s saw only %zu of its own events", tags[j], mine);
		CHECK_INT_EQ(nk, 4);
	}
out:
	for (int j = 0; j < 2; j++) {
		monitor_close(m[j]);
		if (cg[j])
			cg_remove(cg[j]);
		recs_free(&rs[j]);
	}
}

/* ---- the programs the kernel-rule tests start (test_monitor --do ...) ------ */

static char self_exe[PATH_MAX];

/* Run this binary again with argv0/argv1 chosen (to look like pip or like a
 * build hook), doing "--do open PATH"; returns its wait status. */
static int run_self(const char *argv0, const char *argv1, const char *argv2, const char *path)
{
	pid_t c = fork();
	int st = -1;

	if (c < 0)
		return -1;
	if (c == 0) {
		const char *v[8];
		int n = 0;

		v[n++] = argv0;
		if (argv1)
			v[n++] = argv1;
		if (argv2)
			v[n++] = argv2;
		v[n++] = "--do";
		v[n++] = "open";
		v[n++] = path;
		v[n] = NULL;
		execv(self_exe, (char *const *)v);
		_exit(127);
	}
	if (waitpid(c, &st, 0) != c)
		return -1;
	return st;
}

static bool killed_by(int st, int sig)
{
	return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

static bool exited_0(int st)
{
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* pip's entry points as test_own_setup_and_roles registers them (with this
 * binary as the environment's interpreter). */
#define ENTRY_RUNNER "/venv/lib/pip/__pip-runner__.py"
#define ENTRY_SCRIPT "/venv/bin/pip3.11"

/* The jailed command (trusted by the kernel: the init's child's first
 * exec).  It reads the protected file itself, then starts a build hook and
 * a program merely named pip (must be killed), `python3 -m pip`, pip's
 * runner and pip's console script run by the interpreter (must not).  Exit
 * code: a bit per unexpected outcome. */
static int child_cmd(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), bad = 0;

	if (fd < 0)
		bad |= 1;
	else
		close(fd);
	if (!killed_by(run_self("python3", "setup.py", NULL, path), SIGKILL))
		bad |= 2;
	if (!exited_0(run_self("python3", "-m", "pip", path)))
		bad |= 4;
	if (!exited_0(run_self("/usr/bin/python3", ENTRY_RUNNER, NULL, path)))
		bad |= 8;
	if (!exited_0(run_self("python3", ENTRY_SCRIPT, NULL, path)))
		bad |= 16;
	if (!killed_by(run_self("pip3.11", NULL, NULL, path), SIGKILL))
		bad |= 32;
	if (!killed_by(run_self("python3", "/tmp/evil/pip3.11", NULL, path), SIGKILL))
		bad |= 64;
	return bad;
}

static int child_main(int argc, char **argv, int at)
{
	const char *action = at + 1 < argc ? argv[at + 1] : "";
	const char *arg = at + 2 < argc ? argv[at + 2] : "";

	if (!strcmp(action, "open")) {
		int fd = open(arg, O_RDONLY | O_CLOEXEC);

		return fd < 0 ? 3 : 0;
	}
	if (!strcmp(action, "cmd"))
		return child_cmd(arg);
	return 126;
}

/* ---- 4. pipjail's own setup is hidden; roles at exec ------------------------ */

#define NOISE_INIT "/nonexistent-pipjail/setup-noise-init"
#define NOISE_CHILD "/nonexistent-pipjail/setup-noise-child"

/* Like pipjail's init: setup calls, then one child that does more setup
 * and execs the command. */
static void __attribute__((noreturn)) fake_init(const char *protected_path)
{
	int st, fd;
	pid_t cmd;

	prctl(PR_SET_NAME, "pj-init", 0, 0, 0);
	if (chdir("/") < 0)
		_exit(90);
	open(NOISE_INIT, O_RDONLY);
	fd = open(protected_path, O_RDONLY);  /* pipjail's own: neither recorded nor killed */
	if (fd < 0)
		_exit(91);
	close(fd);
	cmd = fork();
	if (cmd < 0)
		_exit(92);
	if (cmd == 0) {
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		open(NOISE_CHILD, O_RDONLY);
		execl(self_exe, "pip", "--do", "cmd", protected_path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(cmd, &st, 0) != cmd)
		_exit(93);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st));
}

/* clone3 straight into the cgroup, as the supervisor starts the jail. */
static pid_t clone_into(const char *cg, void (*fn)(const char *), const char *arg)
{
	int cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
	pid_t pid;

	if (cgfd < 0)
		die_errno("%s", cg);
	ca.cgroup = (uint64_t)cgfd;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0)
		die_errno("clone3 into %s", cg);
	if (pid == 0)
		fn(arg);
	close(cgfd);
	return pid;
}

static char *make_protected(char *dir)
{
	char *f = xasprintf("%s/pip.conf", dir);

	if (write_file(f, "[global]\nindex-url = https://user:secret@127.0.0.1/simple\n") < 0)
		die_errno("%s", f);
	return f;
}

static void test_own_setup_and_roles(void)
{
	char tmpl[] = "/tmp/pipjail-test-roles.XXXXXX", err[512];
	char *dir = mkdtemp(tmpl), *conf, *cg;
	struct recs rs = {};
	struct monitor *m = NULL;
	struct monitor_stats st;
	uint64_t cgid;
	int status;
	uint32_t cmd = 0;
	pid_t init;

	if (!dir)
		die_errno("mkdtemp");
	conf = make_protected(dir);
	cg = cg_make("roles", &cgid);
	struct monitor_opts mo = { .cgroup_id = cgid, .buffer_mb = 4, .on_event = on_event, .ctx = &rs };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0) {
		CHECK(0, "monitor_open: %s", err);
		goto out;
	}
	CHECK_INT_EQ(monitor_protect_path(m, conf), 0);
	{
		/* this binary plays the environment's interpreter */
		static const char *const entries[] = { ENTRY_RUNNER, ENTRY_SCRIPT };
		struct stat self;
		struct monitor_anchors a = { .interps = &self, .n_interps = 1, .entries = entries,
					     .n_entries = 2 };

		if (stat(self_exe, &self) < 0)
			die_errno("%s", self_exe);
		CHECK_INT_EQ(monitor_set_anchors(m, &a), 0);
	}
	CHECK_INT_EQ(monitor_set_enforce(m, true), 0);
	init = clone_into(cg, fake_init, conf);
	status = run_until_exit(m, init);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the command saw unexpected outcomes: status 0x%x (bits: 1 pip could not read, 2 hook not "
	      "killed, 4 -m pip killed, 8 runner killed, 16 console script killed, 32 a program named "
	      "pip3.11 not killed, 64 a script named pip3.11 outside the entry points not killed)",
	      status);
	monitor_stats(m, &st);
	CHECK_INT_EQ(st.lost, 0);
	CHECK(st.suppressed >= 6, "only %llu events suppressed", (unsigned long long)st.suppressed);
	CHECK_INT_EQ(st.kills, 3);

	/* nothing of the setup: no noise paths, no prctl, no open of the file by init */
	for (size_t i = 0; i < rs.n; i++) {
		const struct rec *r = &rs.v[i];

		CHECK(!eq(r->path, NOISE_INIT) && !eq(r->path, NOISE_CHILD), "setup noise recorded: %s %s",
		      r->kind, r->path);
		CHECK(r->hpid != (uint32_t)init || eq(r->kind, "fork") || eq(r->kind, "exit"),
		      "an event of the init itself: %s %s", r->kind, r->path ? r->path : "");
		if (eq(r->kind, "fork") && r->hpid == (uint32_t)init)
			cmd = r->child_hpid;
	}
	/* the tree: init's fork of the command, the command's exec, its events */
	CHECK(cmd != 0, "no fork event from the init");
	/* the command's setup (before its exec) is not recorded either */
	for (size_t i = 0; i < rs.n && cmd; i++) {
		const struct rec *r = &rs.v[i];

		if (r->hpid != cmd)
			continue;
		CHECK(eq(r->kind, "exec"), "the command's first event is %s (%s), not its exec", r->kind,
		      r->request ? r->request : r->path ? r->path : "");
		break;
	}
	{
		const struct rec *ex = NULL, *op = NULL, *ie = NULL;

		for (size_t i = 0; i < rs.n; i++) {
			const struct rec *r = &rs.v[i];

			if (r->hpid == cmd && eq(r->kind, "exec"))
				ex = r;
			if (r->hpid == cmd && eq(r->kind, "open") && eq(r->path, conf))
				op = r;
			if (r->hpid == (uint32_t)init && eq(r->kind, "exit"))
				ie = r;
		}
		CHECK(ex && ex->kernel_trusted && ex->argv && !strncmp(ex->argv, "pip --do cmd", 12),
		      "the command's exec (trusted): %s", ex && ex->argv ? ex->argv : "(none)");
		CHECK(op && op->ret >= 0 && !op->kernel_rule && !op->killed_in_kernel,
		      "the command (pip) reads the protected file, unharmed");
		CHECK(ie != NULL && ie->exit_code == 0, "init's exit is recorded");
	}
	/* each exec's role, each open's fate */
	{
		int hooks = 0, pips = 0;

		for (size_t i = 0; i < rs.n; i++) {
			const struct rec *r = &rs.v[i];

			if (!eq(r->kind, "exec") || !r->argv || !strstr(r->argv, "--do open"))
				continue;
			const struct rec *o = NULL, *x = NULL;

			for (size_t k = 0; k < rs.n; k++) {
				if (rs.v[k].hpid != r->hpid)
					continue;
				if (eq(rs.v[k].kind, "open") && eq(rs.v[k].path, conf))
					o = &rs.v[k];
				if (eq(rs.v[k].kind, "exit"))
					x = &rs.v[k];
			}
			if (!strncmp(r->argv, "python3 setup.py", 16) || !strncmp(r->argv, "pip3.11 --do", 12) ||
			    strstr(r->argv, "/tmp/evil/")) {
				hooks++;
				CHECK(!r->kernel_trusted, "classified as pip: %s", r->argv);
				CHECK(o && eq(o->kernel_rule, "pip_only") && o->killed_in_kernel,
				      "the hook's open: rule %s killed %d", o ? o->kernel_rule : "-",
				      o ? o->killed_in_kernel : -1);
				CHECK(x && eq(x->signal, "SIGKILL"), "the hook's exit: %s", x ? x->signal : "(none)");
			} else {
				pips++;
				CHECK(r->kernel_trusted, "a pip exec not trusted: %s", r->argv);
				CHECK(o && !o->kernel_rule && !o->killed_in_kernel, "pip's open flagged: %s",
				      r->argv);
			}
		}
		CHECK_INT_EQ(hooks, 3);
		CHECK_INT_EQ(pips, 3);
	}
out:
	monitor_close(m);
	cg_remove(cg);
	unlink(conf);
	rmdir(dir);
	free(conf);
	recs_free(&rs);
}

/* ---- 5. pip_only opens by untrusted processes: killed, and how fast --------- */

#define KILL_TRIES 200

struct kill_shm {
	struct {
		uint64_t t_call, t_reaped;
		int32_t code, status;  /* waitid's si_code / si_status */
		int32_t survived;
		uint32_t hpid;
	} v[KILL_TRIES];
};

static struct kill_shm *kshm;
static const char *kill_path;

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Inside the cgroup, untrusted: KILL_TRIES children each open the file
 * once (open, openat, openat2 in turn). */
static void killer_parent(void *p)
{
	(void)p;
	for (int i = 0; i < KILL_TRIES; i++) {
		pid_t c = fork();
		siginfo_t si = {};

		if (c < 0)
			_exit(80);
		if (c == 0) {
			int fd;

			kshm->v[i].t_call = mono();
			if (i % 3 == 0) {
				fd = open(kill_path, O_RDONLY);
			} else if (i % 3 == 1) {
				fd = openat(AT_FDCWD, kill_path, O_RDONLY);
			} else {
				struct open_how how = { .flags = O_RDONLY };

				fd = (int)syscall(SYS_openat2, AT_FDCWD, kill_path, &how, sizeof(how));
			}
			/* only reached when the kernel did not kill */
			kshm->v[i].survived = fd >= 0 ? 1 : 2;
			_exit(0);
		}
		kshm->v[i].hpid = c;
		if (waitid(P_PID, c, &si, WEXITED) < 0)
			_exit(81);
		kshm->v[i].t_reaped = mono();
		kshm->v[i].code = si.si_code;
		kshm->v[i].status = si.si_status;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_latency(const char *what, uint64_t *v, size_t n)
{
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("test_monitor: in-kernel kill latency, %s: median %.1f us, p99 %.1f us, max %.1f us (%zu tries)\n",
	       what, v[n / 2] / 1e3, v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e3, v[n - 1] / 1e3, n);
}

static void test_pip_only_kills(void)
{
	char tmpl[] = "/tmp/pipjail-test-kill.XXXXXX", err[512];
	char *dir = mkdtemp(tmpl), *conf, *cg;
	struct recs rs = {};
	struct monitor *m = NULL;
	struct monitor_stats st;
	uint64_t cgid, *lat_sent = NULL, *lat_exit = NULL, *lat_wait = NULL;
	size_t ns = 0, nk = 0, nw = 0;
	int status, gofd, killed = 0, survived = 0;
	pid_t pid;

	if (!dir)
		die_errno("mkdtemp");
	conf = make_protected(dir);
	kill_path = conf;
	kshm = mmap(NULL, sizeof(*kshm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kshm == MAP_FAILED)
		die_errno("mmap");
	cg = cg_make("kill", &cgid);
	struct monitor_opts mo = { .cgroup_id = cgid, .buffer_mb = 4, .on_event = on_event, .ctx = &rs };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0) {
		CHECK(0, "monitor_open: %s", err);
		goto out;
	}
	CHECK_INT_EQ(monitor_protect_path(m, conf), 0);
	CHECK(monitor_protect_path(m, "/nonexistent-pipjail/x") < 0 && errno == ENOENT,
	      "protecting a missing file fails with ENOENT");
	CHECK_INT_EQ(monitor_set_enforce(m, true), 0);
	pid = spawn_in(cg, &gofd, killer_parent, NULL);
	go(gofd);
	status = run_until_exit(m, pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the untrusted parent: status 0x%x", status);
	lat_sent = xcalloc(KILL_TRIES, sizeof(uint64_t));
	lat_exit = xcalloc(KILL_TRIES, sizeof(uint64_t));
	lat_wait = xcalloc(KILL_TRIES, sizeof(uint64_t));
	for (int i = 0; i < KILL_TRIES; i++) {
		const struct rec *o = NULL, *x = NULL;

		if (kshm->v[i].code == CLD_KILLED && kshm->v[i].status == SIGKILL)
			killed++;
		if (kshm->v[i].survived)
			survived++;
		for (size_t k = 0; k < rs.n; k++) {
			if (rs.v[k].hpid != kshm->v[i].hpid)
				continue;
			if (eq(rs.v[k].kind, "open") && eq(rs.v[k].path, conf))
				o = &rs.v[k];
			if (eq(rs.v[k].kind, "exit"))
				x = &rs.v[k];
		}
		CHECK(o && eq(o->kernel_rule, "pip_only") && o->killed_in_kernel && o->ret >= 0,
		      "try %d: the open event does not say killed_in_kernel", i);
		if (o && o->t_mono > kshm->v[i].t_call)
			lat_sent[ns++] = o->t_mono - kshm->v[i].t_call;
		if (x && x->t_mono > kshm->v[i].t_call)
			lat_exit[nk++] = x->t_mono - kshm->v[i].t_call;
		if (kshm->v[i].t_reaped > kshm->v[i].t_call)
			lat_wait[nw++] = kshm->v[i].t_reaped - kshm->v[i].t_call;
	}
	CHECK(killed == KILL_TRIES, "%d of %d untrusted opens were killed by SIGKILL", killed, KILL_TRIES);
	CHECK(survived == 0, "%d children ran past the open", survived);
	monitor_stats(m, &st);
	CHECK_INT_EQ(st.kills, KILL_TRIES);
	CHECK_INT_EQ(st.lost, 0);
	print_latency("call -> SIGKILL sent at the call's return", lat_sent, ns);
	print_latency("call -> process exit (sched_process_exit)", lat_exit, nk);
	print_latency("call -> reaped by waitid", lat_wait, nw);
out:
	monitor_close(m);
	cg_remove(cg);
	munmap(kshm, sizeof(*kshm));
	unlink(conf);
	rmdir(dir);
	free(conf);
	free(lat_sent);
	free(lat_exit);
	free(lat_wait);
	recs_free(&rs);
}

/* ---- 6. a denied program is killed before it runs --------------------------- */

struct exec_arg {
	const char *prog, *marker;
};

static void exec_sh(void *p)
{
	struct exec_arg *a = p;
	char *cmd = xasprintf("echo ran > %s", a->marker);

	execl(a->prog, "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	autoclose int in = open(from, O_RDONLY | O_CLOEXEC);
	autoclose int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	char buf[65536];
	ssize_t n;

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n) < 0)
			return -1;
	return n < 0 ? -1 : 0;
}

static void test_denied_exec(void)
{
	char tmpl[] = "/tmp/pipjail-test-deny.XXXXXX", err[512];
	char *dir = mkdtemp(tmpl), *sh, *mk[3], *cg;
	struct recs rs = {};
	struct monitor *m = NULL;
	uint64_t cgid;
	int gofd, st[3];
	pid_t pid[3];

	if (!dir)
		die_errno("mkdtemp");
	sh = xasprintf("%s/sh-copy", dir);
	for (int i = 0; i < 3; i++)
		mk[i] = xasprintf("%s/marker%d", dir, i);
	if (copy_file("/bin/sh", sh, 0755) < 0)
		die_errno("copying /bin/sh to %s", sh);
	cg = cg_make("deny", &cgid);
	struct monitor_opts mo = { .cgroup_id = cgid, .buffer_mb = 4, .on_event = on_event, .ctx = &rs };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0) {
		CHECK(0, "monitor_open: %s", err);
		goto out;
	}
	CHECK_INT_EQ(monitor_deny_exec(m, sh), 0);
	CHECK_INT_EQ(monitor_set_enforce(m, true), 0);
	/* 0: the denied copy (killed); 1: the original /bin/sh (runs) */
	for (int i = 0; i < 2; i++) {
		struct exec_arg a = { i == 0 ? sh : "/bin/sh", mk[i] };

		pid[i] = spawn_in(cg, &gofd, exec_sh, &a);
		go(gofd);
		st[i] = run_until_exit(m, pid[i]);
	}
	/* 2: audit mode: the rule is recorded, nothing is killed */
	monitor_set_enforce(m, false);
	{
		struct exec_arg a = { sh, mk[2] };

		pid[2] = spawn_in(cg, &gofd, exec_sh, &a);
		go(gofd);
		st[2] = run_until_exit(m, pid[2]);
	}
	CHECK(killed_by(st[0], SIGKILL), "the denied program: status 0x%x", st[0]);
	CHECK(access(mk[0], F_OK) < 0, "the denied program ran: %s exists", mk[0]);
	CHECK(exited_0(st[1]) && access(mk[1], F_OK) == 0, "the control (/bin/sh) did not run");
	CHECK(exited_0(st[2]) && access(mk[2], F_OK) == 0, "audit mode: the program did not run");
	for (int i = 0; i < 3; i++) {
		const struct rec *e = NULL, *x = NULL;

		for (size_t k = 0; k < rs.n; k++) {
			if (rs.v[k].hpid != (uint32_t)pid[i])
				continue;
			if (eq(rs.v[k].kind, "exec"))
				e = &rs.v[k];
			if (eq(rs.v[k].kind, "exit"))
				x = &rs.v[k];
		}
		CHECK(e != NULL, "run %d: no exec event", i);
		if (!e)
			continue;
		if (i == 1) {
			CHECK(!e->kernel_rule && !e->killed_in_kernel, "/bin/sh flagged");
		} else {
			CHECK(eq(e->kernel_rule, "denied_exec"), "run %d: rule %s", i, e->kernel_rule);
			CHECK(e->killed_in_kernel == (i == 0), "run %d: killed_in_kernel %d", i,
			      e->killed_in_kernel);
		}
		CHECK(x && (i == 0 ? eq(x->signal, "SIGKILL") : x->exit_code == 0), "run %d: exit", i);
	}
out:
	monitor_close(m);
	cg_remove(cg);
	for (int i = 0; i < 3; i++) {
		unlink(mk[i]);
		free(mk[i]);
	}
	unlink(sh);
	rmdir(dir);
	free(sh);
	recs_free(&rs);
}

/* ---- 7. the environment guard's second wall ----------------------------------- */

/* What the untrusted children of env_guard_parent saw: each kind of change
 * (by name: 0 absolute mkdir, 1 open for writing, 2 relative mkdir in a
 * directory of the environment) must die before its next instruction, and
 * the jail is then poisoned: a bystander dies at its next system call. */
struct guard_shm {
	volatile int32_t read_ok;         /* a read-only open in the environment survived */
	volatile int32_t survived[3];     /* a change went on past its call */
	volatile int32_t status[3];
	volatile int32_t bystander;       /* 1: the parent lived on after the poison */
};
static struct guard_shm *gshm;
static char guard_env[PATH_MAX];

static void guard_change(int kind)
{
	char p[PATH_MAX + 16];
	int fd;

	if (kind == 0) {
		snprintf(p, sizeof(p), "%s/planted", guard_env);
		mkdir(p, 0755);
	} else if (kind == 1) {
		snprintf(p, sizeof(p), "%s/evil.pth", guard_env);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		(void)fd;
	} else {
		fd = open(guard_env, O_PATH | O_DIRECTORY | O_CLOEXEC);
		mkdirat(fd, "planted2", 0755);
	}
	gshm->survived[kind] = 1;
	_exit(0);
}

static void guard_change_one(void *kind)
{
	guard_change((int)(intptr_t)kind);
}

static void env_guard_parent(void *unused)
{
	char readme[PATH_MAX + 16];
	int fd, st;
	pid_t c;

	(void)unused;
	snprintf(readme, sizeof(readme), "%s/README", guard_env);
	fd = open(readme, O_RDONLY | O_CLOEXEC);
	gshm->read_ok = fd >= 0;
	{
		int kind = 0;

		if ((c = fork()) == 0)
			guard_change(kind);
		waitpid(c, &st, 0);   /* poisoned by kind 0: dies on its return */
		gshm->status[kind] = st;
		gshm->bystander = 1;
		_exit(0);
	}
	_exit(0);
}

static void test_env_guard(void)
{
	char tmpl[] = "/tmp/pipjail-test-guard.XXXXXX", err[512], readme[PATH_MAX + 16];
	char *dir = mkdtemp(tmpl), *cg;
	struct recs rs = {};
	struct monitor *m = NULL;
	struct stat st;
	uint64_t cgid;
	int status, gofd;
	pid_t pid;

	if (!dir)
		die_errno("mkdtemp");
	snprintf(guard_env, sizeof(guard_env), "%s/env", dir);
	/* the environment: a file system of its own, as the overlay is */
	if (mkdir(guard_env, 0777) < 0 || mount("tmpfs", guard_env, "tmpfs", 0, "mode=0777") < 0)
		die_errno("mounting a tmpfs on %s", guard_env);
	snprintf(readme, sizeof(readme), "%s/README", guard_env);
	if (write_file(readme, "hello\n") < 0 || stat(guard_env, &st) < 0)
		die_errno("%s", readme);
	gshm = mmap(NULL, sizeof(*gshm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (gshm == MAP_FAILED)
		die_errno("mmap");
	cg = cg_make("guard", &cgid);
	struct monitor_opts mo = { .cgroup_id = cgid, .buffer_mb = 4, .on_event = on_event, .ctx = &rs };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0) {
		CHECK(0, "monitor_open: %s", err);
		goto out;
	}
	{
		struct monitor_anchors a = { .env_dev = st.st_dev, .env_path = guard_env };

		CHECK_INT_EQ(monitor_set_anchors(m, &a), 0);
	}
	CHECK_INT_EQ(monitor_set_enforce(m, true), 0);
	pid = spawn_in(cg, &gofd, env_guard_parent, NULL);
	go(gofd);
	status = run_until_exit(m, pid);
	CHECK(gshm->read_ok == 1, "a read-only open in the environment is left alone");
	CHECK(!gshm->survived[0], "an absolute mkdir in the environment: killed before its next "
	      "instruction");
	/* the parent, blocked in waitpid meanwhile, dies on that call's return */
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && gshm->bystander == 0,
	      "the jail was poisoned: a bystander died at its next system call (status 0x%x)", status);
	{
		const struct rec *hit = NULL, *x = NULL;

		for (size_t i = 0; i < rs.n; i++)
			if (eq(rs.v[i].kernel_rule, "env_write"))
				hit = &rs.v[i];
		for (size_t i = 0; hit && i < rs.n; i++)
			if (rs.v[i].hpid == hit->hpid && eq(rs.v[i].kind, "exit"))
				x = &rs.v[i];
		CHECK(hit && hit->killed_in_kernel && eq(hit->kind, "mkdir"),
		      "the mkdir's record names the environment guard and the kill");
		CHECK(x && eq(x->signal, "SIGKILL"), "the mkdir's process died of SIGKILL");
	}
	/* the other two kinds, each in a fresh monitor (the first one's jail is
	 * poisoned for good) */
	for (int kind = 1; kind < 3; kind++) {
		struct monitor *m2 = NULL;
		struct recs rs2 = {};
		struct monitor_opts mo2 = { .cgroup_id = cgid, .buffer_mb = 4, .on_event = on_event,
					    .ctx = &rs2 };
		struct monitor_anchors a = { .env_dev = st.st_dev, .env_path = "/nonexistent-env" };

		monitor_close(m);
		m = NULL;
		if (monitor_open(&m2, &mo2, err, sizeof(err)) < 0) {
			CHECK(0, "monitor_open: %s", err);
			break;
		}
		/* a path prefix that never matches: the device alone must catch it */
		CHECK_INT_EQ(monitor_set_anchors(m2, &a), 0);
		CHECK_INT_EQ(monitor_set_enforce(m2, true), 0);
		gshm->survived[kind] = 0;
		pid = spawn_in(cg, &gofd, guard_change_one, (void *)(intptr_t)kind);
		go(gofd);
		status = run_until_exit(m2, pid);
		CHECK(killed_by(status, SIGKILL) && !gshm->survived[kind],
		      "change %d (%s) in the environment by its device: killed (0x%x)", kind,
		      kind == 1 ? "open for writing" : "mkdirat in a dir fd of it", status);
		monitor_close(m2);
		recs_free(&rs2);
	}
out:
	monitor_close(m);
	cg_remove(cg);
	umount2(guard_env, MNT_DETACH);
	rmdir(guard_env);
	rmdir(dir);
	recs_free(&rs);
	munmap(gshm, sizeof(*gshm));
}

int main(int argc, char **argv)
{
	if (!realpath("/proc/self/exe", self_exe))
		die_errno("/proc/self/exe");
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--do"))
			return child_main(argc, argv, i);
	if (geteuid() != 0) {
		printf("test_monitor: SKIPPED (needs root)\n");
		return 0;
	}
	if (!cg_root()) {
		printf("test_monitor: SKIPPED (no cgroup v2 mount)\n");
		return 0;
	}
	test_actions(argv[0]);
	test_loss();
	test_fold();
	test_two_jails();
	test_own_setup_and_roles();
	test_pip_only_kills();
	test_env_guard();
	test_denied_exec();
	return unit_summary("test_monitor");
}
