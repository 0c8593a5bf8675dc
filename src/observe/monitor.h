/* The eBPF monitor: loads the tracepoint programs (bpf/monitor.bpf.c) scoped
 * to one jail's cgroup, drains the ring buffer and hands decoded events to
 * the trace writer.  Lifecycle, as in libbpf-bootstrap:
 * open -> set rodata (target cgroup id, ...) -> load -> attach -> poll -> close.
 *
 * Call order for the supervisor:
 *   1. create the jail's cgroup v2 directory; monitor_cgroup_id() gives its id
 *   2. monitor_open() (before any task enters that cgroup)
 *   3. start the jail's init inside the cgroup (CLONE_INTO_CGROUP)
 *   4. epoll on monitor_fd(); monitor_consume() when readable AND at least
 *      every MONITOR_POLL_MS (epoll timeout): frequent file events do not
 *      wake the reader one by one (a wakeup costs microseconds), only once
 *      a quarter of the buffer (at most 2 MiB) is pending; rare events
 *      (exec, fork, exit, network, refused and risky calls) wake it at once
 *   5. after the jail is gone: monitor_consume() once more (drain),
 *      monitor_stats(), trace_write_summary(), monitor_close().
 *
 * pipjail's own setup is not recorded: a task that enters the cgroup at
 * fork from outside (the jail's init) and the processes it forks run
 * pipjail's code until they exec; their calls are only counted
 * (monitor_stats.suppressed).  The forks of new processes by those tasks
 * and their exits are recorded, so the tree stays connected.
 *
 * Kernel rules (enforced on return from the call, bpf_send_signal(SIGKILL)):
 * an untrusted process that opens a file of the pip_only set, or execs a
 * program of the denied set.  Trust (role pip) is decided in the kernel at
 * exec (docs/trace-format.md, "Kernel rules") and may be overridden by
 * monitor_set_trusted().  Rule hits are always recorded (kernel_rule);
 * the kill happens only after monitor_set_enforce(m, true).
 * Order: monitor_open(); monitor_protect_path() / monitor_deny_exec() for
 * each file and program; monitor_set_enforce(m, true) in enforce mode; all
 * of it before the command starts (before init's first fork: at the latest
 * before the "go" message). */
#ifndef PIPJAIL_MONITOR_H
#define PIPJAIL_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "observe/unixguard.h"

struct monitor;
struct trace_writer;
struct trace_event;

#define MONITOR_DEFAULT_BUFFER_MB 16
#define MONITOR_POLL_MS 10  /* bounds the user-space kill latency of file events */

struct monitor_opts {
	uint64_t cgroup_id;          /* cgroup v2 id of the jail: only its tasks are traced */
	unsigned int buffer_mb;      /* ring buffer size in MiB (power of two; 0: default) */
	struct trace_writer *trace;  /* where decoded events go; may be NULL (count only) */
	/* Called for every decoded event (after it is written to trace), e.g.
	 * for the process tree and the profile matcher.  May be NULL. */
	void (*on_event)(const struct trace_event *ev, void *ctx);
	void *ctx;
	/* Tests only: ring buffer size in bytes (a power of two >= page size),
	 * overrides buffer_mb when non-zero. */
	unsigned long buffer_bytes;
	/* Load the unix-socket guard's programs too (unixguard_probe said the
	 * kernel has their hooks); monitor_unix_guard attaches them. */
	bool unix_guard;
};

struct monitor_stats {
	uint64_t events;             /* events decoded */
	uint64_t lost;               /* events lost: ring buffer reservation failures
	                              * (all CPUs) + kernel-side bookkeeping failures
	                              * + program runs skipped by the kernel (recursion)
	                              * + records user space could not decode */
	uint64_t lost_ringbuf;       /* the first part alone */
	uint64_t bad_records;        /* records user space could not decode (bug) */
	uint64_t load_ns;            /* time spent in open/load/attach */
	/* Time spent in the BPF programs and their runs (all tasks: the cgroup
	 * check runs for every syscall on the host); only counted while
	 * sysctl kernel.bpf_stats_enabled=1 (benchmarks). */
	uint64_t bpf_run_ns, bpf_run_cnt;
	uint64_t suppressed;         /* events of pipjail's own setup, not recorded on purpose */
	uint64_t kills;              /* SIGKILLs sent by the kernel rules */
	uint64_t folded;             /* identical failed lookups folded into repeat counts */
};

/* Load and attach.  Returns 0, or -1 with a one-line reason in err. */
int monitor_open(struct monitor **out, const struct monitor_opts *opts, char *err, size_t errlen);
/* The same in two steps, so that the load (the verifier: most of the
 * start-up time) can run in a thread while the jail is built:
 * monitor_load, then (optionally) monitor_adopt_init for an init cloned into
 * the cgroup meanwhile, then monitor_attach.  Nothing is recorded before
 * monitor_attach.  Each returns 0, or -1 (err / errno). */
int monitor_load(struct monitor **out, const struct monitor_opts *opts, char *err, size_t errlen);
int monitor_adopt_init(struct monitor *m, int init_pidfd, pid_t init, uint64_t fork_ts);
int monitor_attach(struct monitor *m, char *err, size_t errlen);
/* How long monitor_load and monitor_attach took together (ns). */
uint64_t monitor_load_ns(const struct monitor *m);
/* File descriptor to wait on (epoll) for new events. */
int monitor_fd(const struct monitor *m);
/* Decode everything that is ready.  Returns events handled or -1. */
int monitor_consume(struct monitor *m);
void monitor_stats(const struct monitor *m, struct monitor_stats *st);
/* Detach, free.  Safe on NULL. */
void monitor_close(struct monitor *m);

/* Kernel rules.  Each returns 0, or -1 with errno set.
 *
 * monitor_protect_path: the file at path (followed if a symlink; stat'ed
 * as the jail will see it: a host path that the jail bind-mounts, or a
 * file inside the jail as /proc/<init>/root/...) may be opened only by
 * trusted (pip) processes.  monitor_deny_exec: no untrusted process may
 * start the program at path (matched by inode, so a copy is not matched:
 * deny what the jail can reach).  Both match by (device, inode). */
int monitor_protect_path(struct monitor *m, const char *path);
int monitor_deny_exec(struct monitor *m, const char *path);
/* Kill on a rule hit (true: enforce mode) or only record it (false, the
 * default). */
int monitor_set_enforce(struct monitor *m, bool on);
/* The anchors of trust (role pip) and of the environment guard (see
 * bpf/helpers/trust.bpf.h and rules.bpf.h), registered once the jail is
 * built and before the command runs, from the jail's own view: the files
 * by (device, inode) as stat(2) gives them there, the paths as the jail's
 * processes name them.  Returns 0, or -1 with errno (EOVERFLOW: too many,
 * ENAMETOOLONG: a path of PIP_ENTRY_MAX bytes or more). */
/* The longest entry-point path the kernel compares, with its NUL. */
#define MONITOR_ENTRY_MAX 256
struct monitor_anchors {
	const struct stat *interps;      /* the environment's interpreters */
	size_t n_interps;
	const struct stat *tools;        /* pip's helper programs (git and its helpers) */
	size_t n_tools;
	const char *const *entries;      /* pip's entry points, absolute, as pip passes them */
	size_t n_entries;
	dev_t env_dev;                   /* the environment's overlay; 0: no environment */
	const char *env_path;            /* its path in the jail; NULL: none */
};
int monitor_set_anchors(struct monitor *m, const struct monitor_anchors *a);

/* The unix-socket guard (observe/unixguard.h): fill its table, freeze it,
 * attach its two programs to the jail's cgroup (cgroup_fd); before the
 * command starts.  Needs opts.unix_guard at load.  0, or -1 with a reason
 * in err.  monitor_close detaches them. */
int monitor_unix_guard(struct monitor *m, int cgroup_fd, const struct unixguard_tree *trees, size_t n,
		       char *err, size_t errlen);
/* Names it let through to the jail's own trees, refused, abstract. */
void monitor_unix_counts(const struct monitor *m, uint64_t *allowed, uint64_t *refused,
			 uint64_t *abstract);

/* The cgroup v2 id of a cgroup directory (its inode number on cgroup2fs).
 * 0, or -1 with errno. */
int monitor_cgroup_id(const char *cgroup_dir, uint64_t *id);

/* The rest of the layer's public side: the trace, socket owners. */
#include "observe/sockowner.h"
#include "observe/trace.h"

#endif
