/* Trust (role pip), the one thing the kernel rules and the proxy depend on,
 * decided by the kernel alone: kept per task in its marks (pending.pj,
 * PJ_TRUSTED), inherited at fork (synchronously, in sched_process_fork: no
 * lost ring-buffer record can change it), and decided again at every exec:
 *   - the jailed command's first exec is trusted (the user's own command);
 *   - a trusted task stays trusted only when it execs pip itself: the file
 *     run (the interpreter, after a #! line) is one of the environment's
 *     interpreters and argv[1] is one of pip's entry points, or argv[1..2]
 *     are "-m pip"; or it execs one of pip's helper programs (git);
 *   - an untrusted task is never trusted again (ancestry: nothing started
 *     by a build, a tool or an unknown parent is pip);
 *   - once the jail is poisoned (an untrusted change to the environment),
 *     nothing is trusted.
 * Why these facts cannot be forged by package code: the anchors are
 * registered by dev:inode and absolute path before the command runs, from
 * the environment as it was at start; package code runs only in untrusted
 * tasks, which cannot change the environment (the Landlock layer of
 * src/jail/preload.c, and rule_env_write behind it), and cannot make a
 * trusted task exec something else (it cannot write the entry points,
 * and argv[1] must name one of them exactly). */
#pragma once

#include "helpers/argv.bpf.h"

static __always_inline bool trust_of(const struct pending *p)
{
	return !poisoned && p && (p->pj & PJ_TRUSTED);
}

/* The child's marks, from its parent's (pp, NULL when the parent is
 * outside the jail: the child is the jail's init). */
static __always_inline __u32 trust_child_marks(struct pending *pp, bool parent_in, bool thread)
{
	__u32 ppj = pp ? pp->pj : 0, trust;

	if (!parent_in)
		return PJ_OWN | PJ_INIT | PJ_SHOWN;
	trust = trust_of(pp) ? PJ_TRUSTED : 0;
	if (thread)  /* same process: same marks, but its fork is not shown */
		return (ppj & ~(PJ_SHOWN | PJ_TRUSTED)) | trust;
	return (ppj & PJ_OWN) | trust | (ppj & PJ_INIT ? PJ_INITCHILD : 0) |
	       (ppj & PJ_OWN ? PJ_SHOWN : 0);
}

/* Is the exec in the per-CPU record pip's own (see above)?  The record's
 * SLOT_FILE is the file run (its dev:inode valid), the argv is len bytes
 * at off.  Global: verified once. */
__noinline int pj_exec_is_pip(__u32 off, __u32 len)
{
	struct argv_scan c = {};
	struct ev_record *r;
	struct rec_buf *rb;
	struct pj_inode exe;
	struct pj_entry *key;
	__u32 zero = 0;
	__u64 n;

	rb = rec_get();
	if (!rb)
		return false;
	r = rec_of(rb);
	if (!(r->flags & EVF_FILE_VALID))
		return false;
	exe.dev = r->dev;
	exe.ino = r->ino;
	if (n_pip_tool && bpf_map_lookup_elem(&pip_tool, &exe))
		return true;
	if (!n_pip_interp || !bpf_map_lookup_elem(&pip_interp, &exe))
		return false;
	c.off = off;
	c.len = len > ARGV_SCAN ? ARGV_SCAN : len;
	if (!c.len)
		return false;
	bpf_loop(ARGV_SCAN, argv_step, &c, 0);
	if (c.n < 2)
		return false;
	if (c.n >= 3 && argv_ends_with(c.off, c.start[1], c.end[1], "-m", 2, true) &&
	    argv_ends_with(c.off, c.start[2], c.end[2], "pip", 3, true))
		return true;
	if (c.end[1] <= c.start[1] || c.end[1] - c.start[1] >= PIP_ENTRY_MAX)
		return false;
	n = (__u64)(c.end[1] - c.start[1]);
	key = bpf_map_lookup_elem(&entry_key, &zero);
	if (!key)
		return false;
	__builtin_memset(key, 0, sizeof(*key));
	/* the verifier wants the size bounded by a mask it sees (PIP_ENTRY_MAX - 1) */
	_Static_assert(PIP_ENTRY_MAX == 256, "the mask below");
	asm volatile("%0 &= 255" : "+r"(n));
	bpf_probe_read_kernel(key->path, n,
			      &r->data[(off + c.start[1]) & ARGV_DATA_MASK]);
	return bpf_map_lookup_elem(&pip_entry, key) != NULL;
}

/* The role after an exec (r: the exec record, its argv in SLOT_STR, the
 * file run in SLOT_FILE). */
static __always_inline bool trust_after_exec(struct ev_record *r, struct pending *p)
{
	if (poisoned)
		return false;
	if (p && (p->pj & PJ_INITCHILD) && !cmd_started) {
		cmd_started = 1;
		return true;
	}
	if (!trust_of(p))
		return false;
	return pj_exec_is_pip(r->off[SLOT_STR], r->len[SLOT_STR]);
}
