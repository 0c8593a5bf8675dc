/* Folding identical failed lookups (a compiler probing include paths): a
 * thread's consecutive file calls that fail with ENOENT with the same
 * call, arguments, base directory and path are counted into the last
 * recorded one instead of recorded; the count goes out as an EV_REPEAT
 * record before the thread's next record (docs/trace-format.md, "repeat";
 * the bounds are in include/events.h).  The state is per task, in struct
 * pending (fold_*). */
#pragma once

#include "helpers/task.bpf.h"

#define FOLD_NONE   0  /* recorded, nothing to fold into */
#define FOLD_FOLDED 1  /* counted into the previous record, not recorded */
#define FOLD_BASE   2  /* recorded, and identical ones after it fold into it */

/* Send the count of folded calls (before the thread's next record). */
static __always_inline void fold_flush(struct pending *p)
{
	__u64 pt = bpf_get_current_pid_tgid();
	struct ev_record *r;

	if (!p || !p->fold_count)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		/* each folded call is an event lost */
		counter_add(CNT_RINGBUF_FULL, p->fold_count);
		p->fold_count = 0;
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->type = EV_REPEAT;
	r->nr = p->fold_nr;
	r->ts = p->fold_last;
	r->ts_enter = p->fold_first;  /* names the base: its record's ts */
	r->htid = (__u32)pt;
	r->hpid = pt >> 32;
	r->repeat = p->fold_count;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	p->fold_count = 0;
}

/* Send the count and forget the base: the thread does something else
 * (forks, execs) before its next call. */
static __always_inline void fold_end(struct pending *p)
{
	if (!p)
		return;
	fold_flush(p);
	p->fold_len = 0;
}

/* The directory a relative path of this call is resolved against (as
 * pointers: no walk). */
static __always_inline void fold_dir(struct task_struct *t, struct pending *p, __u8 dirfd_arg,
				     __u64 *mnt, __u64 *dentry)
{
	__s64 dfd = AT_FDCWD;
	__u32 off = p->off[SLOT_PATH];

	*mnt = *dentry = 0;
	if (off > PEND_SOFT || p->data[off] == '/')
		return;
	if (dirfd_arg)
		dfd = (int)sc_arg(p->args, dirfd_arg);
	if (dfd == AT_FDCWD) {
		struct fs_struct *fs = CAST(struct task_struct, t)->fs;

		*mnt = (__u64)fs->pwd.mnt;
		*dentry = (__u64)fs->pwd.dentry;
	} else {
		__u64 fp = task_fd_file(task_files(t), dfd);
		struct file *f;

		if (!fp)
			return;
		f = CAST(struct file, fp);
		*mnt = (__u64)f->f_path.mnt;
		*dentry = (__u64)f->f_path.dentry;
	}
}

struct fold_cmp {
	struct pending *p;
	__u32 len;
	__u32 same;
};

static long fold_cmp_step(__u32 i, void *arg)
{
	struct fold_cmp *c = arg;
	struct walk_buf *wb;
	__u32 zero = 0, rem;
	__u64 mask;

	wb = bpf_map_lookup_elem(&walks, &zero);
	if (!wb || !c->p || i * 8 >= c->len)
		return 1;
	rem = c->len - i * 8;
	mask = rem >= 8 ? ~0ull : (1ull << (rem * 8)) - 1;
	i &= FOLD_PATH_MAX / 8 - 1;
	if ((wb->w[i] ^ c->p->fold_path[i]) & mask) {
		c->same = 0;
		return 1;
	}
	return 0;
}

/* Does the path in p's data (off, len) equal the one folded into?  A word
 * at a time: the candidate is copied to the (aligned, not yet used) walk
 * buffer first.  A bpf_loop, not an unrolled loop: checked once. */
static __always_inline bool fold_same_path(struct pending *p, __u32 off, __u32 len)
{
	struct fold_cmp c = { .p = p, .len = len, .same = 1 };
	struct walk_buf *wb;
	__u32 zero = 0;

	wb = bpf_map_lookup_elem(&walks, &zero);
	if (!wb || bpf_probe_read_kernel(wb->w, len & (FOLD_PATH_MAX - 1) ?: FOLD_PATH_MAX, &p->data[off]))
		return false;
	bpf_loop(FOLD_PATH_MAX / 8, fold_cmp_step, &c, 0);
	return c.same;
}

/* Folding a failed lookup (ENOENT) of a file call with one path into the
 * previous identical one.  Global: the verifier checks it once instead of
 * once per path through pj_sys_exit, which is most of the load time.
 * may_fold 0: the call cannot fold (a refusal, a 32-bit call): send the
 * count of what was folded and start over.  Returns FOLD_*. */
__noinline int pj_fold(struct pending *p, __s64 nr, long ret, int may_fold)
{
	const volatile struct sc_spec *s = &specs[nr & (SC_NR_MAX - 1)];
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 a[6], mnt, dentry, now;
	__u32 len, off, i;
	bool same;

	if (!p)
		return FOLD_NONE;
	len = p->len[SLOT_PATH];
	off = p->off[SLOT_PATH];
	if (!may_fold || ret != -ENOENT || !(s->flags & SCF_BULK) || s->path2 || !len ||
	    len > FOLD_PATH_MAX || off > PEND_SOFT || (p->flags & EVF_TRUNC)) {
		fold_end(p);
		return FOLD_NONE;
	}
	/* the path's address differs from call to call, its bytes are compared */
#pragma unroll
	for (i = 0; i < 6; i++)
		a[i] = s->path == i + 1 ? 0 : p->args[i];
	if (s->flags & SCF_HOW)
		a[2] = 0;
	fold_dir(t, p, s->dirfd, &mnt, &dentry);
	now = bpf_ktime_get_ns();
	same = p->fold_len == len && p->fold_nr == p->nr && p->fold_mnt == mnt &&
	       p->fold_dentry == dentry && now - p->fold_first < FOLD_WINDOW_NS;
#pragma unroll
	for (i = 0; i < 6; i++)
		same = same && p->fold_args[i] == a[i];
	if (same && fold_same_path(p, off, len)) {
		p->fold_count++;
		p->fold_last = now;
		counter_inc(CNT_FOLDED);
		return FOLD_FOLDED;
	}
	fold_flush(p);
	p->fold_len = len;
	p->fold_nr = p->nr;
	p->fold_mnt = mnt;
	p->fold_dentry = dentry;
	p->fold_first = now;
#pragma unroll
	for (i = 0; i < 6; i++)
		p->fold_args[i] = a[i];
	bpf_probe_read_kernel(p->fold_path, len, &p->data[off]);
	return FOLD_BASE;
}
