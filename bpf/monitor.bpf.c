// SPDX-License-Identifier: GPL-2.0
/* pipjail monitor: records what the tasks of one cgroup (the jail) do.
 *
 * Only tp_btf programs (raw tracepoints with BTF): they attach without
 * tracefs and see every syscall ABI.  Scheme:
 *   sys_enter  - mark (task -> nr) in task storage; for traced calls copy the
 *                user strings and addresses NOW (they may change before exit)
 *   sys_exit   - no matching enter and ret < 0: seccomp refused the call
 *                (a refused call never reaches sys_enter); otherwise, for
 *                traced calls, resolve directories and the opened file in the
 *                kernel and emit one record with the result
 *   sched_process_fork/exec/exit - the process tree, argv, exe, cwd, status
 * Every record that cannot be emitted is counted in `drops`.
 *
 * Per task (task storage, set at fork from the parent's, updated at exec):
 * the marks of pipjail's own setup (not recorded until the task execs) and
 * the trust (role pip) that the two kernel rules depend on: an untrusted
 * open of a pip_only file, an untrusted exec of a denied program, both
 * killed with bpf_send_signal(SIGKILL) in enforce mode.  Identical failed
 * lookups of a thread are folded into a count (EV_REPEAT).  The rules and
 * the folding are documented in docs/trace-format.md.
 *
 * Speed: the small structures of the hot path (file, dentry, mount,
 * fdtable, fs_struct) are read with direct (BTF-typed) loads, not
 * bpf_probe_read_kernel(): a helper call costs tens of nanoseconds and an
 * open record needs dozens of reads.  Pointers that travel through memory
 * (the bpf_loop context, the record buffer) get their type back with
 * bpf_rdonly_cast(), which the verifier turns into a plain move.  Fields of
 * task_struct and mm_struct are read with BPF_CORE_READ instead: the
 * verifier walks the BTF of the struct for every direct load, and on those
 * huge structs that costs milliseconds of load time per access. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

#define AT_FDCWD   -100
#define AF_UNIX    1
#define AF_INET    2
#define AF_INET6   10
#define S_IFMT     00170000
#define S_IFSOCK   0140000
#define TS_COMPAT  0x0002

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
/* User ABI structures: their layout is fixed, so they are declared here
 * without CO-RE (vmlinux.h marks its types preserve_access_index).  Each
 * CO-RE type costs libbpf a scan of the whole kernel BTF at load time. */
struct pj_open_how {     /* struct open_how */
	__u64 flags, mode, resolve;
};
struct pj_iovec {        /* struct iovec */
	void *iov_base;
	__u64 iov_len;
};
struct pj_msghdr {       /* struct user_msghdr */
	void *msg_name;
	int msg_namelen;
	struct pj_iovec *msg_iov;
	__u64 msg_iovlen;
	void *msg_control;
	__u64 msg_controllen;
	unsigned int msg_flags;
};
struct pj_regs {         /* x86-64 struct pt_regs: the syscall ABI's registers */
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax;
};

#define CAST(type, p) ((type *)bpf_rdonly_cast((const void *)(p), bpf_core_type_id_kernel(type)))
/* A task as an untrusted pointer: CAST(struct task_struct, t)->fs.  A
 * pointer loaded through a trusted one (t->fs) makes the verifier search
 * the whole kernel BTF for a "__safe_trusted" type, once per path to the
 * load: a fifth of the load time.  Through an untrusted pointer the load is
 * the same single instruction (a faulting read is caught), and costs
 * nothing to verify. */

const volatile __u64 target_cgid = 0;
/* Set by user space at run time (monitor_set_enforce, monitor_protect_path,
 * monitor_deny_exec): kill on a rule hit; how many entries each rule map
 * holds (0: skip the lookup). */
__u32 enforce = 0;
__u32 n_pip_only = 0;
__u32 n_denied_exec = 0;
/* The jailed command's first exec happened (it alone is trusted without
 * looking at its argv).  init runs its commands one after the other, so
 * two of its children never race for this. */
__u32 cmd_started = 0;
/* Bulk records wake the reader only past this much unread data; the reader
 * also polls on a timer (MONITOR_POLL_MS).  A wakeup per record costs an
 * IPI, several microseconds in a VM. */
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile struct sc_spec specs[SC_NR_MAX] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);  /* set from --buffer-mb before load */
} events SEC(".maps");

/* enum pj_counter: [0] ring buffer full, [1] no task storage (both lost),
 * [2] suppressed (pipjail's own setup), [3] kills, [4] folded repeats */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_N);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Files only pip may open, programs no one but pip may start (user space
 * fills them: monitor_protect_path, monitor_deny_exec). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pj_inode);
	__type(value, __u32);
} pip_only SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct pj_inode);
	__type(value, __u32);
} denied_exec SEC(".maps");

/* Trust set by user space (monitor_set_trusted): host tgid -> 1 trusted,
 * 0 untrusted.  It wins over the kernel's own classification until the
 * process execs again. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} trust_set SEC(".maps");

/* Per task (struct pending, include/events.h): the call in progress. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pend SEC(".maps");

/* The record being assembled (too big for the stack), and the arguments of
 * the path resolution (kernel pointers, as numbers). */
struct rec_buf {
	__u64 walk_mnt, walk_dentry, file;
	__u8 raw[sizeof(struct ev_record) + REC_CAP];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec_buf);
} recs SEC(".maps");

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
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_buf);
} walks SEC(".maps");

static __always_inline void count_drop(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&drops, &idx);

	if (c)
		*c += 1;
}

/* The trust of a process: user space's word if it gave one, else the
 * kernel's classification. */
static __always_inline bool is_trusted(const struct pending *p, __u32 tgid)
{
	__u32 *o = bpf_map_lookup_elem(&trust_set, &tgid);

	if (o)
		return *o != 0;
	return p && (p->pj & PJ_TRUSTED);
}

static __always_inline bool in_jail(void)
{
	return bpf_get_current_cgroup_id() == target_cgid;
}

static __always_inline __u64 argn(const __u64 *a, __u8 i)
{
	switch (i) {
	case 1: return a[0];
	case 2: return a[1];
	case 3: return a[2];
	case 4: return a[3];
	case 5: return a[4];
	case 6: return a[5];
	}
	return 0;
}

/* ---- pid namespace view ------------------------------------------------ */

/* numbers[] is a flexible array: a variable index needs a helper read. */
static __always_inline void upid_at(struct pid *pid, __u32 level, struct upid *out)
{
	void *a = (void *)pid + bpf_core_field_offset(struct pid, numbers) +
		  (level & 31) * bpf_core_type_size(struct upid);

	bpf_probe_read_kernel(out, sizeof(*out), a);
}

/* The number of pid in namespace ns (at depth level), 0 if pid is not in it. */
static __always_inline __u32 pid_nr_in(struct pid *pid, __u32 level, __u64 ns)
{
	struct upid u = {};

	if (!pid || BPF_CORE_READ(pid, level) < level)
		return 0;
	upid_at(pid, level, &u);
	if ((__u64)u.ns != ns)
		return 0;
	return u.nr;
}

struct nsref {
	__u32 level;
	__u64 ns;
};

static __always_inline void task_ns(struct task_struct *t, struct nsref *n)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	struct upid u = {};

	n->level = BPF_CORE_READ(pid, level);
	upid_at(pid, n->level, &u);
	n->ns = (__u64)u.ns;
}

/* pid/tid/ppid of t as seen in n, and its host ids. */
static __always_inline void ident_in(struct ev_record *r, struct task_struct *t, const struct nsref *n)
{
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);

	r->htid = BPF_CORE_READ(t, pid);
	r->hpid = BPF_CORE_READ(t, tgid);
	r->hppid = BPF_CORE_READ(parent, tgid);
	r->tid = pid_nr_in(BPF_CORE_READ(t, thread_pid), n->level, n->ns);
	r->pid = pid_nr_in(BPF_CORE_READ(t, group_leader, thread_pid), n->level, n->ns);
	r->ppid = pid_nr_in(BPF_CORE_READ(parent, group_leader, thread_pid), n->level, n->ns);
}

static __always_inline void ident_common(struct ev_record *r)
{
	__u64 ug = bpf_get_current_uid_gid();

	r->uid = (__u32)ug;
	r->gid = ug >> 32;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
}

/* The current task's ids in its own pid namespace, looked up (not
 * cached): global, so that the verifier checks it once per program. */
__noinline int pj_ident_lookup(struct rec_buf *rb, struct pending *p)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct ev_record *r;
	struct nsref n;

	if (!rb)
		return 0;
	r = (struct ev_record *)rb->raw;
	task_ns(t, &n);
	ident_in(r, t, &n);
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
static __always_inline void ident_current(struct rec_buf *rb, struct task_struct *t, struct pending *p)
{
	struct ev_record *r = (struct ev_record *)rb->raw;
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 htid = (__u32)pt, hppid = BPF_CORE_READ(t, real_parent, tgid);

	ident_common(r);
	if (p && p->id_htid == htid && p->id_hppid == hppid && p->id_tid) {
		r->htid = htid;
		r->hpid = pt >> 32;
		r->hppid = hppid;
		r->pid = p->id_pid;
		r->tid = p->id_tid;
		r->ppid = p->id_ppid;
		return;
	}
	pj_ident_lookup(rb, p);
}

/* ---- paths resolved in the kernel --------------------------------------- */

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
		/* a pseudo file (memfd, pipe, socket): its own parent, no directory;
		 * keep its name if it has one, as d_path() would */
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

/* Global (non-static) functions below are verified once, on their own,
 * instead of once per call site: that keeps the load time low.  Their
 * pointer arguments are checked for NULL as the verifier requires; kernel
 * pointers reach them through rb (walk_mnt, walk_dentry, file). */

/* Append the path of (rb->walk_mnt, rb->walk_dentry) as seen from the
 * current task's root to the record, in slot. */
__noinline int pj_walk(struct rec_buf *rb, __u32 slot)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fs_struct *fs;
	struct ev_record *r;
	struct walk_buf *wb;
	struct walk_ctx *c;
	__u32 zero = 0, n, off, pos;

	wb = bpf_map_lookup_elem(&walks, &zero);
	if (!rb || !wb || !rb->walk_mnt || !rb->walk_dentry)
		return 0;
	r = (struct ev_record *)rb->raw;
	slot &= SLOT_N - 1;
	c = &wb->c;
	c->mnt = rb->walk_mnt;
	c->dentry = rb->walk_dentry;
	fs = CAST(struct task_struct, t)->fs;
	c->root_mnt = (__u64)fs->root.mnt;
	c->root_dentry = (__u64)fs->root.dentry;
	c->pos = EV_WALK_MAX;
	c->done = c->trunc = c->pseudo = c->unreach = 0;
	bpf_loop(EV_WALK_DEPTH, walk_step, NULL, 0);
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
static __always_inline __u64 fd_file(__u64 files, __s64 fd)
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

/* The path of the open file rb->file into slot; for SLOT_FILE also its
 * dev/inode. */
__noinline int pj_file(struct rec_buf *rb, __u32 slot)
{
	struct ev_record *r;
	struct inode *ino;
	struct file *f;

	if (!rb || !rb->file)
		return 0;
	r = (struct ev_record *)rb->raw;
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

/* ---- copies at entry ----------------------------------------------------- */

static __always_inline void put_user_str(struct pending *p, int slot, __u64 uptr, __u32 max)
{
	__u32 off = p->used;
	long n;

	if (!uptr)
		return;
	if (off > PEND_SOFT) {
		p->flags |= EVF_TRUNC;
		return;
	}
	n = bpf_probe_read_user_str(&p->data[off], max, (const void *)uptr);
	if (n <= 0)
		return;
	if (n >= max)
		p->flags |= EVF_TRUNC;
	p->off[slot] = off;
	p->len[slot] = n;
	p->used = off + n;
}

static __always_inline void put_user_bytes(struct pending *p, int slot, __u64 uptr, __u64 len,
					   __u32 max)
{
	__u32 off = p->used, n;

	if (!uptr || !len)
		return;
	if (off > PEND_SOFT) {
		p->flags |= EVF_TRUNC;
		return;
	}
	n = len > max ? max : len;
	/* callers' max is <= 1024: the mask changes nothing but gives the
	 * verifier a bound on the register that is actually passed */
	asm volatile("" : "+r"(n));
	n &= 1023;
	if (bpf_probe_read_user(&p->data[off], n, (const void *)uptr))
		return;
	p->off[slot] = off;
	p->len[slot] = n;
	p->used = off + n;
}

/* No address given to send()/sendmsg(): take the peer of a connected inet
 * socket, so that a DNS query over a connected UDP socket still shows it. */
static __always_inline void put_sock_peer(struct pending *p, struct task_struct *t, __s64 fd)
{
	struct {
		__u16 family;
		__u16 port;
		__u32 flowinfo;
		__u8 addr[16];
		__u32 scope;
	} sa = {};
	__u64 fp = fd_file((__u64)CAST(struct task_struct, t)->files, fd);
	struct socket *so;
	struct sock *sk;
	struct file *f;
	__u32 off = p->used, n;

	if (!fp)
		return;
	f = CAST(struct file, fp);
	if ((f->f_inode->i_mode & S_IFMT) != S_IFSOCK)
		return;
	so = CAST(struct socket, f->private_data);
	sk = so->sk;
	if (!sk)
		return;
	sa.family = sk->__sk_common.skc_family;
	sa.port = sk->__sk_common.skc_dport;
	if (!sa.port)
		return;
	if (sa.family == AF_INET) {
		__u32 a4 = sk->__sk_common.skc_daddr;

		/* sockaddr_in: family, port, addr */
		__builtin_memcpy(&sa.flowinfo, &a4, 4);
		n = 16;
	} else if (sa.family == AF_INET6) {
		BPF_CORE_READ_INTO(&sa.addr, sk, __sk_common.skc_v6_daddr);
		n = 28;
	} else {
		return;
	}
	if (off > PEND_SOFT)
		return;
	bpf_probe_read_kernel(&p->data[off], n, &sa);
	p->off[SLOT_ADDR] = off;
	p->len[SLOT_ADDR] = n;
	p->used = off + n;
	p->flags |= EVF_ADDR_SOCK;
}

/* Destination port (host order) of the captured address, 0 if none. */
static __always_inline __u16 captured_port(struct pending *p)
{
	__u32 off = p->off[SLOT_ADDR];
	__u16 h[2] = {};

	if (p->len[SLOT_ADDR] < 4 || off > PEND_SOFT)
		return 0;
	bpf_probe_read_kernel(h, sizeof(h), &p->data[off]);
	if (h[0] != AF_INET && h[0] != AF_INET6)
		return 0;
	return __builtin_bswap16(h[1]);
}

struct args6 {
	__u64 a[6];
};

/* Copy what the call's arguments point to, now (at entry). */
__noinline int pj_capture(struct pending *p, __s64 nr, struct args6 *args)
{
	const volatile struct sc_spec *s = &specs[nr & (SC_NR_MAX - 1)];
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 buf = 0, buflen = 0, a[6];
	__u8 i;

	if (!p || !args)
		return 0;
#pragma unroll
	for (i = 0; i < 6; i++)
		a[i] = args->a[i];
	p->used = 0;
	p->flags = 0;
#pragma unroll
	for (i = 0; i < SLOT_N; i++) {
		p->off[i] = 0;
		p->len[i] = 0;
	}
#pragma unroll
	for (i = 0; i < 6; i++)
		p->args[i] = a[i];

	if (s->path)
		put_user_str(p, SLOT_PATH, argn(a, s->path), EV_PATH_MAX);
	if (s->path2)
		put_user_str(p, SLOT_PATH2, argn(a, s->path2), EV_PATH_MAX);
	if (s->str)
		put_user_str(p, SLOT_STR, argn(a, s->str), EV_STR_MAX);
	if (s->flags & SCF_HOW) {
		/* openat2(dfd, path, struct open_how *how, size) */
		struct pj_open_how how = {};

		if (!bpf_probe_read_user(&how, sizeof(how), (const void *)a[2])) {
			p->args[3] = how.flags;
			p->args[4] = how.mode;
			p->args[5] = how.resolve;
		}
	}

	switch (s->addr_mode) {
	case SA_SOCKADDR:
		put_user_bytes(p, SLOT_ADDR, argn(a, s->addr), argn(a, s->addrlen), EV_ADDR_MAX);
		break;
	case SA_MSGHDR:
	case SA_MMSGHDR: {
		/* struct mmsghdr starts with its struct user_msghdr */
		struct pj_msghdr mh = {};
		struct pj_iovec iov = {};

		if (bpf_probe_read_user(&mh, sizeof(mh), (const void *)argn(a, s->addr)))
			break;
		put_user_bytes(p, SLOT_ADDR, (__u64)mh.msg_name, mh.msg_namelen, EV_ADDR_MAX);
		if (mh.msg_iovlen > 0 && !bpf_probe_read_user(&iov, sizeof(iov), mh.msg_iov)) {
			buf = (__u64)iov.iov_base;
			buflen = iov.iov_len;
		}
		break;
	}
	}
	if (s->flags & SCF_SENDBUF) {
		buf = a[1];
		buflen = a[2];
	}
	if ((s->flags & SCF_NET) && !p->len[SLOT_ADDR] && s->addr_mode != SA_NONE)
		put_sock_peer(p, t, (__s64)a[0]);
	if (buf && captured_port(p) == 53)
		put_user_bytes(p, SLOT_PAYLOAD, buf, buflen, EV_PAYLOAD_MAX);
	return 0;
}

static __always_inline void regs_args(struct pt_regs *kregs, __u64 *a)
{
	struct pj_regs *regs = (struct pj_regs *)kregs;

	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
}

static __always_inline bool is_compat(struct task_struct *t)
{
	if (bpf_core_field_exists(t->thread_info.status))
		return t->thread_info.status & TS_COMPAT;
	return false;
}

/* ---- programs ------------------------------------------------------------ */

SEC("tp_btf/sys_enter")
int BPF_PROG(pj_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *t;
	struct pending *p;
	struct args6 a;

	if (!in_jail())
		return 0;
	t = bpf_get_current_task_btf();
	p = bpf_task_storage_get(&pend, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		count_drop(1);
		return 0;
	}
	p->entered = 1;
	p->nr = id;
	if (id < 0 || id >= SC_NR_MAX || is_compat(t))
		return 0;
	/* pipjail's own setup is not recorded: nothing to copy */
	if (!(specs[id].flags & SCF_TRACE) || (p->pj & PJ_OWN))
		return 0;
	/* a clock read costs ~100 ns in a VM: the duration of bulk file calls
	 * is not worth it */
	p->ts_enter = specs[id].flags & SCF_BULK ? 0 : bpf_ktime_get_ns();
	regs_args(regs, a.a);
	pj_capture(p, id, &a);
	return 0;
}

static __always_inline struct rec_buf *rec_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&recs, &zero);
}

static __always_inline void rec_reset(struct ev_record *r, __u32 type)
{
	__u8 i;

	r->type = type;
	r->ts = 0;
	r->flags = 0;
	r->nr = -1;
	r->ret = 0;
	r->ts_enter = 0;
	r->dev = 0;
	r->ino = 0;
	r->i_mode = 0;
	r->data_len = 0;
	r->repeat = 0;
#pragma unroll
	for (i = 0; i < SLOT_N; i++) {
		r->off[i] = 0;
		r->len[i] = 0;
		r->sflags[i] = 0;
	}
#pragma unroll
	for (i = 0; i < 6; i++)
		r->args[i] = 0;
}

/* The per-CPU record, reset for a new record of type; NULL (counted as a
 * lost event) when there is none. */
static __always_inline struct rec_buf *rec_begin(__u32 type)
{
	struct rec_buf *rb = rec_get();

	if (!rb) {
		count_drop(CNT_RINGBUF_FULL);
		return NULL;
	}
	rec_reset((struct ev_record *)rb->raw, type);
	return rb;
}

static __always_inline void rec_emit(struct ev_record *r, bool bulk)
{
	__u32 n = r->data_len;
	__u64 flags = 0;

	if (n > REC_CAP)
		n = REC_CAP;
	if (!r->ts)  /* one clock read per record: a folded lookup has read it already */
		r->ts = bpf_ktime_get_ns();
	if (bulk)
		flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
			? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, r, sizeof(*r) + n, flags))
		count_drop(0);
}

/* Directory a relative path in slot is resolved against: dirfd or cwd. */
static __always_inline void dir_for(struct rec_buf *rb, const struct task_view *v, int slot,
				    int dslot, __u8 dirfd_arg)
{
	struct ev_record *r = (struct ev_record *)rb->raw;
	__u32 off = r->off[slot];
	__s64 dfd = AT_FDCWD;
	char c0;

	if (!r->len[slot] || off > REC_SOFT)
		return;
	c0 = r->data[off];
	if (c0 == '/')
		return;
	if (dirfd_arg)
		dfd = (int)argn(r->args, dirfd_arg);
	if (dfd == AT_FDCWD) {
		struct fs_struct *fs = CAST(struct fs_struct, v->fs);

		rb->walk_mnt = (__u64)fs->pwd.mnt;
		rb->walk_dentry = (__u64)fs->pwd.dentry;
		pj_walk(rb, dslot);
	} else {
		rb->file = fd_file(v->files, dfd);
		pj_file(rb, dslot);
	}
}

/* ---- folding identical failed lookups ------------------------------------ */

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
		__u32 idx = CNT_RINGBUF_FULL;
		__u64 *c = bpf_map_lookup_elem(&drops, &idx);

		if (c)
			*c += p->fold_count;
		p->fold_count = 0;
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->type = EV_REPEAT;
	r->nr = p->fold_nr;
	r->ts = p->fold_last;
	r->htid = (__u32)pt;
	r->hpid = pt >> 32;
	r->repeat = p->fold_count;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	p->fold_count = 0;
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
		dfd = (int)argn(p->args, dirfd_arg);
	if (dfd == AT_FDCWD) {
		struct fs_struct *fs = CAST(struct task_struct, t)->fs;

		*mnt = (__u64)fs->pwd.mnt;
		*dentry = (__u64)fs->pwd.dentry;
	} else {
		__u64 fp = fd_file((__u64)CAST(struct task_struct, t)->files, dfd);
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
 * previous identical one (docs/trace-format.md, "repeat").  Global: the
 * verifier checks it once instead of once per path through pj_sys_exit,
 * which is most of the load time.  may_fold 0: the call cannot fold (a
 * refusal, a 32-bit call): send the count of what was folded and start
 * over. */
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
	if (!may_fold || ret != -2 /* ENOENT */ || !(s->flags & SCF_BULK) || s->path2 || !len ||
	    len > FOLD_PATH_MAX || off > PEND_SOFT || (p->flags & EVF_TRUNC)) {
		fold_flush(p);
		p->fold_len = 0;
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
		count_drop(CNT_FOLDED);
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

/* Kill the current process (all its threads) now: it dies on its way back
 * to user space, before its next instruction. */
static __always_inline void kill_current(struct ev_record *r)
{
	if (!enforce)
		return;
	if (bpf_send_signal(9 /* SIGKILL */) == 0) {
		r->flags |= EVF_KILLED;
		count_drop(CNT_KILLS);
	}
}

/* An open returned an fd on a file only pip may read (pip.conf with index
 * credentials, .netrc, .pypirc, keyrings), in a task that is not pip. */
static __always_inline void rule_pip_only(struct ev_record *r, struct pending *p)
{
	struct pj_inode k;

	if (!n_pip_only || !(r->flags & EVF_FILE_VALID))
		return;
	k.dev = r->dev;
	k.ino = r->ino;
	if (!bpf_map_lookup_elem(&pip_only, &k) || is_trusted(p, r->hpid))
		return;
	r->flags |= EVF_PIP_ONLY;
	kill_current(r);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(pj_sys_exit, struct pt_regs *regs, long ret)
{
	const volatile struct sc_spec *s;
	struct task_view v;
	struct task_struct *t;
	struct ev_record *r;
	struct rec_buf *rb;
	struct pending *p;
	__u32 flags, used;
	bool entered;
	long id;
	__u8 i;

	if (!in_jail())
		return 0;
	t = bpf_get_current_task_btf();
	v.fs = (__u64)CAST(struct task_struct, t)->fs;
	v.files = (__u64)CAST(struct task_struct, t)->files;
	v.compat = is_compat(t);
	id = ((struct pj_regs *)regs)->orig_ax;
	p = bpf_task_storage_get(&pend, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		count_drop(1);
		return 0;
	}
	entered = p->entered && p->nr == id;
	p->entered = 0;
	s = &specs[id & (SC_NR_MAX - 1)];
	if (entered) {
		if (id < 0 || id >= SC_NR_MAX || !(s->flags & SCF_TRACE))
			return 0;
		if ((s->flags & SCF_EXEC) && ret == 0)
			return 0;  /* sched_process_exec reports it */
		flags = EVF_ENTERED;
	} else {
		/* A clone child's first return, or a call entered before the task
		 * joined the cgroup, returns >= 0; a seccomp refusal returns an error. */
		if (ret >= 0)
			return 0;
		flags = EVF_REFUSED;
	}
	if (p->pj & PJ_OWN) {
		/* pipjail's own setup (mounts, setid, prctl, landlock, seccomp):
		 * counted, not recorded */
		count_drop(CNT_SUPPRESSED);
		return 0;
	}
	switch (pj_fold(p, id, ret, (flags & EVF_ENTERED) && !v.compat)) {
	case FOLD_FOLDED:
		return 0;
	case FOLD_BASE:
		flags |= EVF_FOLD_BASE;
		break;
	}
	if (flags & EVF_REFUSED) {
		if (id >= 0 && id < SC_NR_MAX && !v.compat) {
			struct args6 a;

			regs_args(regs, a.a);
			pj_capture(p, id, &a);  /* the call never ran: the strings are as refused */
		} else {
			p->used = 0;
			p->flags = 0;
#pragma unroll
			for (i = 0; i < SLOT_N; i++)
				p->len[i] = 0;
			regs_args(regs, p->args);
		}
		p->ts_enter = 0;
	}
	if (v.compat)
		flags |= EVF_COMPAT;

	rb = rec_get();
	if (!rb) {
		count_drop(0);
		return 0;
	}
	r = (struct ev_record *)rb->raw;
	rec_reset(r, EV_SYSCALL);
	r->flags = p->flags | flags;
	r->nr = id;
	r->ret = ret;
	r->ts_enter = p->ts_enter;
	if (flags & EVF_FOLD_BASE)
		r->ts = p->fold_first;
#pragma unroll
	for (i = 0; i < 6; i++)
		r->args[i] = p->args[i];
#pragma unroll
	for (i = 0; i < SLOT_DIR; i++) {
		r->off[i] = p->off[i];
		r->len[i] = p->len[i];
	}
	used = p->used;
	if (used > PEND_CAP)
		used = PEND_CAP;
	if (used)
		bpf_probe_read_kernel(r->data, used, p->data);
	r->data_len = used;
	ident_current(rb, t, p);

	if (id >= 0 && id < SC_NR_MAX && !(flags & EVF_COMPAT)) {
		dir_for(rb, &v, SLOT_PATH, SLOT_DIR, s->dirfd);
		dir_for(rb, &v, SLOT_PATH2, SLOT_DIR2, s->dirfd2);
		rb->file = 0;
		if ((s->flags & SCF_OPEN) && ret >= 0 && !(flags & EVF_REFUSED))
			rb->file = fd_file(v.files, ret);
		else if (s->fd)
			rb->file = fd_file(v.files, (int)argn(r->args, s->fd));
		pj_file(rb, SLOT_FILE);
		if ((s->flags & SCF_OPEN) && ret >= 0 && !(flags & EVF_REFUSED))
			rule_pip_only(r, p);
	}
	/* a refused call or a rule hit is rare and matters: wake the reader */
	rec_emit(r, (s->flags & SCF_BULK) && !(r->flags & (EVF_REFUSED | EVF_PIP_ONLY)));
	return 0;
}

/* The child's marks, from its parent's (pp, NULL when the parent is
 * outside the jail: the child is the jail's init). */
static __always_inline __u32 child_marks(struct pending *pp, bool parent_in, __u32 ptgid, bool thread)
{
	__u32 ppj = pp ? pp->pj : 0, trust;

	if (!parent_in)
		return PJ_OWN | PJ_INIT | PJ_SHOWN;
	trust = is_trusted(pp, ptgid) ? PJ_TRUSTED : 0;
	if (thread)  /* same process: same marks, but its fork is not shown */
		return (ppj & ~(PJ_SHOWN | PJ_TRUSTED)) | trust;
	return (ppj & PJ_OWN) | trust | (ppj & PJ_INIT ? PJ_INITCHILD : 0) |
	       (ppj & PJ_OWN ? PJ_SHOWN : 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pj_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pending *pp = NULL, *cp;
	struct ev_record *r;
	struct rec_buf *rb;
	struct nsref n;
	__u32 ptgid, cpj;
	bool parent_in, thread;

	/* The child's cgroup: catches the jail's init cloned into it from outside. */
	if (BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id) != target_cgid)
		return 0;
	parent_in = BPF_CORE_READ(parent, cgroups, dfl_cgrp, kn, id) == target_cgid;
	ptgid = BPF_CORE_READ(parent, tgid);
	thread = BPF_CORE_READ(child, tgid) == ptgid;
	if (parent_in)
		pp = bpf_task_storage_get(&pend, parent, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (pp) {
		fold_flush(pp);  /* the fork runs in the parent */
		pp->fold_len = 0;
	}
	cpj = child_marks(pp, parent_in, ptgid, thread);
	/* The child's marks must exist before its first instruction. */
	cp = bpf_task_storage_get(&pend, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (cp)
		cp->pj = cpj;
	else if (cpj)
		count_drop(CNT_NO_STORAGE);  /* its setup would show, its trust is lost */
	/* An own task's threads are its own business; its new processes are
	 * shown, so that the tree stays connected to the command. */
	if (pp && (pp->pj & PJ_OWN) && thread) {
		count_drop(CNT_SUPPRESSED);
		return 0;
	}
	rb = rec_begin(EV_FORK);
	if (!rb)
		return 0;
	r = (struct ev_record *)rb->raw;
	ident_common(r);
	task_ns(child, &n);
	ident_in(r, parent, &n);
	r->args[0] = BPF_CORE_READ(child, pid);
	r->args[1] = BPF_CORE_READ(child, tgid);
	r->args[2] = pid_nr_in(BPF_CORE_READ(child, thread_pid), n.level, n.ns);
	r->args[3] = pid_nr_in(BPF_CORE_READ(child, group_leader, thread_pid), n.level, n.ns);
	if (thread)
		r->flags |= EVF_THREAD;
	rec_emit(r, false);
	return 0;
}

/* ---- does an argv look like pip? ----------------------------------------- */

/* Where the first three arguments end (their NUL) and their last '/'. */
struct argv_scan {
	__u32 off, len;      /* of the argv bytes in the record's data */
	__u32 n;             /* arguments seen */
	__u32 end[3];        /* index of the NUL of argument k (relative to off) */
	__u32 start[3];      /* index of argument k's first byte */
	__u32 base[3];       /* index of the byte after its last '/' (its basename) */
};

#define ARGV_SCAN 1024      /* bytes of argv looked at: argv[0..2] must fit */
#define DATA_MASK 8191      /* argv lies within data[0, EV_PATH_MAX + EV_ARGV_MAX) */

static __always_inline __u8 rec_byte(__u32 i)
{
	struct rec_buf *rb;
	__u32 zero = 0;

	rb = bpf_map_lookup_elem(&recs, &zero);
	if (!rb)
		return 0;
	return ((struct ev_record *)rb->raw)->data[i & DATA_MASK];
}

static long argv_step(__u32 i, void *arg)
{
	struct argv_scan *c = arg;
	__u8 ch;

	if (i >= c->len || c->n >= 3)
		return 1;
	ch = rec_byte(c->off + i);
	if (ch == '/') {
		if (c->n == 0) c->base[0] = i + 1;
		else if (c->n == 1) c->base[1] = i + 1;
		else c->base[2] = i + 1;
	} else if (ch == 0) {
		if (c->n == 0) {
			c->end[0] = i;
			c->start[1] = c->base[1] = i + 1;
		} else if (c->n == 1) {
			c->end[1] = i;
			c->start[2] = c->base[2] = i + 1;
		} else {
			c->end[2] = i;
		}
		c->n++;
	}
	return 0;
}

/* "pip", "pip3", "pip3.11": pip followed by digits and dots only.
 * Global: checked once, not once per call site. */
__noinline int pj_name_is_pip(__u32 off, __u32 b, __u32 e)
{
	__u32 k;

	if (e < b + 3 || rec_byte(off + b) != 'p' || rec_byte(off + b + 1) != 'i' ||
	    rec_byte(off + b + 2) != 'p')
		return false;
	if (e > b + 3 + 8)
		return false;
	for (k = 0; k < 8; k++) {
		__u8 ch;

		if (b + 3 + k >= e)
			break;
		ch = rec_byte(off + b + 3 + k);
		if (ch != '.' && (ch < '0' || ch > '9'))
			return false;
	}
	return true;
}

/* Does argument k (start s, end e) equal / end with lit (n bytes)? */
static __always_inline bool arg_ends_with(__u32 off, __u32 s, __u32 e, const char *lit, __u32 n,
					  bool whole)
{
	__u32 k;

	if (e < s + n || (whole && e != s + n))
		return false;
	for (k = 0; k < n; k++)
		if (rec_byte(off + e - n + k) != (__u8)lit[k])
			return false;
	return true;
}

/* The argv checks that keep a trusted process trusted across an exec
 * (docs/trace-format.md, "Kernel rules"): pip's console script (argv[0]
 * or, after a #! line, argv[1] named pip, pip3, pip3.11), `python -m pip`,
 * and pip's own runner for build dependencies (argv[1] ends with
 * __pip-runner__.py). */
__noinline int pj_argv_is_pip(__u32 off, __u32 len)
{
	struct argv_scan c = {};

	c.off = off;
	c.len = len;
	if (!c.len)
		return false;
	if (c.len > ARGV_SCAN)
		c.len = ARGV_SCAN;
	bpf_loop(ARGV_SCAN, argv_step, &c, 0);
	if (c.n < 1)
		return false;
	if (pj_name_is_pip(c.off, c.base[0], c.end[0]))
		return true;
	if (c.n < 2)
		return false;
	if (pj_name_is_pip(c.off, c.base[1], c.end[1]))
		return true;
	if (arg_ends_with(c.off, c.start[1], c.end[1], "__pip-runner__.py", 17, false))
		return true;
	return c.n >= 3 && arg_ends_with(c.off, c.start[1], c.end[1], "-m", 2, true) &&
	       arg_ends_with(c.off, c.start[2], c.end[2], "pip", 3, true);
}

/* The role after an exec: the command's first exec is trusted; a trusted
 * task stays trusted only when it starts pip again; anything else (a build
 * hook, a compiler, curl) is not.  An untrusted task never becomes trusted
 * here (only user space can say so). */
static __always_inline bool exec_trusted(struct ev_record *r, struct pending *p)
{
	bool trusted;

	if (p && (p->pj & PJ_INITCHILD) && !cmd_started) {
		cmd_started = 1;
		trusted = true;
	} else if (is_trusted(p, r->hpid)) {
		trusted = pj_argv_is_pip(r->off[SLOT_STR], r->len[SLOT_STR]);
	} else {
		trusted = false;
	}
	/* user space's word was about the program that ran before */
	bpf_map_delete_elem(&trust_set, &r->hpid);
	return trusted;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pj_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ev_record *r;
	struct rec_buf *rb;
	struct mm_struct *mm;
	struct pending *p;
	__u64 start, end, n;
	__u32 off;
	bool trusted;
	long k;

	if (!in_jail())
		return 0;
	p = bpf_task_storage_get(&pend, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (p) {
		fold_flush(p);
		p->fold_len = 0;
	}
	rb = rec_begin(EV_EXEC);
	if (!rb)
		return 0;
	r = (struct ev_record *)rb->raw;
	ident_current(rb, t, p);
	r->args[0] = old_pid;

	k = bpf_probe_read_kernel_str(r->data, EV_PATH_MAX, BPF_CORE_READ(bprm, filename));
	off = 0;
	if (k > 0) {
		r->len[SLOT_PATH] = k;
		off = k;
	}
	mm = BPF_CORE_READ(t, mm);
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	n = end > start ? end - start : 0;
	if (n > EV_ARGV_MAX) {
		n = EV_ARGV_MAX;
		r->flags |= EVF_ARGV_TRUNC;
	}
	if (n && off <= EV_PATH_MAX && !bpf_probe_read_user(&r->data[off], n, (const void *)start)) {
		r->off[SLOT_STR] = off;
		r->len[SLOT_STR] = n;
		off += n;
	}
	r->data_len = off;
	rb->walk_mnt = (__u64)BPF_CORE_READ(t, fs, pwd.mnt);
	rb->walk_dentry = (__u64)BPF_CORE_READ(t, fs, pwd.dentry);
	pj_walk(rb, SLOT_DIR);
	rb->file = (__u64)BPF_CORE_READ(mm, exe_file);
	pj_file(rb, SLOT_FILE);

	/* The exec ends pipjail's own part (this is the command starting) and
	 * decides the role of the program now running. */
	trusted = exec_trusted(r, p);
	if (p)
		p->pj = (p->pj & ~(PJ_OWN | PJ_TRUSTED | PJ_INITCHILD)) | (trusted ? PJ_TRUSTED : 0);
	else
		count_drop(CNT_NO_STORAGE);
	if (trusted) {
		r->flags |= EVF_TRUSTED;
	} else if (n_denied_exec && (r->flags & EVF_FILE_VALID)) {
		struct pj_inode key = { .dev = r->dev, .ino = r->ino };

		if (bpf_map_lookup_elem(&denied_exec, &key)) {
			r->flags |= EVF_DENIED_EXEC;
			kill_current(r);
		}
	}
	rec_emit(r, false);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pj_exit, struct task_struct *t)
{
	struct ev_record *r;
	struct rec_buf *rb;
	struct pending *p;

	if (!in_jail())
		return 0;
	p = bpf_task_storage_get(&pend, t, 0, 0);
	if (p)
		fold_flush(p);
	/* An own task whose fork was not shown (a thread of the init) */
	if (p && (p->pj & PJ_OWN) && !(p->pj & PJ_SHOWN)) {
		count_drop(CNT_SUPPRESSED);
		return 0;
	}
	rb = rec_begin(EV_EXIT);
	if (!rb)
		return 0;
	r = (struct ev_record *)rb->raw;
	ident_current(rb, t, p);
	r->ret = BPF_CORE_READ(t, exit_code);
	if (BPF_CORE_READ(t, signal, live.counter) > 0)
		r->flags |= EVF_THREAD;
	rec_emit(r, false);
	return 0;
}
