/* pj_fork (tp_btf/sched_process_fork): the child's marks (PJ_*, its trust)
 * from its parent's, before the child's first instruction, and the fork
 * record.  It runs in the parent, so the parent's folded count goes out
 * first.  The child's cgroup decides: that catches the jail's init, cloned
 * into the cgroup from outside. */
#pragma once

#include "helpers/fold.bpf.h"
#include "helpers/trust.bpf.h"

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pj_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pending *pp = NULL, *cp;
	struct task_nsref n;
	struct ev_record *r;
	struct rec_buf *rb;
	__u32 ptgid, cpj;
	bool parent_in, thread;

	if (BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id) != target_cgid)
		return 0;
	parent_in = BPF_CORE_READ(parent, cgroups, dfl_cgrp, kn, id) == target_cgid;
	ptgid = BPF_CORE_READ(parent, tgid);
	thread = BPF_CORE_READ(child, tgid) == ptgid;
	if (parent_in)
		pp = bpf_task_storage_get(&pend, parent, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	fold_end(pp);
	cpj = trust_child_marks(pp, parent_in, thread);
	/* The child's marks must exist before its first instruction. */
	cp = bpf_task_storage_get(&pend, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (cp)
		cp->pj = cpj;
	else if (cpj)
		counter_inc(CNT_NO_STORAGE);  /* its setup would show, its trust is lost */
	/* An own task's threads are its own business; its new processes are
	 * shown, so that the tree stays connected to the command. */
	rb = rec_begin_shown(EV_FORK, pp && (pp->pj & PJ_OWN) && thread);
	if (!rb)
		return 0;
	r = rec_of(rb);
	task_ident_common(r);
	task_ns(child, &n);
	task_ident_in(r, parent, &n);
	r->args[0] = BPF_CORE_READ(child, pid);
	r->args[1] = BPF_CORE_READ(child, tgid);
	r->args[2] = task_pid_nr_in(BPF_CORE_READ(child, thread_pid), n.level, n.ns);
	r->args[3] = task_pid_nr_in(BPF_CORE_READ(child, group_leader, thread_pid), n.level, n.ns);
	if (thread)
		r->flags |= EVF_THREAD;
	if (cpj & PJ_TRUSTED)
		r->flags |= EVF_TRUSTED;   /* the child is trusted: it inherited its parent's trust */
	rec_emit(r, false);
	return 0;
}
