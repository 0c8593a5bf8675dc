/* pj_sys_enter (tp_btf/sys_enter): mark the call in progress (task ->
 * nr, in task storage) so that sys_exit can tell a call that ran from one
 * seccomp refused, and for traced calls copy the user strings and
 * addresses now: they may change before the call returns. */
#pragma once

#include "arch/arch.bpf.h"
#include "helpers/capture.bpf.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(pj_sys_enter, struct pt_regs *regs, long id)
{
	struct capture_args a;
	struct task_struct *t;
	struct pending *p;

	if (!task_in_jail())
		return 0;
	t = bpf_get_current_task_btf();
	p = bpf_task_storage_get(&pend, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		counter_inc(CNT_NO_STORAGE);
		return 0;
	}
	p->entered = 1;
	p->nr = id;
	if (id < 0 || id >= SC_NR_MAX || arch_is_compat(t))
		return 0;
	/* pipjail's own setup is not recorded: nothing to copy */
	if (!(specs[id].flags & SCF_TRACE) || (p->pj & PJ_OWN))
		return 0;
	/* a clock read costs ~100 ns in a VM: the duration of bulk file calls
	 * is not worth it */
	p->ts_enter = specs[id].flags & SCF_BULK ? 0 : bpf_ktime_get_ns();
	arch_syscall_args(regs, a.a);
	pj_capture(p, id, &a);
	return 0;
}
