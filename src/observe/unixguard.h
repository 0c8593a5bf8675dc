/* The unix-socket guard (bpf/programs/unix_guard.bpf.h, in the monitor's
 * object): cgroup programs on the jail's cgroup that let connect(2) and
 * datagrams sent to an address reach a pathname unix socket only in the
 * jail's own trees, and refuse (EPERM) every other one before the kernel
 * looks it up: no byte, no connection reaches a host socket.  They need
 * Linux 6.7 (BPF_CGROUP_UNIX_CONNECT, BPF_CGROUP_UNIX_SENDMSG,
 * bpf_sock_addr_set_sun_path).
 *
 * Order (the supervisor): unixguard_probe() on the jail's cgroup before
 * the jail's config is final (the jail makes the mirrors only when the
 * guard will run, and hides known socket directories when it will not);
 * monitor_opts.unix_guard = the answer, so monitor_load loads the two
 * programs; monitor_unix_guard() with the table before the command
 * starts; monitor_close() detaches them. */
#ifndef PIPJAIL_UNIXGUARD_H
#define PIPJAIL_UNIXGUARD_H

#include <stddef.h>
#include <stdint.h>

/* One tree of the table: a path in the jail (absolute, normal, not "/"),
 * and where the kernel looks instead for names below it: the jail's
 * read-only, nosymfollow mirror of that tree ("/dev/.u3", plus a rest for
 * an alias such as /var/run -> "/dev/.u5"), or NULL: not the jail's own,
 * refused.  The longest tree that holds a name decides; a name in no tree
 * is refused. */
struct unixguard_tree {
	const char *path;
	const char *mirror;
};

#define UNIXGUARD_MAX_TREES 64
#define UNIXGUARD_MAX_PATH  255   /* a tree's path */
#define UNIXGUARD_MAX_MIRROR 15   /* a mirror */

/* Does the kernel have the hooks?  Loads the smallest program of each
 * attach type and attaches it to cgroup_fd, then detaches it.  1: yes;
 * 0: no, why says what failed. */
int unixguard_probe(int cgroup_fd, char *why, size_t whylen);

/* Check the trees, fill them into the table (maps trees_fd, index_fd of
 * the monitor's object) and freeze it.  0, or -1 with a one-line reason in
 * err.  For monitor.c, and the unit test of the programs' path logic. */
int unixguard_fill(int trees_fd, int index_fd, const struct unixguard_tree *trees, size_t n,
		   char *err, size_t errlen);
/* Attach the two programs (connect, sendmsg) to cgroup_fd; their links go
 * to links[2] (closing them detaches).  0, or -1 with a reason in err. */
int unixguard_attach(const int prog_fds[2], int cgroup_fd, int links[2], char *err, size_t errlen);
/* The expected attach types of the connect and sendmsg programs. */
extern const int unixguard_attach_types[2];

#endif
