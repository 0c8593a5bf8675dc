/* One path walk in the kernel: the path of a (mount, dentry) pair as seen
 * from the current task's root, built backwards by climbing d_parent and
 * mount points with bpf_loop.  Shared by the monitor (helpers/path.bpf.h:
 * the records' resolved paths) and the unix-socket guard
 * (bpf/unixguard.bpf.c: the current directory of a relative socket path);
 * each object gets its own `walks` map from this header.
 *
 * Speed: the small structures of the walk (dentry, mount, fs_struct) are
 * read with direct (BTF-typed) loads through CAST, not
 * bpf_probe_read_kernel(): a helper call costs tens of nanoseconds. */
#pragma once

#include "helpers/common.bpf.h"

/* The state of one path walk, kept in a per-CPU map value instead of on
 * the stack: the verifier then sees unknown numbers in each bpf_loop step
 * and checks the step once, instead of once per distinct value of the
 * position and the flags (thousands of instructions per program). */
struct walk_ctx {
	__u64 mnt;          /* struct vfsmount * */
	__u64 dentry;
	__u64 root_mnt;
	__u64 root_dentry;
	__u32 pos;          /* the text is b[pos .. EV_WALK_MAX) */
	__u32 done;
	__u32 trunc;
	__u32 pseudo;
	__u32 unreach;
};

/* A path is built backwards from the end of this buffer. */
#define WALK_BUF (EV_WALK_MAX + 512)
struct walk_buf {
	struct walk_ctx c;
	union {
		char b[WALK_BUF];
		__u64 w[FOLD_PATH_MAX / 8];  /* a failed lookup's path, before any walk */
	};
};

/* Written and read: walk_run and walk_step (and, in the monitor, pj_walk;
 * fold_same_path borrows it for a word-aligned copy before any walk).
 * User space: never. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_buf);
} walks SEC(".maps");

/* One component: prepend d_name of the current dentry (or climb from a
 * mount's root to its mount point).  1: stop. */
static long walk_step(__u32 i, void *arg)
{
	struct walk_buf *wb;
	struct walk_ctx *c;
	struct dentry *d;
	struct vfsmount *vm;
	__u64 parent, mnt_root, mp;
	struct mount *m;
	__u32 zero = 0, len, at;

	wb = bpf_map_lookup_elem(&walks, &zero);
	if (!wb)
		return 1;
	c = &wb->c;
	if (c->dentry == c->root_dentry && c->mnt == c->root_mnt) {
		c->done = 1;
		return 1;
	}
	d = CAST(struct dentry, c->dentry);
	vm = CAST(struct vfsmount, c->mnt);
	mnt_root = (__u64)vm->mnt_root;
	parent = (__u64)d->d_parent;
	if (c->dentry == mnt_root) {
		m = CAST(struct mount, c->mnt - bpf_core_field_offset(struct mount, mnt));
		mp = (__u64)m->mnt_parent;
		if (!mp || mp == c->mnt - bpf_core_field_offset(struct mount, mnt)) {
			/* the top of a mount tree without meeting the task's root */
			c->unreach = 1;
			c->done = 1;
			return 1;
		}
		c->dentry = (__u64)m->mnt_mountpoint;
		c->mnt = mp + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	len = d->d_name.len;
	if (c->dentry == parent || len == 0) {
		/* a pseudo file (memfd, pipe, socket, anon inode): its own parent,
		 * no directory (pseudo_name in helpers/path.bpf.h names it).
		 * Package code cannot make a file of a directory look like one:
		 * only the root of a tree that no mount shows is its own parent
		 * and not a mount's root, and making such a tree
		 * (open_by_handle_at, the mount family, new mount namespaces) is
		 * refused in the jail. */
		c->pseudo = 1;
		c->done = 1;
		if (len == 0 || c->dentry != parent)
			return 1;
	}
	if (len > 255)
		len = 255;
	if (c->pos < len + 2 || c->pos > EV_WALK_MAX) {
		c->trunc = 1;
		return 1;
	}
	c->pos -= len;
	at = c->pos & (EV_WALK_MAX - 1);
	asm volatile("" : "+r"(len));  /* mask the register really passed */
	len &= 255;
	bpf_probe_read_kernel(&wb->b[at], len, d->d_name.name);
	c->pos -= 1;
	at = c->pos & (EV_WALK_MAX - 1);
	wb->b[at] = '/';
	c->dentry = parent;
	return c->done ? 1 : 0;
}

/* Walk (mnt, dentry) up to the current task's root.  The text is
 * wb->b[c.pos .. EV_WALK_MAX) (empty: the root itself); c.done is 0 when
 * the walk stopped early (c.trunc: too long or deep), c.unreach when the
 * pair is not below the task's root.  NULL: no buffer. */
static __always_inline struct walk_buf *walk_run(__u64 mnt, __u64 dentry)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fs_struct *fs;
	struct walk_buf *wb;
	struct walk_ctx *c;
	__u32 zero = 0;

	wb = bpf_map_lookup_elem(&walks, &zero);
	if (!wb)
		return NULL;
	c = &wb->c;
	c->mnt = mnt;
	c->dentry = dentry;
	fs = CAST(struct task_struct, t)->fs;
	c->root_mnt = (__u64)fs->root.mnt;
	c->root_dentry = (__u64)fs->root.dentry;
	c->pos = EV_WALK_MAX;
	c->done = c->trunc = c->pseudo = c->unreach = 0;
	bpf_loop(EV_WALK_DEPTH, walk_step, NULL, 0);
	return wb;
}
