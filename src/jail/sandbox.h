/* Kernel-enforced walls applied to the command just before exec:
 * seccomp (src/seccomp.c) and Landlock (src/landlock.c). */
#ifndef PIPJAIL_SANDBOX_H
#define PIPJAIL_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/compat.h"   /* the Landlock ABI structures the functions below take */

/* Install the seccomp filter in the calling thread (inherited over fork and
 * execve).  Sets no_new_privs itself (idempotent).  Non-native ABIs (i386
 * int 0x80, x32) kill the process; the refused calls (list in seccomp.c:
 * ptrace, pidfd_getfd, mount family, unshare/setns, clone with namespace flags, bpf,
 * ioctl TIOCSTI/TIOCLINUX, personality changes, ...) get EPERM; io_uring_*
 * and clone3 get ENOSYS.  Install it after every mount and namespace step:
 * it refuses them.  Returns 0, or -1 with a reason in err. */
int seccomp_install(char *err, size_t errlen);

/* The same, with calls answered by a user-notification listener (see
 * add_notify_rules in seccomp.c): connect (the analyze sinkhole) and, with
 * fast_time, the sleeps.  *listener gets the listener fd (-1 when no call is
 * notified); the caller hands it to the supervisor. */
struct seccomp_notify_opts {
	bool connect;
	bool fast_time;
};
int seccomp_install_notify(const struct seccomp_notify_opts *n, int *listener,
			   char *err, size_t errlen);

/* Name of a syscall number of the native ABI ("openat"), or NULL.  The
 * string is cached for the life of the process: never free it. */
const char *seccomp_syscall_name(long nr);

struct landlock_policy {
	const char *const *rw_paths;  /* trees where the command may write (and read) */
	unsigned int n_rw;
	int tcp_connect_port;         /* the egress proxy's port, or -1: no TCP connect at all */
	bool net_unrestricted;        /* --net host: TCP left to the host's own rules */
};

/* src/jail/landlock_core.c, plain libc (the preload library links it too):
 * the ABI (0 when Landlock is not available); every file-system right an
 * ABI knows; a ruleset (an fd, or -1 with errno); a path_beneath rule for
 * path (directory-only rights dropped for a file): 0, or -1 with errno. */
struct pj_landlock_ruleset_attr;
int landlock_abi(void);
uint64_t landlock_fs_rights(int abi);
int landlock_create_ruleset(const struct pj_landlock_ruleset_attr *attr, size_t size);
int landlock_allow_beneath(int ruleset_fd, const char *path, uint64_t access);

/* Restrict the calling thread.  Reads and execs are allowed everywhere the
 * mounts show (the host root is already read-only); writes only under
 * rw_paths; TCP bind never; TCP connect only to tcp_connect_port; abstract
 * unix sockets and signals scoped to the jail (ABI >= 6).  Always also:
 * write and device ioctls on /dev's device files, full access to /dev/shm.
 * rw_paths must be absolute and are resolved in the caller's mount view
 * (apply after the final mounts); missing ones are skipped.  Sets
 * no_new_privs.  Uses what the running kernel's ABI has.  Returns the ABI
 * used (0: Landlock unavailable, or ABI 1, which cannot allow pip's
 * cross-directory renames: nothing done), or -1 with a reason in err. */
int landlock_apply(const struct landlock_policy *p, char *err, size_t errlen);

#endif
