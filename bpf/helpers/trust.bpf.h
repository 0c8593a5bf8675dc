/* Trust (role pip), the one thing the kernel rules depend on: kept per task
 * in its marks (pending.pj, PJ_*), inherited at fork, decided again at
 * exec (docs/trace-format.md, "Kernel rules"), and overridden by user
 * space's word (map trust_set) until the process execs. */
#pragma once

#include "helpers/argv.bpf.h"

/* The trust of a process: user space's word if it gave one, else the
 * kernel's classification. */
static __always_inline bool trust_of(const struct pending *p, __u32 tgid)
{
	__u32 *o = bpf_map_lookup_elem(&trust_set, &tgid);

	if (o)
		return *o != 0;
	return p && (p->pj & PJ_TRUSTED);
}

/* The child's marks, from its parent's (pp, NULL when the parent is
 * outside the jail: the child is the jail's init). */
static __always_inline __u32 trust_child_marks(struct pending *pp, bool parent_in, __u32 ptgid,
					       bool thread)
{
	__u32 ppj = pp ? pp->pj : 0, trust;

	if (!parent_in)
		return PJ_OWN | PJ_INIT | PJ_SHOWN;
	trust = trust_of(pp, ptgid) ? PJ_TRUSTED : 0;
	if (thread)  /* same process: same marks, but its fork is not shown */
		return (ppj & ~(PJ_SHOWN | PJ_TRUSTED)) | trust;
	return (ppj & PJ_OWN) | trust | (ppj & PJ_INIT ? PJ_INITCHILD : 0) |
	       (ppj & PJ_OWN ? PJ_SHOWN : 0);
}

/* The role after an exec (r: the exec record, its argv in SLOT_STR): the
 * command's first exec is trusted; a trusted task stays trusted only when
 * it starts pip again; anything else (a build hook, a compiler, curl) is
 * not.  An untrusted task never becomes trusted here (only user space can
 * say so). */
static __always_inline bool trust_after_exec(struct ev_record *r, struct pending *p)
{
	bool trusted;

	if (p && (p->pj & PJ_INITCHILD) && !cmd_started) {
		cmd_started = 1;
		trusted = true;
	} else if (trust_of(p, r->hpid)) {
		trusted = pj_argv_is_pip(r->off[SLOT_STR], r->len[SLOT_STR]);
	} else {
		trusted = false;
	}
	/* user space's word was about the program that ran before */
	bpf_map_delete_elem(&trust_set, &r->hpid);
	return trusted;
}
