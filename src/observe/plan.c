/* The capture plan: which syscalls the monitor records, under which event
 * kind, and which of their arguments the BPF program copies at entry
 * (paths, strings, socket addresses) or resolves at exit (the directory of
 * a relative path, the file behind an fd).  Numbers are the native ABI's
 * (x86-64: see bpf/arch/README.md). */
#include "observe/plan.h"

#include <string.h>
#include <sys/syscall.h>

#include "observe/monitor_sysnr.h"
#include "base/base.h"

struct sc_def {
	int nr;
	const char *kind;
	struct sc_spec spec;
};

#define T SCF_TRACE
#define B (SCF_TRACE | SCF_BULK)
#define M (SCF_TRACE | SCF_BULK | SCF_MODIFY)  /* changes the file system */
/* Positions are 1-based argument numbers. */
#define PATH(p)            .path = (p)
#define PATHAT(d, p)       .dirfd = (d), .path = (p)
#define PATH2(p)           .path2 = (p)
#define PATH2AT(d, p)      .dirfd2 = (d), .path2 = (p)

static const struct sc_def sc_defs[] = {
	/* files */
	{ SYS_open,       "open",     { .flags = B | SCF_OPEN, PATH(1), .oflags = 2 } },
	{ SYS_creat,      "open",     { .flags = B | SCF_OPEN, PATH(1) } },
	{ SYS_openat,     "open",     { .flags = B | SCF_OPEN, PATHAT(1, 2), .oflags = 3 } },
	{ SYS_openat2,    "open",     { .flags = B | SCF_OPEN | SCF_HOW, PATHAT(1, 2), .oflags = 5 } },
	{ SYS_open_by_handle_at, "open", { .flags = B | SCF_OPEN } },
	{ SYS_unlink,     "unlink",   { .flags = M, PATH(1) } },
	{ SYS_unlinkat,   "unlink",   { .flags = M, PATHAT(1, 2) } },
	{ SYS_rmdir,      "rmdir",    { .flags = M, PATH(1) } },
	{ SYS_rename,     "rename",   { .flags = M, PATH(1), PATH2(2) } },
	{ SYS_renameat,   "rename",   { .flags = M, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_renameat2,  "rename",   { .flags = M, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_mkdir,      "mkdir",    { .flags = M, PATH(1) } },
	{ SYS_mkdirat,    "mkdir",    { .flags = M, PATHAT(1, 2) } },
	{ SYS_link,       "link",     { .flags = M, PATH(1), PATH2(2) } },
	{ SYS_linkat,     "link",     { .flags = M, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_symlink,    "symlink",  { .flags = M, .str = 1, PATH(2) } },
	{ SYS_symlinkat,  "symlink",  { .flags = M, .str = 1, PATHAT(2, 3) } },
	{ SYS_chmod,      "chmod",    { .flags = M, PATH(1) } },
	{ SYS_fchmod,     "chmod",    { .flags = M, .fd = 1 } },
	{ SYS_fchmodat,   "chmod",    { .flags = M, PATHAT(1, 2) } },
	{ SYS_fchmodat2,  "chmod",    { .flags = M, PATHAT(1, 2) } },
	{ SYS_chown,      "chown",    { .flags = M, PATH(1) } },
	{ SYS_lchown,     "chown",    { .flags = M, PATH(1) } },
	{ SYS_fchown,     "chown",    { .flags = M, .fd = 1 } },
	{ SYS_fchownat,   "chown",    { .flags = M, PATHAT(1, 2) } },
	{ SYS_truncate,   "truncate", { .flags = M, PATH(1) } },
	{ SYS_ftruncate,  "truncate", { .flags = M, .fd = 1 } },
	{ SYS_mknod,      "mknod",    { .flags = M, PATH(1) } },
	{ SYS_mknodat,    "mknod",    { .flags = M, PATHAT(1, 2) } },
	{ SYS_chdir,      "chdir",    { .flags = B, PATH(1) } },
	{ SYS_fchdir,     "chdir",    { .flags = B, .fd = 1 } },
	{ SYS_execve,     "exec",     { .flags = B | SCF_EXEC, PATH(1) } },
	{ SYS_execveat,   "exec",     { .flags = B | SCF_EXEC, PATHAT(1, 2) } },
	/* network */
	{ SYS_socket,     "socket",   { .flags = T } },
	{ SYS_connect,    "connect",  { .flags = T | SCF_NET, .addr_mode = SA_SOCKADDR, .addr = 2, .addrlen = 3 } },
	{ SYS_bind,       "bind",     { .flags = T, .addr_mode = SA_SOCKADDR, .addr = 2, .addrlen = 3 } },
	{ SYS_listen,     "listen",   { .flags = T } },
	{ SYS_sendto,     "send",     { .flags = T | SCF_NET | SCF_SENDBUF, .addr_mode = SA_SOCKADDR, .addr = 5, .addrlen = 6 } },
	{ SYS_sendmsg,    "send",     { .flags = T | SCF_NET, .addr_mode = SA_MSGHDR, .addr = 2 } },
	{ SYS_sendmmsg,   "send",     { .flags = T | SCF_NET, .addr_mode = SA_MMSGHDR, .addr = 2 } },
	/* risky */
	{ SYS_memfd_create, "memfd",  { .flags = T | SCF_OPEN, .str = 1 } },
	{ SYS_memfd_secret, "memfd",  { .flags = T } },
	{ SYS_ptrace,     "ptrace",   { .flags = T } },
	{ SYS_process_vm_readv,  "process_vm", { .flags = T } },
	{ SYS_process_vm_writev, "process_vm", { .flags = T } },
	{ SYS_kill,       "kill",     { .flags = T } },
	{ SYS_tkill,      "kill",     { .flags = T } },
	{ SYS_tgkill,     "kill",     { .flags = T } },
	{ SYS_pidfd_send_signal, "kill", { .flags = T } },
	{ SYS_pidfd_getfd, "pidfd_getfd", { .flags = T } },
	{ SYS_mount,      "mount",    { .flags = T, PATH(1), PATH2(2), .str = 3 } },
	{ SYS_umount2,    "mount",    { .flags = T, PATH(1) } },
	{ SYS_pivot_root, "mount",    { .flags = T, PATH(1), PATH2(2) } },
	{ SYS_move_mount, "mount",    { .flags = T, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_open_tree,  "mount",    { .flags = T, PATHAT(1, 2) } },
	{ SYS_fsopen,     "mount",    { .flags = T, .str = 1 } },
	{ SYS_fsmount,    "mount",    { .flags = T } },
	{ SYS_fsconfig,   "mount",    { .flags = T, .str = 3 } },
	{ SYS_fspick,     "mount",    { .flags = T, PATHAT(1, 2) } },
	{ SYS_mount_setattr, "mount", { .flags = T, PATHAT(1, 2) } },
	{ SYS_chroot,     "chroot",   { .flags = T, PATH(1) } },
	{ SYS_setuid,     "setid",    { .flags = T } },
	{ SYS_setgid,     "setid",    { .flags = T } },
	{ SYS_setreuid,   "setid",    { .flags = T } },
	{ SYS_setregid,   "setid",    { .flags = T } },
	{ SYS_setresuid,  "setid",    { .flags = T } },
	{ SYS_setresgid,  "setid",    { .flags = T } },
	{ SYS_setfsuid,   "setid",    { .flags = T } },
	{ SYS_setfsgid,   "setid",    { .flags = T } },
	{ SYS_setgroups,  "setid",    { .flags = T } },
	{ SYS_capset,     "setid",    { .flags = T } },
	{ SYS_prctl,      "prctl",    { .flags = T } },
	{ SYS_seccomp,    "seccomp",  { .flags = T } },
	{ SYS_unshare,    "unshare",  { .flags = T } },
	{ SYS_setns,      "setns",    { .flags = T } },
	{ SYS_bpf,        "bpf",      { .flags = T } },
	{ SYS_perf_event_open, "perf_event_open", { .flags = T } },
	{ SYS_io_uring_setup,    "io_uring", { .flags = T } },
	{ SYS_io_uring_enter,    "io_uring", { .flags = T } },
	{ SYS_io_uring_register, "io_uring", { .flags = T } },
	{ SYS_keyctl,     "keyctl",   { .flags = T } },
	{ SYS_add_key,    "keyctl",   { .flags = T, .str = 1 } },
	{ SYS_request_key, "keyctl",  { .flags = T, .str = 1 } },
	{ SYS_init_module,   "module", { .flags = T } },
	{ SYS_finit_module,  "module", { .flags = T, .fd = 1 } },
	{ SYS_delete_module, "module", { .flags = T, .str = 1 } },
	{ SYS_kexec_load,      "kexec", { .flags = T } },
	{ SYS_kexec_file_load, "kexec", { .flags = T } },
	{ SYS_userfaultfd, "userfaultfd", { .flags = T } },
	{ SYS_personality, "personality", { .flags = T } },
	{ SYS_name_to_handle_at, "open", { .flags = T, PATHAT(1, 2) } },
	{ SYS_quotactl,   "admin",    { .flags = T } },
	{ SYS_swapon,     "admin",    { .flags = T, PATH(1) } },
	{ SYS_swapoff,    "admin",    { .flags = T, PATH(1) } },
	{ SYS_reboot,     "admin",    { .flags = T } },
	{ SYS_syslog,     "admin",    { .flags = T } },
	{ SYS_acct,       "admin",    { .flags = T, PATH(1) } },
	{ SYS_iopl,       "admin",    { .flags = T } },
	{ SYS_ioperm,     "admin",    { .flags = T } },
	{ SYS_sethostname,   "admin", { .flags = T } },
	{ SYS_setdomainname, "admin", { .flags = T } },
	{ SYS_settimeofday,  "admin", { .flags = T } },
	{ SYS_clock_settime, "admin", { .flags = T } },
};

#undef T
#undef B
#undef M

/* Kinds whose raw arguments go into the trace (the others are decoded). */
bool plan_kind_writes_args(const char *kind)
{
	static const char *const decoded[] = {
		"open", "unlink", "rmdir", "rename", "mkdir", "link", "symlink", "chmod",
		"chown", "truncate", "mknod", "chdir", "exec", "connect", "bind", "send",
		"socket", "listen", "memfd", "kill",
	};

	for (size_t i = 0; i < ARRAY_SIZE(decoded); i++)
		if (!strcmp(kind, decoded[i]))
			return false;
	return true;
}

void plan_fill(struct sc_spec specs[SC_NR_MAX], const char *kind_of[SC_NR_MAX])
{
	for (size_t i = 0; i < ARRAY_SIZE(sc_defs); i++) {
		int nr = sc_defs[i].nr;

		if (nr < 0 || nr >= SC_NR_MAX)
			continue;
		specs[nr] = sc_defs[i].spec;
		kind_of[nr] = sc_defs[i].kind;
	}
}
