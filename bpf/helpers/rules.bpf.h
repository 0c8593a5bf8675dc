/* The kernel rules, decided on return from the call and enforced with
 * bpf_send_signal(SIGKILL) before the process runs another instruction:
 * an untrusted open of a file only pip may read (map pip_only), an
 * untrusted exec of a denied program (map denied_exec), an untrusted
 * change to the target environment (the environment guard).  A hit is
 * always marked in the record; the kill happens only in enforce mode. */
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
	if (!rule_file_in(&pip_only, n_pip_only, r) || trust_of(p))
		return;
	r->flags |= EVF_PIP_ONLY;
	rule_kill(r);
}

/* Is the absolute name (len bytes at off in the per-CPU record) under the
 * environment's path, as written?  The kernel does not resolve it for us:
 * a file reached through a symlink or /proc/self/root is the Landlock
 * layer's business (see rule_env_write).  Global: verified once. */
__noinline int pj_path_under_env(__u32 off, __u32 len)
{
	struct rec_buf *rb = rec_get();
	struct ev_record *r;
	__u32 n = env_path_len, k;

	if (!rb || !n || n >= PIP_ENTRY_MAX || len <= n)
		return false;
	r = rec_of(rb);
	for (k = 0; k < PIP_ENTRY_MAX - 1; k++) {
		if (k >= n)
			break;
		if (r->data[(off + k) & ARGV_DATA_MASK] != env_path[k & (PIP_ENTRY_MAX - 1)])
			return false;
	}
	return r->data[(off + n) & ARGV_DATA_MASK] == '/';
}

/* Did the call (it succeeded) change the environment?  An open: the file
 * it opened is on the environment's overlay and was opened for writing
 * (the kernel's own word, FMODE_WRITE) or asked to create or truncate (the
 * flags as passed, copied at entry).  A call that changes the file system
 * (SCF_MODIFY): the file of its fd argument is on the overlay, or a
 * relative path's directory is, or an absolute path names the environment. */
static __always_inline bool rule_env_touched(struct rec_buf *rb, struct ev_record *r,
					     const volatile struct sc_spec *s)
{
	bool on_env = (r->flags & EVF_FILE_VALID) && r->dev == env_dev;

	if (s->flags & SCF_OPEN)
		return on_env && rb->file &&
		       ((CAST(struct file, rb->file)->f_mode & FMODE_WRITE) ||
			(s->oflags && (sc_arg(r->args, s->oflags) & (O_CREAT | O_TRUNC))));
	if (!(s->flags & SCF_MODIFY))
		return false;
	if (on_env && s->fd)
		return true;
	if (rb->dir_dev[0] == env_dev || rb->dir_dev[1] == env_dev)
		return true;
	return (r->len[SLOT_PATH] && pj_path_under_env(r->off[SLOT_PATH], r->len[SLOT_PATH])) ||
	       (r->len[SLOT_PATH2] && pj_path_under_env(r->off[SLOT_PATH2], r->len[SLOT_PATH2]));
}

/* The environment guard, the second wall: an untrusted task changed the
 * target environment.  The first wall is the Landlock layer every
 * untrusted process gets before its own code runs (src/jail/preload.c),
 * which refuses the call; this one catches a process that escaped it (a
 * static binary, a stripped environment).  The call has completed, so the
 * task is killed before its next instruction and the jail is poisoned:
 * nothing is trusted any more and every task dies at its next system
 * call, so no trusted process can start after the change and run what
 * was planted.  The staging check throws the change away. */
static __always_inline void rule_env_write(struct rec_buf *rb, struct ev_record *r,
					   struct pending *p, const volatile struct sc_spec *s)
{
	if (!env_dev || trust_of(p) || !rule_env_touched(rb, r, s))
		return;
	r->flags |= EVF_ENV_WRITE;
	if (enforce)
		poisoned = 1;
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
