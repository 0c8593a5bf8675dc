/* pj_sys_exit (tp_btf/sys_exit): one record per traced call, with its
 * result.  A call that never reached sys_enter and returns an error was
 * refused by seccomp (a refused call never reaches sys_enter): it is
 * recorded too, whatever its number.  For traced calls the kernel resolves
 * the directories relative paths are relative to and the file behind the
 * returned fd, and decides the pip_only rule.  Identical failed lookups
 * fold into one record (helpers/fold.bpf.h). */
#pragma once

#include "arch/arch.bpf.h"
#include "helpers/capture.bpf.h"
#include "helpers/fold.bpf.h"
#include "helpers/path.bpf.h"
#include "helpers/rules.bpf.h"

/* Is the exit of call id (result ret) to be recorded: a traced call that
 * ran (*flags EVF_ENTERED), or a call seccomp refused (EVF_REFUSED)? */
static __always_inline bool sys_exit_wanted(struct pending *p, const volatile struct sc_spec *s,
					    long id, long ret, __u32 *flags)
{
	bool entered = p->entered && p->nr == id;

	p->entered = 0;
	if (entered) {
		if (id < 0 || id >= SC_NR_MAX || !(s->flags & SCF_TRACE))
			return false;
		if ((s->flags & SCF_EXEC) && ret == 0)
			return false;  /* sched_process_exec reports it */
		*flags = EVF_ENTERED;
		return true;
	}
	/* A clone child's first return, or a call entered before the task
	 * joined the cgroup, returns >= 0; a seccomp refusal returns an error. */
	*flags = EVF_REFUSED;
	return ret < 0;
}

/* A refused call never ran: its strings are copied now, as refused; of a
 * 32-bit or unknown call only the raw registers are kept. */
static __always_inline void sys_exit_capture_refused(struct pending *p, struct pt_regs *regs,
						     long id, bool compat)
{
	if (id >= 0 && id < SC_NR_MAX && !compat) {
		struct capture_args a;

		arch_syscall_args(regs, a.a);
		pj_capture(p, id, &a);
	} else {
		capture_reset(p);
		arch_syscall_args(regs, p->args);
	}
	p->ts_enter = 0;
}

/* The record of the call, from what was copied at its entry (p). */
static __always_inline void sys_exit_fill(struct ev_record *r, struct pending *p, long id, long ret,
					  __u32 flags)
{
	__u32 used;
	__u8 i;

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
	__u32 flags;
	long id;

	if (!task_in_jail())
		return 0;
	t = bpf_get_current_task_btf();
	v.fs = task_fs(t);
	v.files = task_files(t);
	v.compat = arch_is_compat(t);
	id = arch_syscall_nr(regs);
	p = bpf_task_storage_get(&pend, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		counter_inc(CNT_NO_STORAGE);
		return 0;
	}
	/* A poisoned jail (rule_env_write) ends: every task but the init dies
	 * on the return of its next system call. */
	if (poisoned && enforce && !(p->pj & PJ_INIT))
		bpf_send_signal(SIGKILL);
	s = &specs[id & (SC_NR_MAX - 1)];
	if (!sys_exit_wanted(p, s, id, ret, &flags))
		return 0;
	if (p->pj & PJ_OWN) {
		/* pipjail's own setup (mounts, setid, prctl, landlock, seccomp):
		 * counted, not recorded */
		counter_inc(CNT_SUPPRESSED);
		return 0;
	}
	switch (pj_fold(p, id, ret, (flags & EVF_ENTERED) && !v.compat)) {
	case FOLD_FOLDED:
		return 0;
	case FOLD_BASE:
		flags |= EVF_FOLD_BASE;
		break;
	}
	if (flags & EVF_REFUSED)
		sys_exit_capture_refused(p, regs, id, v.compat);
	if (v.compat)
		flags |= EVF_COMPAT;
	rb = rec_begin(EV_SYSCALL);
	if (!rb)
		return 0;
	r = rec_of(rb);
	sys_exit_fill(r, p, id, ret, flags);
	if (trust_of(p))
		r->flags |= EVF_TRUSTED;
	task_ident_current(rb, t, p);
	/* the paths the kernel resolves: the directories of relative paths,
	 * the file behind the returned fd or the fd argument; then the
	 * pip_only rule on a successful open, the environment guard on any
	 * successful change */
	if (id >= 0 && id < SC_NR_MAX && !(flags & EVF_COMPAT)) {
		rb->dir_dev[0] = rb->dir_dev[1] = 0;
		walk_dir_of(rb, &v, SLOT_PATH, SLOT_DIR, s->dirfd);
		walk_dir_of(rb, &v, SLOT_PATH2, SLOT_DIR2, s->dirfd2);
		rb->file = 0;
		if ((s->flags & SCF_OPEN) && ret >= 0 && !(flags & EVF_REFUSED))
			rb->file = task_fd_file(v.files, ret);
		else if (s->fd)
			rb->file = task_fd_file(v.files, (int)sc_arg(r->args, s->fd));
		pj_walk_file(rb, SLOT_FILE);
		if (ret >= 0 && !(flags & EVF_REFUSED)) {
			if (s->flags & SCF_OPEN)
				rule_pip_only(r, p);
			rule_env_write(rb, r, p, s);
		}
	}
	/* a refused call or a rule hit is rare and matters: wake the reader */
	rec_emit(r, (s->flags & SCF_BULK) &&
		    !(r->flags & (EVF_REFUSED | EVF_PIP_ONLY | EVF_ENV_WRITE)));
	return 0;
}
