// SPDX-License-Identifier: GPL-2.0
/* pipjail monitor: records what the tasks of one cgroup (the jail) do.
 * This file is the one BPF object (monitor.bpf.o, skeleton monitor.skel.h
 * for src/observe/monitor.c); it holds the programs, one file each under
 * programs/, built on:
 *
 *   maps.bpf.h        every map and global, who writes and who reads it
 *   arch/             the syscall registers (x86-64 only)
 *   helpers/          one concern each: common (types, constants),
 *                     records (record, ring buffer, counters), task (jail
 *                     membership, pid-namespace ids, fd table), path (walks
 *                     in the kernel), capture (copies at entry), fold
 *                     (identical failed lookups), argv (is it pip?), trust
 *                     (roles), rules (the kernel rules)
 *
 * Only tp_btf programs (raw tracepoints with BTF): they attach without
 * tracefs and see every syscall ABI.  Scheme:
 *   sys_enter  - mark (task -> nr) in task storage; for traced calls copy the
 *                user strings and addresses NOW (they may change before exit)
 *   sys_exit   - no matching enter and ret < 0: seccomp refused the call
 *                (a refused call never reaches sys_enter); otherwise, for
 *                traced calls, resolve directories and the opened file in the
 *                kernel and emit one record with the result
 *   sched_process_fork/exec/exit - the process tree, argv, exe, cwd, status
 * Every record that cannot be emitted is counted in `drops`.
 *
 * Two cgroup programs beside them, the unix-socket guard
 * (programs/unix_guard.bpf.h): they refuse a connect or a datagram to a
 * pathname unix socket outside the jail's own trees before the kernel
 * looks the name up; loaded and attached only on Linux 6.7 and later.
 *
 * Per task (task storage, set at fork from the parent's, updated at exec):
 * the marks of pipjail's own setup (not recorded until the task execs) and
 * the trust (role pip) that the two kernel rules depend on: an untrusted
 * open of a pip_only file, an untrusted exec of a denied program, both
 * killed with bpf_send_signal(SIGKILL) in enforce mode.  Identical failed
 * lookups of a thread are folded into a count (EV_REPEAT).  The rules and
 * the folding are documented in docs/trace-format.md.
 *
 * Load time is what the verifier spends: the helpers that many paths reach
 * are global (__noinline, named pj_*) so that each is verified once, and
 * pointers that travel through memory (the bpf_loop context, the record
 * buffer) get their type back with bpf_rdonly_cast() (CAST), which the
 * verifier turns into a plain move. */
#include "helpers/common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#include "programs/sys_enter.bpf.h"
#include "programs/sys_exit.bpf.h"
#include "programs/sched_fork.bpf.h"
#include "programs/sched_exec.bpf.h"
#include "programs/sched_exit.bpf.h"
#include "programs/unix_guard.bpf.h"
