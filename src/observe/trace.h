/* The trace: JSON Lines, one object per line, every line with a "type":
 * a "header" line, then "event" (from the monitor) and "note" (from the
 * supervisor) lines, then a closing "summary" line.  The schema is in
 * docs/trace-format.md.
 *
 * The writer streams into a fixed buffer and writes it out with write(2):
 * memory stays flat however long the run and nothing is allocated per event.
 * Write errors are sticky: after the first failure every call returns -1 and
 * trace_writer_close() reports it. */
#ifndef PIPJAIL_TRACE_H
#define PIPJAIL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define TRACE_FORMAT         "pipjail-trace"
#define TRACE_FORMAT_VERSION 1

struct trace_writer;

/* One decoded event, as the monitor hands it to the trace and to
 * monitor_opts.on_event.  Strings are NULL when absent; they point into the
 * monitor's buffers and are valid only during the call. */
struct trace_event {
	const char *kind;        /* "open", "exec", "fork", "exit", "connect", "seccomp_refused", ... */
	const char *syscall;     /* "openat", ...; NULL for fork/exit/exec from the scheduler */
	long nr;                 /* syscall number (native ABI), -1 when none */
	uint64_t t_mono_ns;      /* CLOCK_MONOTONIC when the call returned */
	int64_t t_wall_ns;       /* CLOCK_REALTIME, derived from t_mono_ns */
	uint64_t dur_ns;         /* time spent in the call (0: unknown) */
	uint32_t pid, tid, ppid; /* as seen in the task's own pid namespace (the jail's) */
	uint32_t hpid, htid, hppid; /* as seen on the host */
	uint32_t uid, gid;       /* host (init user namespace) ids */
	const char *comm;
	const char *exe;         /* from the last exec seen, else NULL */

	bool has_ret;            /* syscall events: ret/err are meaningful */
	int64_t ret;             /* the raw result: -errno on failure */
	uint64_t args[6];        /* raw arguments (written for risky and refused calls) */
	bool write_args;

	/* Files.  abs is path made absolute against the cwd or the dirfd, in the
	 * jail's view (lexically normalised: "." and ".." folded). */
	const char *path, *abs;
	const char *path2, *abs2;  /* second path: rename/link target, mount target */
	const char *str;           /* a plain string: symlink target, memfd name, fstype */
	const char *file;          /* the file actually opened (after symlinks) or behind an fd */
	const char *pseudo;        /* instead of file: one of no directory, as /proc/PID/fd
	                            * names it ("pipe:[12]", "anon_inode:[eventfd]", "memfd:x") */
	uint64_t dev, ino;         /* of file; valid when file_valid */
	bool file_valid;
	const char *flags;         /* "O_RDONLY|O_CLOEXEC", "MFD_CLOEXEC", "AT_REMOVEDIR", ... */
	int64_t mode;              /* -1: not applicable */

	/* Network */
	const char *family;        /* "AF_INET", "AF_UNIX", ... */
	const char *sock_type;     /* "SOCK_DGRAM" ... (socket) */
	int protocol;              /* socket(): -1 when not applicable */
	const char *addr;          /* "127.0.0.1", "::1", "/run/x.sock", "@abstract" */
	int port;                  /* -1 when not applicable */
	bool addr_from_socket;     /* destination taken from the connected socket */
	const char *dns_query;     /* queried name of a datagram to port 53 */
	const char *dns_qtype;     /* "A", "AAAA", "TXT", or a number */

	/* Processes */
	const char *const *argv;   /* exec: NULL-terminated */
	bool argv_truncated;
	const char *cwd;           /* exec: the working directory */
	uint32_t child_pid, child_tid, child_hpid, child_htid; /* fork */
	bool thread;               /* fork: a thread was created; exit: a thread ended */
	int exit_code;             /* exit: -1 when killed by a signal */
	const char *signal;        /* exit: terminating signal; kill: signal sent */
	bool core_dumped;
	int64_t target_pid;        /* kill/tgkill/ptrace/process_vm_*: -1 when n/a */
	const char *request;       /* ptrace request, prctl option, bpf cmd, ... */
	bool refused;              /* seccomp refused the call (it never ran) */
	bool truncated;            /* a string was cut at its bound */

	/* Kernel rules and folding (the monitor): see docs/trace-format.md */
	const char *kernel_rule;   /* "pip_only" / "denied_exec" / "env_write": an untrusted task
	                            * broke it; NULL: none */
	bool killed_in_kernel;     /* the kernel sent SIGKILL on return from this call (enforce mode) */
	bool kernel_trusted;       /* the kernel held the task as pip (trusted) at this event
	                            * (exec: after it; fork: the child) */
	uint32_t repeat;           /* identical failed lookups folded into this event (0: none) */

	/* Attribution from the decision engine (engine_annotate): NULL when unknown. */
	const char *role, *package, *hook;
};

struct trace_option {
	const char *key, *value;
};

struct trace_header {
	const char *version;       /* NULL: PIPJAIL_VERSION */
	const char *kernel;        /* NULL: uname -r */
	const char *const *argv;   /* the jailed command, NULL-terminated */
	const struct trace_option *options; /* the run's options, as key/value strings */
	size_t n_options;
	uint64_t start_mono_ns;    /* 0: now */
	int64_t start_wall_ns;     /* 0: now */
	uint64_t cgroup_id;        /* the jail's cgroup (0: omitted) */
	const cJSON *extra;        /* more fields (an object) to add, or NULL */
};

struct trace_summary {
	uint64_t lost;             /* events lost (monitor_stats().lost) */
	bool incomplete;           /* force verdict "incomplete" even when lost == 0 */
	int wait_status;           /* the command's status as from waitpid(), or -1 unknown */
	uint64_t end_mono_ns;      /* 0: now */
	const cJSON *extra;        /* more fields (an object) to add, or NULL */
};

/* Writer on an fd the caller already opened (with the user's rights).
 * The writer owns fd from then on and closes it in trace_writer_close(). */
struct trace_writer *trace_writer_open(int fd);
int trace_write_header(struct trace_writer *w, const struct trace_header *h);
int trace_write_event(struct trace_writer *w, const struct trace_event *ev);
/* A record from user space: {"type":"note","kind":kind,"t_mono":..,"t_wall":..,
 * <each member of fields>}.  fields may be NULL. */
int trace_write_note(struct trace_writer *w, const char *kind, const cJSON *fields);
/* The closing line: events by kind, lost, exit status, duration, verdict
 * ("complete", or "incomplete" when lost > 0 or s->incomplete). */
int trace_write_summary(struct trace_writer *w, const struct trace_summary *s);
/* Write out what is buffered (e.g. on a quiet epoll tick).  0 or -1. */
int trace_writer_flush(struct trace_writer *w);
/* Events written so far (all kinds). */
uint64_t trace_writer_events(const struct trace_writer *w);
/* Flush, close the fd, free.  0, or -1 with errno if any write failed.
 * Safe on NULL. */
int trace_writer_close(struct trace_writer *w);

/* Events counted by kind: the first cap kinds by name (kinds[0..*n)), the
 * others together in *other.  The writer's summary counts with it. */
struct trace_kind_count {
	char name[32];
	uint64_t n;
};
void trace_count_kind(struct trace_kind_count *kinds, unsigned cap, unsigned *n, uint64_t *other,
		      const char *kind);

/* Wall clock string "2026-01-31T12:34:56.123456Z" (buf >= 32). */
void trace_format_wall(int64_t wall_ns, char *buf, size_t len);

/* Reading a trace back (trace-check, replay). */
struct trace_reader;
struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen);
/* Parse the next line.  1 and *obj (free with cJSON_Delete), 0 at end of
 * file, -1 with err naming the line ("line 12: ...") when it is not a JSON
 * object with a known "type" and the fields that type requires. */
int trace_reader_next(struct trace_reader *r, cJSON **obj, char *err, size_t errlen);
unsigned long trace_reader_line(const struct trace_reader *r);
void trace_reader_close(struct trace_reader *r);

/* Check one parsed line against the schema (required fields and their
 * types).  0, or -1 with the reason in err (without the line number). */
int trace_validate_record(const cJSON *obj, char *err, size_t errlen);

/* Validate a whole file: header first, summary last and consistent with the
 * events (count, by kind).  0 when valid; -1 with err naming the line.  When
 * out is not NULL, a human summary is printed to it. */
int trace_check_file(const char *path, FILE *out, char *err, size_t errlen);

/* The open(2) flags of an event's "flags" text that decide what the open
 * may do, as bits: one pass over the text instead of a search per flag
 * (this runs for every open of a run). */
#define TOB_WRONLY  (1u << 0)
#define TOB_RDWR    (1u << 1)
#define TOB_CREAT   (1u << 2)
#define TOB_TRUNC   (1u << 3)
#define TOB_TMPFILE (1u << 4)
#define TOB_PATH    (1u << 5)
#define TOB_WRITES  (TOB_WRONLY | TOB_RDWR | TOB_CREAT | TOB_TRUNC)  /* may change a file */
unsigned trace_open_bits(const char *flags);

#endif
