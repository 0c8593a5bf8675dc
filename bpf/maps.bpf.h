/* Every map and global variable of the monitor, in one place: each says who
 * writes it and who reads it.  "User space" is src/observe/monitor.c
 * through the skeleton (monitor.skel.h): the names of the maps and globals
 * are its API and do not change. */
#pragma once

#include "helpers/common.bpf.h"

/* ---- read-only data: set by user space before load --------------------- */

/* The jail's cgroup v2 id: only its tasks are traced.
 * Written: monitor_load.  Read: task_in_jail, pj_fork. */
const volatile __u64 target_cgid = 0;

/* Bulk records wake the reader only past this much unread data; the reader
 * also polls on a timer (MONITOR_POLL_MS).  A wakeup per record costs an
 * IPI, several microseconds in a VM.
 * Written: monitor_load.  Read: rec_emit. */
const volatile __u64 wakeup_bytes = 1 << 20;

/* The capture plan: per native syscall number, what to copy and resolve.
 * Written: monitor_load (plan_fill).  Read: pj_sys_enter, pj_sys_exit,
 * pj_capture, pj_fold. */
const volatile struct sc_spec specs[SC_NR_MAX] = {};

/* ---- globals: set by user space at run time ---------------------------- */

/* Kill on a rule hit.  Written: monitor_set_enforce.  Read: rule_kill. */
__u32 enforce = 0;

/* How many entries pip_only and denied_exec hold (0: skip the lookup).
 * Written: monitor_protect_path, monitor_deny_exec.  Read: rule_pip_only,
 * rule_denied_exec. */
__u32 n_pip_only = 0;
__u32 n_denied_exec = 0;

/* How many entries pip_interp and pip_tool hold: with no interpreter
 * registered, nothing but the command itself is ever trusted.
 * Written: monitor_set_anchors.  Read: pj_exec_is_pip. */
__u32 n_pip_interp = 0;
__u32 n_pip_tool = 0;

/* The target environment as the jail sees it: the device of its overlay
 * (kernel encoding, as in struct super_block's s_dev: every file reached
 * through the overlay, by any name, has it) and its path (for names given
 * as absolute paths, which the kernel does not resolve for us); 0 / "":
 * no environment.  Written: monitor_set_anchors.  Read: rule_env_write. */
__u64 env_dev = 0;
__u32 env_path_len = 0;
char env_path[PIP_ENTRY_MAX] = {};

/* An untrusted task changed the environment (enforce mode): from then on
 * nothing is trusted, and every task of the jail but its init is killed on
 * the return of its next system call.  Written: rule_env_write.  Read:
 * trust_of, pj_sys_exit. */
__u32 poisoned = 0;

/* The jailed command's first exec happened (it alone is trusted without
 * looking at its argv).  init runs its commands one after the other, so
 * two of its children never race for this.
 * Written and read: trust_after_exec (pj_exec).  User space: never. */
__u32 cmd_started = 0;

/* ---- maps -------------------------------------------------------------- */

/* The records.  Written: rec_emit, fold_flush.  Read: user space
 * (ring_buffer__consume -> decode_record).  Sized before load
 * (--buffer-mb). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* Per-CPU counters, enum pj_counter: [0] ring buffer full, [1] no task
 * storage (both lost), [2] suppressed (pipjail's own setup), [3] kills,
 * [4] folded repeats.  Written: counter_add.  Read: monitor_stats. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_N);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Files only pip may open, programs no one but pip may start, by inode.
 * Written: monitor_protect_path, monitor_deny_exec.  Read: rule_pip_only,
 * rule_denied_exec. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pj_inode);
	__type(value, __u32);
} pip_only SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pj_inode);
	__type(value, __u32);
} denied_exec SEC(".maps");

/* The anchors of trust (role pip), registered by user space once the jail
 * is built and before the command runs, from the jail's own view of the
 * environment as it was at start: the environment's interpreters (by
 * dev:inode), pip's entry points (absolute paths: bin/pip*, the runner of
 * build dependencies), and pip's helper programs (git and its helpers, by
 * dev:inode).  A trusted task stays trusted across an exec only onto these
 * (helpers/trust.bpf.h).  No package code has run when they are written,
 * and the environment guard keeps their files unchanged afterwards.
 * Written: monitor_set_anchors.  Read: pj_exec_is_pip. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct pj_inode);
	__type(value, __u32);
} pip_interp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct pj_entry);
	__type(value, __u32);
} pip_entry SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, struct pj_inode);
	__type(value, __u32);
} pip_tool SEC(".maps");

/* A key of pip_entry being built (too big for the stack).  Written and
 * read: pj_exec_is_pip. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pj_entry);
} entry_key SEC(".maps");

/* Per task (struct pending, include/events.h): the call in progress, what
 * was copied at its entry, the marks (PJ_*), the cached pid-namespace ids
 * and the folding state.  Written and read: every program.  User space:
 * monitor_adopt_init writes the marks of an init cloned before attach. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pend SEC(".maps");

/* The record being assembled (too big for the stack), and the arguments of
 * the path resolution (kernel pointers, as numbers): global functions take
 * them from here.  Written and read: the programs (rec_begin, pj_walk,
 * pj_walk_file, argv_byte).  User space: never. */
struct rec_buf {
	__u64 walk_mnt, walk_dentry, file;
	__u64 dir_dev[2];   /* device of SLOT_DIR's / SLOT_DIR2's directory, 0: none (pj_sys_exit) */
	__u8 raw[sizeof(struct ev_record) + REC_CAP];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec_buf);
} recs SEC(".maps");

/* The state of one path walk and its per-CPU buffer, the map `walks`
 * (written and read: pj_walk and walk_step; fold_same_path borrows it for a
 * word-aligned copy before any walk; user space: never), are declared with
 * the walk itself, which the unix-socket guard (bpf/unixguard.bpf.c) shares:
 * helpers/walk.bpf.h. */
#include "helpers/walk.bpf.h"

/* The unix-socket guard's table (up_trees, up_index: written by
 * monitor_unix_guard before attach, then frozen; read by the guard) and its
 * per-CPU work (up_states) are declared with the code that reads them:
 * helpers/unixpath.bpf.h. */
