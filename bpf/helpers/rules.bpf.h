/* The kernel rules, decided on return from the call and enforced with
 * bpf_send_signal(SIGKILL) before the process runs another instruction:
 * an untrusted open of a file only pip may read (map pip_only), an
 * untrusted exec of a denied program (map denied_exec).  A hit is always
 * marked in the record; the kill happens only in enforce mode. */
#pragma once

#include "helpers/trust.bpf.h"

/* Kill the current process (all its threads) now: it dies on its way back
 * to user space, before its next instruction. */
static __always_inline void rule_kill(struct ev_record *r)
{
	if (!enforce)
		return;
	if (bpf_send_signal(SIGKILL) == 0) {
		r->flags |= EVF_KILLED;
		counter_inc(CNT_KILLS);
	}
}

/* The file of r (SLOT_FILE) is in the rule map, which holds n entries. */
static __always_inline bool rule_file_in(void *map, __u32 n, const struct ev_record *r)
{
	struct pj_inode k;

	if (!n || !(r->flags & EVF_FILE_VALID))
		return false;
	k.dev = r->dev;
	k.ino = r->ino;
	return bpf_map_lookup_elem(map, &k) != NULL;
}

/* An open returned an fd on a file only pip may read (pip.conf with index
 * credentials, .netrc, .pypirc, keyrings), in a task that is not pip. */
static __always_inline void rule_pip_only(struct ev_record *r, struct pending *p)
{
	if (!rule_file_in(&pip_only, n_pip_only, r) || trust_of(p, r->hpid))
		return;
	r->flags |= EVF_PIP_ONLY;
	rule_kill(r);
}

/* An untrusted task exec'd a program no one but pip may start (curl, ssh,
 * ...): the exec record's SLOT_FILE is that program. */
static __always_inline void rule_denied_exec(struct ev_record *r)
{
	if (!rule_file_in(&denied_exec, n_denied_exec, r))
		return;
	r->flags |= EVF_DENIED_EXEC;
	rule_kill(r);
}
