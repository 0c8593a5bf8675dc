/* pj_exit (tp_btf/sched_process_exit): the exit record (wait status, and
 * whether other tasks of the process live on), after the task's folded
 * count. */
#pragma once

#include "helpers/fold.bpf.h"
#include "helpers/trust.bpf.h"

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pj_exit, struct task_struct *t)
{
	struct ev_record *r;
	struct rec_buf *rb;
	struct pending *p;

	if (!task_in_jail())
		return 0;
	p = bpf_task_storage_get(&pend, t, 0, 0);
	fold_flush(p);
	/* An own task whose fork was not shown (a thread of the init) */
	rb = rec_begin_shown(EV_EXIT, p && (p->pj & PJ_OWN) && !(p->pj & PJ_SHOWN));
	if (!rb)
		return 0;
	r = rec_of(rb);
	task_ident_current(rb, t, p);
	if (trust_of(p))
		r->flags |= EVF_TRUSTED;
	r->ret = BPF_CORE_READ(t, exit_code);
	if (BPF_CORE_READ(t, signal, live.counter) > 0)
		r->flags |= EVF_THREAD;
	rec_emit(r, false);
	return 0;
}
