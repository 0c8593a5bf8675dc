/* pj_exec (tp_btf/sched_process_exec): the exec record (filename as
 * passed, argv, cwd, the exe file and its inode; the rest of argv and the
 * environment before it, helpers/execargs.bpf.h), the end of pipjail's own
 * part for the task (this is the command starting), the role of the
 * program now running (trust), and the denied_exec rule. */
#pragma once

#include "helpers/execargs.bpf.h"
#include "helpers/fold.bpf.h"
#include "helpers/path.bpf.h"
#include "helpers/rules.bpf.h"

/* The filename as passed (SLOT_PATH) and the argv bytes (SLOT_STR) into
 * the record's data. */
static __always_inline void exec_names(struct ev_record *r, struct linux_binprm *bprm,
				       struct mm_struct *mm)
{
	__u64 start, end, n;
	__u32 off = 0;
	long k;

	k = bpf_probe_read_kernel_str(r->data, EV_PATH_MAX, BPF_CORE_READ(bprm, filename));
	if (k > 0) {
		r->len[SLOT_PATH] = k;
		off = k;
	}
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
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pj_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	struct args_ctx ac = {};
	struct mm_struct *mm;
	struct ev_record *r;
	struct rec_buf *rb;
	struct pending *p;
	bool trusted;

	if (!task_in_jail())
		return 0;
	p = bpf_task_storage_get(&pend, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	fold_end(p);
	mm = BPF_CORE_READ(t, mm);
	exec_args_send(&ac, mm);
	rb = rec_begin(EV_EXEC);
	if (!rb)
		return 0;
	r = rec_of(rb);
	task_ident_current(rb, t, p);
	r->args[0] = old_pid;
	exec_args_mark(r, &ac);
	/* binfmt_script and binfmt_misc point interp at the interpreter they
	 * run; it stays the filename for a program run as itself */
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		r->flags |= EVF_SCRIPT;
	exec_names(r, bprm, mm);
	rb->walk_mnt = (__u64)BPF_CORE_READ(t, fs, pwd.mnt);
	rb->walk_dentry = (__u64)BPF_CORE_READ(t, fs, pwd.dentry);
	pj_walk(rb, SLOT_DIR);
	rb->file = (__u64)BPF_CORE_READ(mm, exe_file);
	pj_walk_file(rb, SLOT_FILE);

	trusted = trust_after_exec(r, p);
	if (p)
		p->pj = (p->pj & ~(PJ_OWN | PJ_TRUSTED | PJ_INITCHILD)) | (trusted ? PJ_TRUSTED : 0);
	else
		counter_inc(CNT_NO_STORAGE);
	if (trusted)
		r->flags |= EVF_TRUSTED;
	else
		rule_denied_exec(r);
	rec_emit(r, false);
	return 0;
}
