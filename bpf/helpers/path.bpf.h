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

/* The filesystems of files that have no directory
 * (include/uapi/linux/magic.h; macros, not in vmlinux.h). */
#define PIPEFS_MAGIC        0x50495045
#define SOCKFS_MAGIC        0x534F434B
#define ANON_INODE_FS_MAGIC 0x09041934
#define PID_FS_MAGIC        0x50494446

/* A file of no directory (the walk met a dentry that is its own parent),
 * named as /proc/PID/fd shows it: "pipe:[123]", "socket:[123]",
 * "anon_inode:[eventfd]", "anon_inode:[pidfd]"; any other one by its own
 * name ("memfd:NAME"), or by its filesystem and inode when it has none
 * ("nsfs:[4026531840]").  Never a path: it has no leading '/', which is
 * how user space tells it from one (with SF_PSEUDO).  The name is written
 * at off; returns its length without the NUL. */
static __always_inline __u32 pseudo_name(struct ev_record *r, __u32 off, __u64 dentry)
{
	struct dentry *d = CAST(struct dentry, dentry);
	struct super_block *sb = d->d_sb;
	unsigned long magic = sb->s_magic, ino = d->d_inode->i_ino;
	const unsigned char *name = d->d_name.name;
	__u32 nlen = d->d_name.len;
	char *out, c0 = 0;
	long n;

	if (off > REC_SOFT)
		return 0;
	bpf_probe_read_kernel(&c0, 1, name);
	out = (char *)&r->data[off];
	if (magic == PIPEFS_MAGIC)
		n = BPF_SNPRINTF(out, EV_STR_MAX, "pipe:[%lu]", ino);
	else if (magic == SOCKFS_MAGIC)
		n = BPF_SNPRINTF(out, EV_STR_MAX, "socket:[%lu]", ino);
	else if (magic == PID_FS_MAGIC)
		n = BPF_SNPRINTF(out, EV_STR_MAX, "anon_inode:[pidfd]");
	else if (magic == ANON_INODE_FS_MAGIC)
		n = BPF_SNPRINTF(out, EV_STR_MAX, "anon_inode:%s", name);
	else if (nlen && !(nlen == 1 && c0 == '/'))
		n = BPF_SNPRINTF(out, EV_STR_MAX, "%s", name);
	else
		n = BPF_SNPRINTF(out, EV_STR_MAX, "%s:[%lu]", sb->s_type->name, ino);
	if (n < 2) {
		/* the helper failed: still a name, never an empty slot */
		out[0] = '?';
		out[1] = 0;
		return 1;
	}
	if (n > EV_STR_MAX)
		n = EV_STR_MAX;
	return (__u32)n - 1;
}

/* Append the path of (rb->walk_mnt, rb->walk_dentry) as seen from the
 * current task's root to the record, in slot; a file of no directory by
 * its name (pseudo_name, SF_PSEUDO). */
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
	if (c->pseudo) {
		n = pseudo_name(r, off, c->dentry);
	} else if (pos >= EV_WALK_MAX) {
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
		rb->dir_dev[dslot == SLOT_DIR ? 0 : 1] =
			CAST(struct dentry, rb->walk_dentry)->d_sb->s_dev;
		pj_walk(rb, dslot);
	} else {
		rb->file = task_fd_file(v->files, dfd);
		if (rb->file)
			rb->dir_dev[dslot == SLOT_DIR ? 0 : 1] =
				CAST(struct file, rb->file)->f_path.dentry->d_sb->s_dev;
		pj_walk_file(rb, dslot);
	}
}
