/* What every part of the monitor includes: the kernel's types (vmlinux.h),
 * libbpf's helpers, the record ABI shared with user space (events.h), a
 * few kernel constants that vmlinux.h lacks (they are macros), and the
 * user ABI structures the capture reads.  Nothing here touches a map. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

#define AT_FDCWD   -100
#define AF_UNIX    1
#define AF_INET    2
#define AF_INET6   10
#define S_IFMT     00170000
#define S_IFSOCK   0140000
#define ENOENT     2
#define SIGKILL    9
/* include/linux/fs.h (stable since 2.6): the file was opened for writing */
#define FMODE_WRITE 0x2
/* include/uapi/asm-generic/fcntl.h */
#define O_CREAT    00000100
#define O_TRUNC    00001000

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* A kernel pointer (often kept as a number) as an untrusted typed pointer:
 * CAST(struct task_struct, t)->fs.  bpf_rdonly_cast() is a plain move once
 * verified.  A pointer loaded through a trusted one (t->fs) makes the
 * verifier search the whole kernel BTF for a "__safe_trusted" type, once
 * per path to the load: a fifth of the load time.  Through an untrusted
 * pointer the load is the same single instruction (a faulting read is
 * caught), and costs nothing to verify. */
#define CAST(type, p) ((type *)bpf_rdonly_cast((const void *)(p), bpf_core_type_id_kernel(type)))

/* User ABI structures: their layout is fixed, so they are declared here
 * without CO-RE (vmlinux.h marks its types preserve_access_index).  Each
 * CO-RE type costs libbpf a scan of the whole kernel BTF at load time. */
struct pj_open_how {     /* struct open_how */
	__u64 flags, mode, resolve;
};
struct pj_iovec {        /* struct iovec */
	void *iov_base;
	__u64 iov_len;
};
struct pj_msghdr {       /* struct user_msghdr */
	void *msg_name;
	int msg_namelen;
	struct pj_iovec *msg_iov;
	__u64 msg_iovlen;
	void *msg_control;
	__u64 msg_controllen;
	unsigned int msg_flags;
};

/* Argument i (1-based, as struct sc_spec numbers them; 0: none) of a. */
static __always_inline __u64 sc_arg(const __u64 *a, __u8 i)
{
	switch (i) {
	case 1: return a[0];
	case 2: return a[1];
	case 3: return a[2];
	case 4: return a[3];
	case 5: return a[4];
	case 6: return a[5];
	}
	return 0;
}

/* Mark every slot (enum ev_slot) of an off/len table absent: the record's
 * and the pending call's tables. */
static __always_inline void slots_clear(__u16 *off, __u16 *len)
{
	__u8 i;

#pragma unroll
	for (i = 0; i < SLOT_N; i++) {
		off[i] = 0;
		len[i] = 0;
	}
}
