/* The task view: is the current task in the jail, its ids as seen in its
 * own pid namespace (and on the host), the few task_struct fields a
 * program reads once at its top (struct task_view), and the file behind
 * an fd.
 *
 * Speed: fields of task_struct are read with BPF_CORE_READ, not direct
 * loads: the verifier walks the BTF of that huge struct for every direct
 * load, milliseconds of load time per access. */
#pragma once

#include "helpers/records.bpf.h"

static __always_inline bool task_in_jail(void)
{
	return bpf_get_current_cgroup_id() == target_cgid;
}

/* ---- pid namespace view ------------------------------------------------ */

/* numbers[] is a flexible array: a variable index needs a helper read. */
static __always_inline void task_upid_at(struct pid *pid, __u32 level, struct upid *out)
{
	void *a = (void *)pid + bpf_core_field_offset(struct pid, numbers) +
		  (level & 31) * bpf_core_type_size(struct upid);

	bpf_probe_read_kernel(out, sizeof(*out), a);
}

/* The number of pid in namespace ns (at depth level), 0 if pid is not in it. */
static __always_inline __u32 task_pid_nr_in(struct pid *pid, __u32 level, __u64 ns)
{
	struct upid u = {};

	if (!pid || BPF_CORE_READ(pid, level) < level)
		return 0;
	task_upid_at(pid, level, &u);
	if ((__u64)u.ns != ns)
		return 0;
	return u.nr;
}

/* A pid namespace: its depth and address. */
struct task_nsref {
	__u32 level;
	__u64 ns;
};

static __always_inline void task_ns(struct task_struct *t, struct task_nsref *n)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	struct upid u = {};

	n->level = BPF_CORE_READ(pid, level);
	task_upid_at(pid, n->level, &u);
	n->ns = (__u64)u.ns;
}

/* pid/tid/ppid of t as seen in n, and its host ids. */
static __always_inline void task_ident_in(struct ev_record *r, struct task_struct *t,
					  const struct task_nsref *n)
{
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);

	r->htid = BPF_CORE_READ(t, pid);
	r->hpid = BPF_CORE_READ(t, tgid);
	r->hppid = BPF_CORE_READ(parent, tgid);
	r->tid = task_pid_nr_in(BPF_CORE_READ(t, thread_pid), n->level, n->ns);
	r->pid = task_pid_nr_in(BPF_CORE_READ(t, group_leader, thread_pid), n->level, n->ns);
	r->ppid = task_pid_nr_in(BPF_CORE_READ(parent, group_leader, thread_pid), n->level, n->ns);
}

/* uid, gid and comm of the current task. */
static __always_inline void task_ident_common(struct ev_record *r)
{
	__u64 ug = bpf_get_current_uid_gid();

	r->uid = (__u32)ug;
	r->gid = ug >> 32;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
}

/* The current task's ids in its own pid namespace, looked up (not
 * cached).  Global functions (here and in the other helpers) are verified
 * once, on their own, instead of once per call site: that keeps the load
 * time low.  Their pointer arguments are checked for NULL as the verifier
 * requires; kernel pointers reach them through rb (walk_mnt, walk_dentry,
 * file). */
__noinline int pj_task_ident(struct rec_buf *rb, struct pending *p)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct ev_record *r;
	struct task_nsref n;

	if (!rb)
		return 0;
	r = rec_of(rb);
	task_ns(t, &n);
	task_ident_in(r, t, &n);
	if (p) {
		p->id_htid = r->htid;
		p->id_hppid = r->hppid;
		p->id_pid = r->pid;
		p->id_tid = r->tid;
		p->id_ppid = r->ppid;
	}
	return 0;
}

/* Identity of the current task (t) into the record rb holds; the namespace
 * numbers are cached in p while its parent stays the same. */
static __always_inline void task_ident_current(struct rec_buf *rb, struct task_struct *t,
					       struct pending *p)
{
	struct ev_record *r = rec_of(rb);
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 htid = (__u32)pt, hppid = BPF_CORE_READ(t, real_parent, tgid);

	task_ident_common(r);
	if (p && p->id_htid == htid && p->id_hppid == hppid && p->id_tid) {
		r->htid = htid;
		r->hpid = pt >> 32;
		r->hppid = hppid;
		r->pid = p->id_pid;
		r->tid = p->id_tid;
		r->ppid = p->id_ppid;
		return;
	}
	pj_task_ident(rb, p);
}

/* ---- what a program reads of the current task once --------------------- */

/* What pj_sys_exit needs of the current task_struct, read once at its top.
 * Each direct load from task_struct makes the verifier walk that huge
 * struct's BTF, and a load below a branch is verified once per path to it:
 * reading these fields deep in the program cost a third of a second of
 * load time. */
struct task_view {
	__u64 fs;      /* struct fs_struct * */
	__u64 files;   /* struct files_struct * */
	bool compat;   /* a 32-bit call */
};

/* The file behind fd in the fd table `files` (a struct files_struct *,
 * read once per program: see struct task_view), as a number (0: none). */
static __always_inline __u64 task_fd_file(__u64 files, __s64 fd)
{
	struct fdtable *fdt = CAST(struct files_struct, files)->fdt;
	struct file **fds;
	__u64 f = 0;

	if (fd < 0 || fd >= fdt->max_fds)
		return 0;
	fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	return f;
}

/* The current task's fs_struct and fd table, as numbers. */
static __always_inline __u64 task_fs(struct task_struct *t)
{
	return (__u64)CAST(struct task_struct, t)->fs;
}

static __always_inline __u64 task_files(struct task_struct *t)
{
	return (__u64)CAST(struct task_struct, t)->files;
}
