/* Kernel constants newer than Debian 12's linux-libc-dev (6.1 headers).
 * Each is guarded so that newer headers win; values are the kernel's ABI
 * and never change once released. */
#ifndef PIPJAIL_COMPAT_H
#define PIPJAIL_COMPAT_H

#include <linux/types.h>
#include <linux/landlock.h>
#include <sys/syscall.h>

/* ---- Landlock (include/uapi/linux/landlock.h) ---- */

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* ABI 3 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
/* ABI 5 */
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
/* ABI 4 */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
/* ABI 6 */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The 6.1 header's struct landlock_ruleset_attr has only handled_access_fs;
 * this is the ABI 6 layout.  The kernel takes the size we pass and requires
 * any bytes it does not know to be zero, so passing the size that matches
 * the probed ABI works on every kernel. */
struct pj_landlock_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;   /* ABI >= 4 */
	__u64 scoped;               /* ABI >= 6 */
};

/* LANDLOCK_RULE_NET_PORT (ABI 4) is an enum value in newer headers, so it
 * cannot be tested with #ifdef: use our own name. */
#define PJ_LANDLOCK_RULE_PATH_BENEATH 1
#define PJ_LANDLOCK_RULE_NET_PORT     2

struct pj_landlock_path_beneath_attr {
	__u64 allowed_access;
	__s32 parent_fd;
} __attribute__((packed));

struct pj_landlock_net_port_attr {
	__u64 allowed_access;
	__u64 port;
};

/* ---- syscall numbers (x86_64) newer than some libcs know ---- */

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

/* ---- namespaces and io_uring ---- */

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

#endif
