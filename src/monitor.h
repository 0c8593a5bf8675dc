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
 *      monitor_stats(), trace_write_summary(), monitor_close(). */
#ifndef PIPJAIL_MONITOR_H
#define PIPJAIL_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct monitor;
struct trace_writer;
struct trace_event;

#define MONITOR_DEFAULT_BUFFER_MB 16
#define MONITOR_POLL_MS 50

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
};

struct monitor_stats {
	uint64_t events;             /* events decoded */
	uint64_t lost;               /* events lost: ring buffer reservation failures
	                              * (all CPUs) + kernel-side bookkeeping failures
	                              * + program runs skipped by the kernel (recursion) */
	uint64_t lost_ringbuf;       /* the first part alone */
	uint64_t bad_records;        /* records user space could not decode (bug) */
	uint64_t load_ns;            /* time spent in open/load/attach */
	/* Time spent in the BPF programs and their runs (all tasks: the cgroup
	 * check runs for every syscall on the host); only counted while
	 * sysctl kernel.bpf_stats_enabled=1 (benchmarks). */
	uint64_t bpf_run_ns, bpf_run_cnt;
};

/* Load and attach.  Returns 0, or -1 with a one-line reason in err. */
int monitor_open(struct monitor **out, const struct monitor_opts *opts, char *err, size_t errlen);
/* File descriptor to wait on (epoll) for new events. */
int monitor_fd(const struct monitor *m);
/* Decode everything that is ready.  Returns events handled or -1. */
int monitor_consume(struct monitor *m);
void monitor_stats(const struct monitor *m, struct monitor_stats *st);
/* Detach, free.  Safe on NULL. */
void monitor_close(struct monitor *m);

/* The cgroup v2 id of a cgroup directory (its inode number on cgroup2fs).
 * 0, or -1 with errno. */
int monitor_cgroup_id(const char *cgroup_dir, uint64_t *id);

#endif
