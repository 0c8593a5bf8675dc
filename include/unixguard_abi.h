/* The table of the unix-socket guard, shared by bpf/unixguard.bpf.c (the
 * reader) and src/observe/unixguard.c (the writer, before attach).  The
 * BPF side includes vmlinux.h first; user space gets the __u types from
 * <linux/types.h>. */
#ifndef PIPJAIL_UNIXGUARD_ABI_H
#define PIPJAIL_UNIXGUARD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define UP_OUT        256   /* a normal path, bytes (power of two) */
#define UP_TREES      64    /* entries of the table */
#define UP_MIRROR     16    /* a mirror root, "/dev/.u12" (power of two) */
#define UP_SUN        128   /* a rewritten socket name and its NUL (>= 108 + 4) */

/* One tree: a path in the jail and, for a tree of the jail's own, the
 * mirror the kernel looks in instead (helpers/unixpath.bpf.h). */
struct up_tree {
	__u32 len;                /* of path */
	__u32 mlen;               /* of mirror; 0: not the jail's own, refused */
	char path[UP_OUT];        /* absolute, normal, no trailing '/' */
	char mirror[UP_MIRROR];   /* NUL-padded */
};

/* The index of the table: a tree by the length and FNV-1a hash of its
 * path, so the programs find the longest tree that holds a name with one
 * lookup per component of the name. */
struct up_key {
	__u32 len;
	__u32 pad;
	__u64 hash;
};
#define UP_FNV_OFFSET 0xcbf29ce484222325ULL
#define UP_FNV_PRIME  0x100000001b3ULL

#endif
