/* x86-64: the syscall ABI's registers (struct pt_regs, read without CO-RE:
 * its layout is the kernel's entry ABI) and the compat flag of a 32-bit
 * call (int 0x80, or sysenter from a 32-bit process). */
#pragma once

#include "helpers/common.bpf.h"

#define TS_COMPAT  0x0002

struct pj_regs {         /* x86-64 struct pt_regs */
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax;
};

static __always_inline void arch_syscall_args(struct pt_regs *kregs, __u64 *a)
{
	struct pj_regs *regs = (struct pj_regs *)kregs;

	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
}

/* sys_exit gets no id: the number the call was entered with. */
static __always_inline long arch_syscall_nr(struct pt_regs *kregs)
{
	return ((struct pj_regs *)kregs)->orig_ax;
}

static __always_inline bool arch_is_compat(struct task_struct *t)
{
	if (bpf_core_field_exists(t->thread_info.status))
		return t->thread_info.status & TS_COMPAT;
	return false;
}
