/* Records shared by bpf/monitor.bpf.c (producer) and src/observe/decode.c
 * (consumer), like libbpf-bootstrap's bootstrap.h.  The BPF side includes
 * vmlinux.h first; user space gets the __u types from <linux/types.h>. */
#ifndef PIPJAIL_EVENTS_H
#define PIPJAIL_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bounds, documented in docs/trace-format.md. */
#define EV_COMM_LEN     16
#define EV_PATH_MAX     4096  /* a path as the process named it (PATH_MAX) */
#define EV_STR_MAX      256   /* other strings: memfd name, fstype, symlink target is a path */
#define EV_ADDR_MAX     128   /* sockaddr bytes (sizeof(struct sockaddr_storage)) */
#define EV_PAYLOAD_MAX  512   /* first bytes of a message to port 53 (DNS) */
#define EV_ARGV_MAX     4096  /* exec: bytes of argv (NUL separated) */
#define EV_WALK_MAX     4096  /* a path resolved in the kernel (cwd, dirfd, file) */
#define EV_WALK_DEPTH   64    /* components followed by such a resolution */

/* Data bytes in a record: the enter-time strings are kept per task in a
 * buffer of PEND_CAP; a record adds up to three kernel-resolved paths. */
#define PEND_SOFT  8192       /* no enter-time string starts past this offset */
#define PEND_CAP   (PEND_SOFT + EV_PATH_MAX)
#define REC_SOFT   24576      /* no string starts past this offset in a record */
#define REC_CAP    (REC_SOFT + EV_PATH_MAX + 16)

enum ev_type {
	EV_SYSCALL = 1,  /* a traced system call returned (or seccomp refused it) */
	EV_FORK    = 2,  /* sched_process_fork: a task (process or thread) was created */
	EV_EXEC    = 3,  /* sched_process_exec: a successful execve/execveat */
	EV_EXIT    = 4,  /* sched_process_exit: a task ended */
	EV_REPEAT  = 5,  /* `repeat` more calls identical to htid's last EVF_FOLD_BASE record; ts: the last */
};

/* Variable parts of a record, located by off/len in data[]. */
enum ev_slot {
	SLOT_PATH,     /* syscall: first path argument | exec: filename as passed */
	SLOT_PATH2,    /* second path argument (rename/link new name, mount target) */
	SLOT_STR,      /* plain string argument (symlink target, memfd name, fstype) | exec: argv */
	SLOT_ADDR,     /* sockaddr bytes (destination of connect/send, bind address) */
	SLOT_PAYLOAD,  /* first bytes sent to port 53 */
	SLOT_DIR,      /* directory SLOT_PATH is relative to (cwd or dirfd) | exec: cwd */
	SLOT_DIR2,     /* directory SLOT_PATH2 is relative to */
	SLOT_FILE,     /* file behind the returned fd or the fd argument | exec: exe */
	SLOT_N,
};

/* ev_record.flags */
#define EVF_ENTERED     (1u << 0)   /* sys_enter was seen for this call */
#define EVF_REFUSED     (1u << 1)   /* no sys_enter and ret < 0: seccomp refused it */
#define EVF_TRUNC       (1u << 2)   /* some string was cut at its bound */
#define EVF_ARGV_TRUNC  (1u << 3)   /* exec argv longer than EV_ARGV_MAX */
#define EVF_FILE_VALID  (1u << 4)   /* dev/ino/i_mode describe SLOT_FILE */
#define EVF_THREAD      (1u << 5)   /* fork: CLONE_THREAD; exit: not the last task */
#define EVF_ADDR_SOCK   (1u << 6)   /* SLOT_ADDR rebuilt from the connected socket */
#define EVF_WALK_TRUNC  (1u << 7)   /* a kernel-resolved path lost leading components */
#define EVF_COMPAT      (1u << 8)   /* 32-bit call (nr is of that ABI) */
#define EVF_PIP_ONLY    (1u << 9)   /* open: an untrusted task opened a pip_only file */
#define EVF_DENIED_EXEC (1u << 10)  /* exec: an untrusted task started a denied program */
#define EVF_KILLED      (1u << 11)  /* the kernel sent SIGKILL for one of the two above */
#define EVF_TRUSTED     (1u << 12)  /* the task was trusted (role pip) when it made this record
                                     * (exec: after the exec); decided by the kernel alone */
#define EVF_FOLD_BASE   (1u << 13)  /* a failed lookup that later identical ones may be folded into */
#define EVF_ENV_WRITE   (1u << 14)  /* an untrusted task changed the target environment: killed,
                                     * and the jail poisoned (enforce mode) */

/* Folding of identical failed lookups (a compiler probing include paths):
 * a thread's consecutive file calls that fail with ENOENT with the same
 * call, arguments, base directory and path (at most FOLD_PATH_MAX bytes)
 * are counted instead of recorded, for at most FOLD_WINDOW_NS after the
 * recorded one; the count goes out as an EV_REPEAT record before the
 * thread's next record.  Distinct paths are never folded. */
#define FOLD_PATH_MAX   256
#define FOLD_WINDOW_NS  1000000000ull

/* ev_record.sflags[slot], for paths resolved in the kernel */
#define SF_PSEUDO   (1u << 0)  /* a file of no directory (memfd, pipe, socket, anon inode): name only */
#define SF_UNREACH  (1u << 1)  /* not reachable from the task's root (another mount tree) */
#define SF_TRUNC    (1u << 2)  /* leading components were cut (depth or length bound) */

struct ev_record {
	__u64 ts;            /* bpf_ktime_get_ns() at return (CLOCK_MONOTONIC) */
	__u64 ts_enter;      /* at sys_enter (0: not seen) */
	__u32 type;          /* enum ev_type */
	__u32 flags;         /* EVF_* */
	__s32 nr;            /* syscall number, -1 for scheduler events */
	__u32 hpid, htid, hppid; /* host tgid, tid, parent tgid */
	__u32 pid, tid, ppid;    /* the same in the task's own pid namespace (0: outside) */
	__u32 uid, gid;
	__s64 ret;           /* syscall result | exit: exit_code (wait status) */
	__u64 args[6];       /* syscall arguments | fork: child htid, hpid, tid, pid */
	__u64 dev, ino;      /* SLOT_FILE's file (EVF_FILE_VALID) */
	__u32 i_mode;
	__u16 off[SLOT_N];   /* offsets into data */
	__u16 len[SLOT_N];   /* bytes; strings include their NUL; 0 = absent */
	char comm[EV_COMM_LEN];
	__u32 data_len;      /* bytes of data[] that follow */
	__u8 sflags[SLOT_N]; /* SF_* of kernel-resolved slots */
	__u32 repeat;        /* identical failed lookups folded into this one (see REPEAT_*) */
	__u8 data[];
};

/* Key of the pip_only and denied_exec maps: a file by its inode.  dev is
 * the kernel's internal encoding (major << 20 | minor), as in s_dev. */
struct pj_inode {
	__u64 dev, ino;
};

/* pip's own entry points (map pip_entry): an absolute path as pip passes it
 * as argv[1] to the interpreter, NUL-padded to the full size. */
#define PIP_ENTRY_MAX 256
struct pj_entry {
	char path[PIP_ENTRY_MAX];
};

/* Indexes of the per-CPU counters map (drops): the first two are events
 * lost; the others are not losses. */
enum pj_counter {
	CNT_RINGBUF_FULL,   /* ring buffer reservation failed */
	CNT_NO_STORAGE,     /* task storage could not be allocated */
	CNT_SUPPRESSED,     /* events of pipjail's own setup, not recorded on purpose */
	CNT_KILLS,          /* SIGKILLs sent by the kernel rules */
	CNT_FOLDED,         /* identical failed lookups folded into a repeat count */
	CNT_N,
};
#define CNT_LOST_N 2        /* counters [0, CNT_LOST_N) are losses */

/* Per-syscall capture plan, indexed by the native syscall number and filled
 * by src/observe/plan.c into the program's read-only data before load.  Argument
 * positions are 1-based (0: none). */
#define SC_NR_MAX 512

#define SCF_TRACE  (1u << 0)  /* emit a record at sys_exit */
#define SCF_OPEN   (1u << 1)  /* ret is a new fd: record its file */
#define SCF_EXEC   (1u << 2)  /* execve/execveat: on success sched_process_exec reports it */
#define SCF_HOW    (1u << 3)  /* openat2: args[2] points to struct open_how (flags, mode copied to args[4], args[5]) */
#define SCF_NET    (1u << 4)  /* args[0] is a socket: destination from the socket if none given */
#define SCF_SENDBUF (1u << 5) /* sendto: buf = arg 2, len = arg 3 */
#define SCF_BULK   (1u << 6)  /* frequent (file calls): do not wake the reader for each one */
#define SCF_MODIFY (1u << 7)  /* changes the file system at its path(s) or fd: the env guard applies */

enum sc_addr_mode { SA_NONE, SA_SOCKADDR, SA_MSGHDR, SA_MMSGHDR };

struct sc_spec {
	__u8 flags;
	__u8 path, dirfd;     /* first path and the dirfd it is relative to */
	__u8 path2, dirfd2;
	__u8 str;             /* plain string */
	__u8 fd;              /* an fd whose file is recorded (fchmod, ftruncate, ...) */
	__u8 addr_mode;       /* enum sc_addr_mode */
	__u8 addr, addrlen;   /* SA_SOCKADDR: pointer and length args; SA_MSGHDR/SA_MMSGHDR: addr */
	__u8 oflags;          /* opens: the argument holding the O_* flags (openat2: 5, the copy) */
	__u8 pad[1];
};

/* pending.pj: pipjail's own tasks and the kernel's role classification */
#define PJ_OWN       (1u << 0)  /* pipjail's own code (the init, its children until they exec): not recorded */
#define PJ_INIT      (1u << 1)  /* the jail's init: entered the cgroup from outside, at fork */
#define PJ_SHOWN     (1u << 2)  /* an own task whose fork was recorded: its exit is recorded too */
#define PJ_INITCHILD (1u << 3)  /* a process forked by the init, not yet exec'd */
#define PJ_TRUSTED   (1u << 4)  /* role pip: the kernel rules do not apply */

/* Per task (task storage): the call in progress and what was copied at
 * its entry.  Shared with user space for one reason: the jail's init is
 * cloned before the programs are attached (so that the load and the jail's
 * set-up overlap), and the supervisor gives the init the marks pj_fork
 * would have given it (monitor_adopt_init). */
struct pending {
	__u64 ts_enter;
	__u64 args[6];
	__s64 nr;
	__u32 entered;
	__u32 pj;        /* PJ_*: inherited at fork, updated at exec */
	__u32 flags;
	__u32 used;
	__u16 off[SLOT_N];
	__u16 len[SLOT_N];
	/* identity in the task's pid namespace, cached per (htid, hppid) */
	__u32 id_htid, id_hppid, id_pid, id_tid, id_ppid;
	/* the last recorded failed lookup, and the identical ones since */
	__u32 fold_len;      /* 0: none to fold into */
	__u32 fold_count;
	__u64 fold_first, fold_last;
	__u64 fold_args[6];  /* the arguments, the path pointer zeroed */
	__u64 fold_mnt, fold_dentry;  /* the directory a relative path was relative to */
	__s64 fold_nr;
	__u64 fold_path[FOLD_PATH_MAX / 8];  /* compared a word at a time */
	__u8 data[PEND_CAP];
};


#endif
