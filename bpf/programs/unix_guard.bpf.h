/* pj_unix_connect, pj_unix_sendmsg (cgroup programs on the jail's cgroup,
 * attach types BPF_CGROUP_UNIX_CONNECT and _SENDMSG, Linux 6.7): the
 * unix-socket guard.  They decide, before the kernel looks a pathname unix
 * socket up, whether a connect(2) or a datagram sent to an address
 * (sendto/sendmsg) may go there: only to the jail's own trees; anywhere
 * else the call fails with EPERM, so a host socket never receives a byte
 * or a connection.  How a name is judged and why a symlink cannot redirect
 * it: helpers/unixpath.bpf.h.  Attached by monitor_unix_guard (not by the
 * skeleton), and loaded only when pipjail found the hooks
 * (unixguard_probe); on an older kernel the rest of the monitor loads
 * without them.
 *
 * In this object rather than one of their own: libbpf parses the kernel's
 * BTF once per object (tens of milliseconds), and the monitor's load
 * already does; these add only their own verification to it.
 *
 * The sections say connect4: libbpf 1.1 (Debian 12) knows no
 * "cgroup/connect_unix" section; monitor_load sets the real expected
 * attach types.  Nothing here reads the context's fields, whose access
 * rules depend on the attach type: the address is read through
 * bpf_cast_to_kern_ctx(). */
#pragma once

#include "helpers/unixpath.bpf.h"
#include "helpers/walk.bpf.h"

/* Linux 6.7 (the hooks came with them): weak, so that the monitor loads
 * on an older kernel, where these programs are not loaded at all. */
extern void *bpf_cast_to_kern_ctx(void *obj) __weak __ksym;
extern int bpf_sock_addr_set_sun_path(struct bpf_sock_addr_kern *sa_kern, const __u8 *sun_path,
				      __u32 sun_path__sz) __weak __ksym;

/* Counters for -v.  Written: the programs.  Read: monitor_unix_counts. */
__u64 unix_allowed = 0, unix_refused = 0, unix_abstract = 0;

/* [cwd '/'] name into s->in.  false: no room, or the current directory is
 * not below the task's root. */
static __always_inline bool up_input(struct up_state *s, struct bpf_sock_addr_kern *sa, __u32 plen,
				     char first)
{
	const char *name = (const char *)sa->uaddr + 2;
	__u32 n = 0;

	if (first != '/') {
		struct task_struct *t = bpf_get_current_task_btf();
		struct fs_struct *fs = CAST(struct task_struct, t)->fs;
		struct walk_buf *wb = walk_run((__u64)fs->pwd.mnt, (__u64)fs->pwd.dentry);
		__u32 pos;

		if (!wb || !wb->c.done || wb->c.trunc || wb->c.unreach || wb->c.pseudo)
			return false;
		pos = wb->c.pos;
		if (pos < EV_WALK_MAX) {
			n = EV_WALK_MAX - pos;
			if (n > UP_IN - UNIX_PATH_MAX - 4)
				return false;
			bpf_probe_read_kernel(s->in, n & (UP_IN - 1), &wb->b[pos & (EV_WALK_MAX - 1)]);
		}
		s->in[n & (UP_IN - 1)] = '/';
		n++;
	}
	if (n > UP_IN - UNIX_PATH_MAX - 2)
		return false;
	asm volatile("" : "+r"(plen));  /* mask the register really passed */
	plen &= 127;
	bpf_probe_read_kernel(&s->in[n & (UP_IN - 1)], plen, name);
	s->in_len = n + plen;
	return true;
}

static __always_inline int guard(struct bpf_sock_addr *ctx)
{
	/* sa (trusted) goes to the kfunc; its fields are read through ro,
	 * an untrusted alias: a load through a trusted pointer makes the
	 * verifier search the whole kernel BTF (most of the load time) */
	struct bpf_sock_addr_kern *sa = bpf_cast_to_kern_ctx(ctx);
	struct bpf_sock_addr_kern *ro = CAST(struct bpf_sock_addr_kern, sa);
	struct up_state *s = up_state();
	struct up_final f = {};
	struct up_tree *t;
	__u32 plen = ro->uaddrlen;
	char first = 0;

	/* the kernel checked the address's form before calling us */
	if (!s || plen <= 2 || plen > UNIX_PATH_MAX + 2)
		goto refuse;
	plen -= 2;
	bpf_probe_read_kernel(&first, 1, (const char *)ro->uaddr + 2);
	if (first == 0) {
		/* abstract: no file, nothing to resolve; only sockets of this
		 * net namespace (the jail's own), and Landlock's scope refuses
		 * those of another domain */
		__sync_fetch_and_add(&unix_abstract, 1);
		return 1;
	}
	if (!up_input(s, ro, plen, first) || !up_normalise(s))
		goto refuse;
	t = up_match(s);
	if (!t || !up_rewrite(s, t, &f))
		goto refuse;
	if (bpf_sock_addr_set_sun_path(sa, (const __u8 *)f.sun, f.len & 127))
		goto refuse;
	__sync_fetch_and_add(&unix_allowed, 1);
	return 1;
refuse:
	__sync_fetch_and_add(&unix_refused, 1);
	return 0;
}

SEC("cgroup/connect4")
int pj_unix_connect(struct bpf_sock_addr *ctx)
{
	return guard(ctx);
}

SEC("cgroup/connect4")
int pj_unix_sendmsg(struct bpf_sock_addr *ctx)
{
	return guard(ctx);
}
