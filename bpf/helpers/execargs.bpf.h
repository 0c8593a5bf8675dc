/* The whole argument and environment area of a new program, copied at
 * sched_process_exec: the kernel has just built it on the new stack
 * ([mm->arg_start, mm->env_end): argv strings, then environment strings,
 * each NUL-terminated) and none of the program's own code has run, so what
 * is copied is what the caller passed, whatever the program later does to
 * its memory.  The exec record itself carries the first EV_ARGV_MAX bytes
 * of argv (the is-pip check reads them); the rest of the area follows in
 * EV_ARGS records of at most ARGS_CHUNK bytes, sent before the exec record
 * (user space joins them by thread, in order: docs/trace-format.md).
 *
 * Cost: one bpf_probe_read_user and one ring-buffer copy per 16 KiB; a
 * usual exec (a few KiB of environment) adds one record. */
#pragma once

#include "helpers/records.bpf.h"

#define ARGS_CHUNK      16384
#define ARGS_CHUNKS_MAX 512    /* 8 MiB: more than an exec can pass (6 MiB, fs/exec.c) */

struct args_ctx {
	__u64 start;    /* user address of the area (mm->arg_start) */
	__u64 head;     /* bytes the exec record carries */
	__u64 total;    /* bytes of the area */
	__u32 argvlen;  /* of them, argv */
	__u32 hpid, htid;
	__u32 sent;     /* records sent */
	__u32 failed;   /* a copy or a record failed: the exec record says so */
};

static long args_step(__u32 i, void *arg)
{
	struct args_ctx *c = arg;
	__u64 off = c->head + (__u64)i * ARGS_CHUNK, n;
	struct ev_record *r;
	struct rec_buf *rb;

	if (off >= c->total)
		return 1;
	n = c->total - off;
	if (n > ARGS_CHUNK)
		n = ARGS_CHUNK;
	rb = rec_begin(EV_ARGS);
	if (!rb) {
		c->failed = 1;
		return 1;
	}
	r = rec_of(rb);
	r->hpid = c->hpid;
	r->htid = c->htid;
	r->args[0] = off;
	r->args[1] = c->total;
	r->args[2] = c->argvlen;
	if (bpf_probe_read_user(r->data, n, (const void *)(c->start + off))) {
		c->failed = 1;
		return 1;
	}
	r->data_len = n;
	/* bulk: the exec record that follows wakes the reader */
	rec_emit(r, true);
	c->sent++;
	return 0;
}

/* Send the area past the exec record's share of argv; fill the exec
 * record's fields (args[1..3], EVF_ARGS_MORE, EVF_ARGS_LOST) after it is
 * begun: exec_args_mark(). */
static __always_inline void exec_args_send(struct args_ctx *c, struct mm_struct *mm)
{
	__u64 arg_start = BPF_CORE_READ(mm, arg_start), arg_end = BPF_CORE_READ(mm, arg_end);
	__u64 env_start = BPF_CORE_READ(mm, env_start), env_end = BPF_CORE_READ(mm, env_end);
	__u64 pt = bpf_get_current_pid_tgid();

	c->start = arg_start;
	c->argvlen = arg_end > arg_start ? arg_end - arg_start : 0;
	c->total = c->argvlen;
	/* the kernel lays the environment right after argv; if it ever did
	 * not, only argv is sent and the environment is "not known" */
	if (env_start == arg_end && env_end > env_start)
		c->total += env_end - env_start;
	else
		c->failed = 1;
	c->head = c->argvlen < EV_ARGV_MAX ? c->argvlen : EV_ARGV_MAX;
	c->hpid = pt >> 32;
	c->htid = (__u32)pt;
	if (c->total > c->head)
		bpf_loop(ARGS_CHUNKS_MAX, args_step, c, 0);
	if (c->head + (__u64)c->sent * ARGS_CHUNK < c->total)
		c->failed = 1;
}

static __always_inline void exec_args_mark(struct ev_record *r, const struct args_ctx *c)
{
	r->args[1] = c->total;
	r->args[2] = c->argvlen;
	r->args[3] = c->sent;
	if (c->total > c->head)
		r->flags |= EVF_ARGS_MORE;
	if (c->failed)
		r->flags |= EVF_ARGS_LOST;
}
