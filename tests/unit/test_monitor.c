/* The eBPF monitor, for real (root): each test makes its own cgroup v2
 * child, runs a child process in it and asserts the decoded events.
 *   1. the known actions of build/helpers/actions (with a seccomp filter
 *      refusing ptrace), in the trace with the right fields and results
 *   2. a one-page ring buffer that is not drained while the child floods:
 *      the loss is counted exactly and the summary says "incomplete"
 *   3. two monitors on two cgroups at once: each sees only its own pids */
#include <errno.h>
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

#include "monitor.h"
#include "trace.h"
#include "unit.h"
#include "util.h"

/* ---- events kept for assertions -------------------------------------------- */

struct rec {
	char *kind, *syscall, *path, *abs, *path2, *abs2, *file, *str, *addr, *dns, *argv, *exe, *cwd,
	     *signal, *request, *comm;
	uint32_t pid, hpid, tid, ppid, child_hpid, child_pid;
	int64_t ret, target_pid;
	int port, exit_code;
	bool refused, file_valid, thread;
	uint64_t ino;
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
			       &r->request, &r->comm };

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

static void flood(void *p)
{
	(void)p;
	for (int i = 0; i < FLOOD; i++)
		open("/nonexistent-pipjail/flood", O_RDONLY);
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
		opens += eq(rs.v[i].kind, "open") && eq(rs.v[i].path, "/nonexistent-pipjail/flood");
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

int main(int argc, char **argv)
{
	(void)argc;
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
	test_two_jails();
	return unit_summary("test_monitor");
}
