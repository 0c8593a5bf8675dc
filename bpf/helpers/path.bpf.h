/* Paths resolved in the kernel: the path of a (mount, dentry) pair as seen
 * from the current task's root (pj_walk, on helpers/walk.bpf.h), the
 * path and inode of an open file (pj_walk_file), and the directory a
 * relative path of a call is relative to (walk_dir_of).  The result goes
 * into a slot of the record, with its SF_* flags.
 *
 * Speed: the small structures of the walk (file, dentry, mount, fs_struct)
 * are read with direct (BTF-typed) loads through CAST, not
 * bpf_probe_read_kernel(): a helper call costs tens of nanoseconds and an
 * open record needs dozens of reads. */
#pragma once

#include "helpers/task.bpf.h"
#include "helpers/walk.bpf.h"

/* Append the path of (rb->walk_mnt, rb->walk_dentry) as seen from the
 * current task's root to the record, in slot. */
__noinline int pj_walk(struct rec_buf *rb, __u32 slot)
{
	struct ev_record *r;
	struct walk_buf *wb;
	struct walk_ctx *c;
	__u32 n, off, pos;

	if (!rb || !rb->walk_mnt || !rb->walk_dentry)
		return 0;
	wb = walk_run(rb->walk_mnt, rb->walk_dentry);
	if (!wb)
		return 0;
	r = rec_of(rb);
	slot &= SLOT_N - 1;
	c = &wb->c;
	if (!c->done || c->trunc) {
		r->flags |= EVF_WALK_TRUNC;
		r->sflags[slot] |= SF_TRUNC;
	}
	if (c->pseudo)
		r->sflags[slot] |= SF_PSEUDO;
	if (c->unreach)
		r->sflags[slot] |= SF_UNREACH;
	off = r->data_len;
	if (off > REC_SOFT) {
		r->flags |= EVF_TRUNC;
		return 0;
	}
	pos = c->pos;
	if (pos >= EV_WALK_MAX) {
		/* the root itself */
		r->data[off] = '/';
		r->data[off + 1] = 0;
		n = 1;
	} else {
		n = EV_WALK_MAX - pos;
		if (n > EV_WALK_MAX - 1)
			n = EV_WALK_MAX - 1;
		bpf_probe_read_kernel(&r->data[off], n, &wb->b[pos & (EV_WALK_MAX - 1)]);
		if (off + n < REC_CAP)  /* always: off <= REC_SOFT, n < EV_WALK_MAX */
			r->data[off + n] = 0;
	}
	r->off[slot] = off;
	r->len[slot] = n + 1;
	r->data_len = off + n + 1;
	return 0;
}

/* The path of the open file rb->file into slot; for SLOT_FILE also its
 * dev/inode. */
__noinline int pj_walk_file(struct rec_buf *rb, __u32 slot)
{
	struct ev_record *r;
	struct inode *ino;
	struct file *f;

	if (!rb || !rb->file)
		return 0;
	r = rec_of(rb);
	f = CAST(struct file, rb->file);
	ino = f->f_inode;
	if (ino && slot == SLOT_FILE) {
		r->dev = ino->i_sb->s_dev;
		r->ino = ino->i_ino;
		r->i_mode = ino->i_mode;
		r->flags |= EVF_FILE_VALID;
	}
	rb->walk_mnt = (__u64)f->f_path.mnt;
	rb->walk_dentry = (__u64)f->f_path.dentry;
	return pj_walk(rb, slot);
}

/* The directory a relative path in slot is resolved against (dirfd or
 * cwd), walked into dslot; nothing for an absolute path. */
static __always_inline void walk_dir_of(struct rec_buf *rb, const struct task_view *v, int slot,
					int dslot, __u8 dirfd_arg)
{
	struct ev_record *r = rec_of(rb);
	__u32 off = r->off[slot];
	__s64 dfd = AT_FDCWD;
	char c0;

	if (!r->len[slot] || off > REC_SOFT)
		return;
	c0 = r->data[off];
	if (c0 == '/')
		return;
	if (dirfd_arg)
		dfd = (int)sc_arg(r->args, dirfd_arg);
	if (dfd == AT_FDCWD) {
		struct fs_struct *fs = CAST(struct fs_struct, v->fs);

		rb->walk_mnt = (__u64)fs->pwd.mnt;
		rb->walk_dentry = (__u64)fs->pwd.dentry;
		pj_walk(rb, dslot);
	} else {
		rb->file = task_fd_file(v->files, dfd);
		pj_walk_file(rb, dslot);
	}
}
