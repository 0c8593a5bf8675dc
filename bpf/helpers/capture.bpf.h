/* Copies at entry: what a traced call's arguments point to (paths,
 * strings, socket addresses, the first bytes of a DNS query) is copied
 * into the task's pending buffer at sys_enter, before the call runs: the
 * user memory may change before sys_exit.  The capture plan (specs) says
 * what to copy for each syscall. */
#pragma once

#include "helpers/task.bpf.h"

static __always_inline void capture_user_str(struct pending *p, int slot, __u64 uptr, __u32 max)
{
	__u32 off = p->used;
	long n;

	if (!uptr)
		return;
	if (off > PEND_SOFT) {
		p->flags |= EVF_TRUNC;
		return;
	}
	n = bpf_probe_read_user_str(&p->data[off], max, (const void *)uptr);
	if (n <= 0)
		return;
	if (n >= max)
		p->flags |= EVF_TRUNC;
	p->off[slot] = off;
	p->len[slot] = n;
	p->used = off + n;
}

static __always_inline void capture_user_bytes(struct pending *p, int slot, __u64 uptr, __u64 len,
					       __u32 max)
{
	__u32 off = p->used, n;

	if (!uptr || !len)
		return;
	if (off > PEND_SOFT) {
		p->flags |= EVF_TRUNC;
		return;
	}
	n = len > max ? max : len;
	/* callers' max is <= 1024: the mask changes nothing but gives the
	 * verifier a bound on the register that is actually passed */
	asm volatile("" : "+r"(n));
	n &= 1023;
	if (bpf_probe_read_user(&p->data[off], n, (const void *)uptr))
		return;
	p->off[slot] = off;
	p->len[slot] = n;
	p->used = off + n;
}

/* No address given to send()/sendmsg(): take the peer of a connected inet
 * socket, so that a DNS query over a connected UDP socket still shows it. */
static __always_inline void capture_sock_peer(struct pending *p, struct task_struct *t, __s64 fd)
{
	struct {
		__u16 family;
		__u16 port;
		__u32 flowinfo;
		__u8 addr[16];
		__u32 scope;
	} sa = {};
	__u64 fp = task_fd_file(task_files(t), fd);
	struct socket *so;
	struct sock *sk;
	struct file *f;
	__u32 off = p->used, n;

	if (!fp)
		return;
	f = CAST(struct file, fp);
	if ((f->f_inode->i_mode & S_IFMT) != S_IFSOCK)
		return;
	so = CAST(struct socket, f->private_data);
	sk = so->sk;
	if (!sk)
		return;
	sa.family = sk->__sk_common.skc_family;
	sa.port = sk->__sk_common.skc_dport;
	if (!sa.port)
		return;
	if (sa.family == AF_INET) {
		__u32 a4 = sk->__sk_common.skc_daddr;

		/* sockaddr_in: family, port, addr */
		__builtin_memcpy(&sa.flowinfo, &a4, 4);
		n = 16;
	} else if (sa.family == AF_INET6) {
		BPF_CORE_READ_INTO(&sa.addr, sk, __sk_common.skc_v6_daddr);
		n = 28;
	} else {
		return;
	}
	if (off > PEND_SOFT)
		return;
	bpf_probe_read_kernel(&p->data[off], n, &sa);
	p->off[SLOT_ADDR] = off;
	p->len[SLOT_ADDR] = n;
	p->used = off + n;
	p->flags |= EVF_ADDR_SOCK;
}

/* Destination port (host order) of the captured address, 0 if none. */
static __always_inline __u16 capture_port(struct pending *p)
{
	__u32 off = p->off[SLOT_ADDR];
	__u16 h[2] = {};

	if (p->len[SLOT_ADDR] < 4 || off > PEND_SOFT)
		return 0;
	bpf_probe_read_kernel(h, sizeof(h), &p->data[off]);
	if (h[0] != AF_INET && h[0] != AF_INET6)
		return 0;
	return __builtin_bswap16(h[1]);
}

/* The address a call sends to or binds, and the message of a send (its
 * first iovec): SA_SOCKADDR copies the sockaddr, SA_MSGHDR and SA_MMSGHDR
 * read the msghdr (struct mmsghdr starts with its struct user_msghdr). */
static __always_inline void capture_addr(struct pending *p, const volatile struct sc_spec *s,
					 const __u64 *a, __u64 *buf, __u64 *buflen)
{
	switch (s->addr_mode) {
	case SA_SOCKADDR:
		capture_user_bytes(p, SLOT_ADDR, sc_arg(a, s->addr), sc_arg(a, s->addrlen), EV_ADDR_MAX);
		break;
	case SA_MSGHDR:
	case SA_MMSGHDR: {
		struct pj_msghdr mh = {};
		struct pj_iovec iov = {};

		if (bpf_probe_read_user(&mh, sizeof(mh), (const void *)sc_arg(a, s->addr)))
			break;
		capture_user_bytes(p, SLOT_ADDR, (__u64)mh.msg_name, mh.msg_namelen, EV_ADDR_MAX);
		if (mh.msg_iovlen > 0 && !bpf_probe_read_user(&iov, sizeof(iov), mh.msg_iov)) {
			*buf = (__u64)iov.iov_base;
			*buflen = iov.iov_len;
		}
		break;
	}
	}
}

/* Forget what was copied for the previous call. */
static __always_inline void capture_reset(struct pending *p)
{
	p->used = 0;
	p->flags = 0;
	slots_clear(p->off, p->len);
}

struct capture_args {
	__u64 a[6];
};

/* Copy what the call's arguments point to, now (at entry). */
__noinline int pj_capture(struct pending *p, __s64 nr, struct capture_args *args)
{
	const volatile struct sc_spec *s = &specs[nr & (SC_NR_MAX - 1)];
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 buf = 0, buflen = 0, a[6];
	__u8 i;

	if (!p || !args)
		return 0;
#pragma unroll
	for (i = 0; i < 6; i++)
		a[i] = args->a[i];
	capture_reset(p);
#pragma unroll
	for (i = 0; i < 6; i++)
		p->args[i] = a[i];

	if (s->path)
		capture_user_str(p, SLOT_PATH, sc_arg(a, s->path), EV_PATH_MAX);
	if (s->path2)
		capture_user_str(p, SLOT_PATH2, sc_arg(a, s->path2), EV_PATH_MAX);
	if (s->str)
		capture_user_str(p, SLOT_STR, sc_arg(a, s->str), EV_STR_MAX);
	if (s->flags & SCF_HOW) {
		/* openat2(dfd, path, struct open_how *how, size) */
		struct pj_open_how how = {};

		if (!bpf_probe_read_user(&how, sizeof(how), (const void *)a[2])) {
			p->args[3] = how.flags;
			p->args[4] = how.mode;
			p->args[5] = how.resolve;
		}
	}
	capture_addr(p, s, a, &buf, &buflen);
	if (s->flags & SCF_SENDBUF) {
		buf = a[1];
		buflen = a[2];
	}
	if ((s->flags & SCF_NET) && !p->len[SLOT_ADDR] && s->addr_mode != SA_NONE)
		capture_sock_peer(p, t, (__s64)a[0]);
	if (buf && capture_port(p) == 53)
		capture_user_bytes(p, SLOT_PAYLOAD, buf, buflen, EV_PAYLOAD_MAX);
	return 0;
}
