/* bench_monitor: what the eBPF monitor adds per call, without the rest of
 * the jail (no seccomp, no Landlock, no namespaces): build/bench/storm runs
 * in a fresh cgroup v2 child that the monitor traces (events written to a
 * trace file, as in a real run), interleaved with the same storm in an
 * untraced cgroup, ROUNDS times; medians are printed.
 *
 *   bench_monitor STORM MODE N [ROUNDS]     (root)
 *
 * Output: "MODE traced X ns/op plain Y ns/op added Z ns/op events E lost L".
 * BENCH_BPFSTATS=1 also turns on the kernel's BPF run-time statistics and
 * prints the time spent in the monitor's programs per call ("bpf B ns/op"):
 * a figure that other load on the machine does not disturb.  BENCH_NOTRACE=1
 * decodes without writing the trace (the reader's cost alone). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include <bpf/bpf.h>

#include "observe/monitor.h"
#include "base/base.h"

static const char *cg_root(void)
{
	struct statfs sf;

	if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup";
	return NULL;
}

/* Run storm in cgroup cg; return its ns/op (from its own output), draining m. */
static double run_storm(struct monitor *m, const char *cg, char *const argv[])
{
	int out[2], ep = -1, status;
	char buf[256] = "";
	ssize_t n, got = 0;
	double nsop = -1;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		char *procs = xasprintf("%s/cgroup.procs", cg);

		if (write_file(procs, "0") < 0)
			_exit(120);
		dup2(out[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	if (m) {
		struct epoll_event ev = { .events = EPOLLIN };

		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, monitor_fd(m), &ev) < 0)
			die_errno("epoll");
		while (waitpid(pid, &status, WNOHANG) != pid) {
			epoll_wait(ep, &ev, 1, MONITOR_POLL_MS);
			monitor_consume(m);
		}
		monitor_consume(m);
		close(ep);
	} else if (waitpid(pid, &status, 0) != pid) {
		die_errno("waitpid");
	}
	while ((n = read(out[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(out[0]);
	buf[got] = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("storm failed (status 0x%x): %s", status, buf);
	{
		char *p = strstr(buf, " ns ");

		if (p)
			nsop = strtod(p + 4, NULL);
	}
	return nsop;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char *cg_t, *cg_p, err[512], tmpl[] = "/tmp/pipjail-bench-trace.XXXXXX";
	unsigned rounds = argc > 4 ? (unsigned)atoi(argv[4]) : 5;
	struct monitor_stats st;
	struct trace_writer *tw;
	struct monitor *m;
	uint64_t cgid;
	double *t, *p, *b;
	int stats_fd = -1;
	int tfd;

	if (argc < 4 || !rounds)
		die("usage: bench_monitor STORM MODE N [ROUNDS]");
	if (!cg_root())
		die("no cgroup v2 mount");
	char *sargv[] = { argv[1], argv[2], argv[3], NULL };

	cg_t = xasprintf("%s/pipjail-bench-t.%d", cg_root(), getpid());
	cg_p = xasprintf("%s/pipjail-bench-p.%d", cg_root(), getpid());
	if (mkdir(cg_t, 0755) < 0 || mkdir(cg_p, 0755) < 0)
		die_errno("mkdir cgroup");
	if (monitor_cgroup_id(cg_t, &cgid) < 0)
		die_errno("cgroup id");
	/* BENCH_NOTRACE=1: decode only (measures the kernel side alone) */
	tfd = getenv("BENCH_NOTRACE") ? open("/dev/null", O_WRONLY | O_CLOEXEC) : mkstemp(tmpl);
	if (tfd < 0)
		die_errno("mkstemp");
	tw = trace_writer_open(tfd);
	struct monitor_opts mo = { .cgroup_id = cgid, .trace = tw };
	if (monitor_open(&m, &mo, err, sizeof(err)) < 0)
		die("%s", err);
	t = xcalloc(rounds, sizeof(double));
	p = xcalloc(rounds, sizeof(double));
	b = xcalloc(rounds, sizeof(double));
	if (getenv("BENCH_BPFSTATS")) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			die_errno("bpf_enable_stats");
	}
	for (unsigned i = 0; i < rounds; i++) {
		struct monitor_stats s0, s1;

		p[i] = run_storm(NULL, cg_p, sargv);
		monitor_stats(m, &s0);
		t[i] = run_storm(m, cg_t, sargv);
		monitor_stats(m, &s1);
		b[i] = (double)(s1.bpf_run_ns - s0.bpf_run_ns) / strtoul(argv[3], NULL, 10);
	}
	if (stats_fd >= 0)
		close(stats_fd);
	monitor_stats(m, &st);
	trace_writer_flush(tw);
	qsort(t, rounds, sizeof(double), cmp_d);
	qsort(p, rounds, sizeof(double), cmp_d);
	qsort(b, rounds, sizeof(double), cmp_d);
	printf("%s traced %.1f ns/op plain %.1f ns/op added %.1f ns/op events %llu lost %llu "
	       "trace %llu bytes bpf %.0f ns/op load %.1f ms\n", argv[2], t[rounds / 2], p[rounds / 2], t[rounds / 2] - p[rounds / 2],
	       (unsigned long long)st.events, (unsigned long long)st.lost,
	       (unsigned long long)lseek(tfd, 0, SEEK_END),
	       b[rounds / 2], st.load_ns / 1e6);
	if (getenv("BENCH_PROGS"))  /* per-program figures (kernel.bpf_stats_enabled=1) */
		if (system("bpftool prog show | grep -A1 ' name pj_' | grep -o 'name pj_[a-z_]*\\|run_time_ns [0-9]*\\|run_cnt [0-9]*' | paste - - - ") != 0)
			warnx_("bpftool prog show failed");
	monitor_close(m);
	trace_writer_close(tw);
	unlink(tmpl);
	rmdir(cg_t);
	rmdir(cg_p);
	free(t);
	free(b);
	free(p);
	free(cg_t);
	free(cg_p);
	return 0;
}
