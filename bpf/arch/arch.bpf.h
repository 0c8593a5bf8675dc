/* The architecture-specific part of the monitor: where a syscall's number
 * and arguments are in the registers the raw sys_enter/sys_exit
 * tracepoints pass, and how to tell a 32-bit (compat) call.  Each
 * architecture gives, in bpf/arch/<arch>/syscall.bpf.h:
 *
 *   arch_syscall_args(struct pt_regs *regs, __u64 a[6])  the six arguments
 *   arch_syscall_nr(struct pt_regs *regs)                the syscall number
 *   arch_is_compat(struct task_struct *t)                a 32-bit call
 *
 * Only x86-64 is done; see README.md here for what a port needs. */
#pragma once

#if defined(__TARGET_ARCH_x86)
#include "arch/x86/syscall.bpf.h"
#else
#error "pipjail: only x86-64 is supported; see bpf/arch/"
#endif
