/* The seccomp filter of the jailed command (libseccomp).
 *
 * Policy: allow by default, and refuse the calls that would let a jailed
 * process leave or weaken the jail, attack its siblings or the kernel, or
 * hide its work from the syscall tracepoints:
 *   - any non-native ABI (i386 `int 0x80`, x32) kills the process: those
 *     calls have other numbers, and a filter written for x86_64 numbers
 *     would misread them;
 *   - EPERM for the refused calls below (a clean "operation not permitted"
 *     that programs already handle, as if the capability were missing);
 *   - ENOSYS for io_uring_* (libraries fall back to plain calls; io_uring
 *     work would slip past both seccomp and the tracepoints) and for clone3
 *     (its flags live in memory that a filter cannot read; glibc falls back
 *     to clone, whose flags we can check).
 *
 * A refused call never reaches the sys_enter tracepoint but does reach
 * sys_exit with the error, which is where the monitor records it.
 *
 * Not refused, on purpose: name_to_handle_at (it only encodes a handle for a
 * path the caller can already see; the dangerous half is open_by_handle_at,
 * which is refused), seccomp and landlock_* (they can only add restrictions),
 * and calls that dropped capabilities already refuse (settimeofday,
 * iopl, ...): the list below is the set where a capability-less process
 * still has something to gain, or where the refusal must not depend on how
 * the kernel was configured (unprivileged userns, perf_event_paranoid,
 * unprivileged_bpf_disabled, legacy_tiocsti, vm.unprivileged_userfaultfd). */
#include "jail/sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "jail/compat.h"
#include "base/base.h"

/* Calls refused outright with EPERM. */
static const char *const refused_eperm[] = {
	/* reading or steering other processes, taking their descriptors:
	 * pidfd_getfd copies any descriptor of a process the caller may
	 * ptrace (same uid in the jail: a build takes pip's), so it is the
	 * one call that could hand a build what pip holds.  The other ways to
	 * another process's descriptors are closed elsewhere: /proc/PID/fd/N
	 * reopens the file anew, with the file's own permissions and a ptrace
	 * access check (the command's terminal is the supervisor's root-owned
	 * pseudo-terminal, 0600); SCM_RIGHTS carries only what the sender
	 * already holds; kcmp only compares.  pidfd_open itself is allowed
	 * (waiting for one's own child through a pidfd is ordinary). */
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	/* kernel attack surface and tracing-evasion tools */
	"bpf", "perf_event_open", "userfaultfd",
	/* mount family, old and new API */
	"mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr",
	/* namespaces and root changes */
	"unshare", "setns", "chroot",
	/* the running kernel */
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "reboot", "swapon", "swapoff", "acct",
	/* the kernel keyring is shared across the jail boundary by uid */
	"keyctl", "add_key", "request_key",
	/* bypasses path-based checks (needs CAP_DAC_READ_SEARCH, refused anyway) */
	"open_by_handle_at",
};

/* Calls that fail with ENOSYS, so that callers fall back. */
static const char *const refused_enosys[] = {
	"io_uring_setup", "io_uring_enter", "io_uring_register", "clone3",
};

/* clone() flags that create namespaces.  CLONE_NEWTIME is not here: in
 * clone() its bit is part of the exit signal; it is only reachable through
 * clone3 (ENOSYS) and unshare (EPERM). */
static const unsigned long clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
	CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* ioctl requests that push input into a terminal or read/drive the console
 * (bubblewrap CVE-2017-5226). */
static const unsigned long refused_ioctls[] = { TIOCSTI, TIOCLINUX };

static int rule_by_name(scmp_filter_ctx ctx, uint32_t action, const char *name,
			unsigned int n_cmp, const struct scmp_arg_cmp *cmp,
			char *err, size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR) {
		snprintf(err, errlen, "seccomp: libseccomp does not know the syscall %s", name);
		return -1;
	}
	rc = seccomp_rule_add_array(ctx, action, nr, n_cmp, cmp);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot add a rule for %s: %s", name, strerror(-rc));
		return -1;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused_eperm); i++)
		if (rule_by_name(ctx, eperm, refused_eperm[i], 0, NULL, err, errlen) < 0)
			return -1;
	for (i = 0; i < ARRAY_SIZE(refused_enosys); i++)
		if (rule_by_name(ctx, SCMP_ACT_ERRNO(ENOSYS), refused_enosys[i], 0, NULL,
				 err, errlen) < 0)
			return -1;

	/* One rule per flag: the rules of one call are OR-ed. */
	for (i = 0; i < ARRAY_SIZE(clone_ns_flags); i++) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i],
						clone_ns_flags[i]);
		if (rule_by_name(ctx, eperm, "clone", 1, &c, err, errlen) < 0)
			return -1;
	}

	/* The request is an unsigned int to the kernel, which ignores the high
	 * half of the register: compare the low 32 bits only, so that
	 * TIOCSTI | 1 << 32 cannot slip past. */
	for (i = 0; i < ARRAY_SIZE(refused_ioctls); i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL,
						refused_ioctls[i]);
		if (rule_by_name(ctx, eperm, "ioctl", 1, &c, err, errlen) < 0)
			return -1;
	}

	/* personality: glibc and Python query it (0xffffffff) and may set
	 * PER_LINUX (0); any other value (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC,
	 * UNAME26, PER_LINUX32, ...) weakens the process or lies about the
	 * system, and is refused.  libseccomp allows one comparison per argument
	 * in a rule, so "not 0 and not ~0" is spelt as a union: a 32-bit value
	 * that is neither all zeros nor all ones has two neighbouring bits that
	 * differ, and each rule matches one such pair.  The kernel reads an
	 * unsigned int, so the high half of the register is ignored here too. */
	for (i = 0; i < 31; i++) {
		const unsigned long pair = 3UL << i;
		struct scmp_arg_cmp lo_set = SCMP_A0(SCMP_CMP_MASKED_EQ, pair, 1UL << i);
		struct scmp_arg_cmp hi_set = SCMP_A0(SCMP_CMP_MASKED_EQ, pair, 2UL << i);

		if (rule_by_name(ctx, eperm, "personality", 1, &lo_set, err, errlen) < 0 ||
		    rule_by_name(ctx, eperm, "personality", 1, &hi_set, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* `pipjail analyze` (src/sinkhole.c): calls answered by the supervisor
 * through a user-notification listener.  connect, so that a listener waits
 * on the port before the call goes on; with fast_time the sleeps, answered
 * at once as if the time had passed.  poll/ppoll and select/pselect6 only
 * as pure timers (no fds): with fds they are waits for real events. */
static int add_notify_rules(scmp_filter_ctx ctx, const struct seccomp_notify_opts *n,
			    char *err, size_t errlen)
{
	static const char *const sleeps[] = { "nanosleep", "clock_nanosleep" };
	static const char *const no_fd_a1[] = { "poll", "ppoll" };
	static const char *const no_fd_a0[] = { "select", "pselect6" };
	size_t i;

	if (n->connect && rule_by_name(ctx, SCMP_ACT_NOTIFY, "connect", 0, NULL, err, errlen) < 0)
		return -1;
	if (!n->fast_time)
		return 0;
	for (i = 0; i < ARRAY_SIZE(sleeps); i++)
		if (rule_by_name(ctx, SCMP_ACT_NOTIFY, sleeps[i], 0, NULL, err, errlen) < 0)
			return -1;
	for (i = 0; i < ARRAY_SIZE(no_fd_a1); i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_EQ, 0);

		if (rule_by_name(ctx, SCMP_ACT_NOTIFY, no_fd_a1[i], 1, &c, err, errlen) < 0)
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(no_fd_a0); i++) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, 0);

		if (rule_by_name(ctx, SCMP_ACT_NOTIFY, no_fd_a0[i], 1, &c, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int seccomp_install(char *err, size_t errlen)
{
	return seccomp_install_notify(NULL, NULL, err, errlen);
}

int seccomp_install_notify(const struct seccomp_notify_opts *n, int *listener,
			   char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc, ret = -1;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: seccomp_init failed");
		return -1;
	}
	/* seccomp_init() adds only the native architecture: every other ABI
	 * (i386 through int 0x80, and x32, whose numbers carry
	 * __X32_SYSCALL_BIT) takes the bad-arch action. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot set the bad-arch action: %s", strerror(-rc));
		goto cleanup;
	}
	/* A binary tree of syscall numbers instead of a list: every call of
	 * the jail runs this filter, and the list costs a comparison per rule
	 * (libseccomp >= 2.5; the filter means the same either way). */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc < 0)
		debugx(1, "seccomp: no binary-tree filter (%s): a linear one", strerror(-rc));
	/* libseccomp sets no_new_privs itself before loading (idempotent). */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot request no_new_privs: %s", strerror(-rc));
		goto cleanup;
	}
	if (add_rules(ctx, err, errlen) < 0)
		goto cleanup;
	if (n && (n->connect || n->fast_time) && add_notify_rules(ctx, n, err, errlen) < 0)
		goto cleanup;
	rc = seccomp_load(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot load the filter: %s", strerror(-rc));
		goto cleanup;
	}
	if (listener) {
		*listener = (n && (n->connect || n->fast_time)) ? seccomp_notify_fd(ctx) : -1;
		if (n && (n->connect || n->fast_time) && *listener < 0) {
			snprintf(err, errlen, "seccomp: no user-notification listener");
			goto cleanup;
		}
	}
	ret = 0;
cleanup:
	seccomp_release(ctx);
	return ret;
}

/* Names resolved once and kept for the life of the process: callers get a
 * pointer they never free.  Native x86_64 numbers are below 512 (512 and up
 * are the x32 compat slots, killed by the filter); larger numbers get NULL. */
#define NAME_CACHE_SIZE 512
static const char *name_cache[NAME_CACHE_SIZE];
static const char unknown_name[] = "";

const char *seccomp_syscall_name(long nr)
{
	const char *cached, *expected = NULL;
	char *name;

	if (nr < 0 || nr >= NAME_CACHE_SIZE)
		return NULL;
	cached = __atomic_load_n(&name_cache[nr], __ATOMIC_ACQUIRE);
	if (cached)
		return cached == unknown_name ? NULL : cached;

	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
	cached = name ? name : unknown_name;
	/* Another thread may have filled the slot meanwhile: keep its copy. */
	if (!__atomic_compare_exchange_n(&name_cache[nr], &expected, cached, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(name);
		cached = expected;
	}
	return cached == unknown_name ? NULL : cached;
}
