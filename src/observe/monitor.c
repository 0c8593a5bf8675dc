/* The eBPF monitor, user side: fills the capture plan (which arguments of
 * which syscall to copy) into the program's read-only data, loads and
 * attaches bpf/monitor.bpf.c, and decodes its ring buffer records into
 * struct trace_event for the trace writer and the supervisor.
 *
 * Decoding keeps one small table per process (host pid -> exe) fed by exec
 * and fork records; everything else lives in fixed buffers of struct
 * monitor, so nothing is allocated per event. */
#include "observe/monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <seccomp.h>

#include "events.h"
#include "monitor.skel.h"
#include "observe/monitor_sysnr.h"
#include "observe/trace.h"
#include "base/base.h"

/* ---- the capture plan ---------------------------------------------------- */

struct sc_def {
	int nr;
	const char *kind;
	struct sc_spec spec;
};

#define T SCF_TRACE
#define B (SCF_TRACE | SCF_BULK)
/* Positions are 1-based argument numbers. */
#define PATH(p)            .path = (p)
#define PATHAT(d, p)       .dirfd = (d), .path = (p)
#define PATH2(p)           .path2 = (p)
#define PATH2AT(d, p)      .dirfd2 = (d), .path2 = (p)

static const struct sc_def sc_defs[] = {
	/* files */
	{ SYS_open,       "open",     { .flags = B | SCF_OPEN, PATH(1) } },
	{ SYS_creat,      "open",     { .flags = B | SCF_OPEN, PATH(1) } },
	{ SYS_openat,     "open",     { .flags = B | SCF_OPEN, PATHAT(1, 2) } },
	{ SYS_openat2,    "open",     { .flags = B | SCF_OPEN | SCF_HOW, PATHAT(1, 2) } },
	{ SYS_open_by_handle_at, "open", { .flags = B | SCF_OPEN } },
	{ SYS_unlink,     "unlink",   { .flags = B, PATH(1) } },
	{ SYS_unlinkat,   "unlink",   { .flags = B, PATHAT(1, 2) } },
	{ SYS_rmdir,      "rmdir",    { .flags = B, PATH(1) } },
	{ SYS_rename,     "rename",   { .flags = B, PATH(1), PATH2(2) } },
	{ SYS_renameat,   "rename",   { .flags = B, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_renameat2,  "rename",   { .flags = B, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_mkdir,      "mkdir",    { .flags = B, PATH(1) } },
	{ SYS_mkdirat,    "mkdir",    { .flags = B, PATHAT(1, 2) } },
	{ SYS_link,       "link",     { .flags = B, PATH(1), PATH2(2) } },
	{ SYS_linkat,     "link",     { .flags = B, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_symlink,    "symlink",  { .flags = B, .str = 1, PATH(2) } },
	{ SYS_symlinkat,  "symlink",  { .flags = B, .str = 1, PATHAT(2, 3) } },
	{ SYS_chmod,      "chmod",    { .flags = B, PATH(1) } },
	{ SYS_fchmod,     "chmod",    { .flags = B, .fd = 1 } },
	{ SYS_fchmodat,   "chmod",    { .flags = B, PATHAT(1, 2) } },
	{ SYS_fchmodat2,  "chmod",    { .flags = B, PATHAT(1, 2) } },
	{ SYS_chown,      "chown",    { .flags = B, PATH(1) } },
	{ SYS_lchown,     "chown",    { .flags = B, PATH(1) } },
	{ SYS_fchown,     "chown",    { .flags = B, .fd = 1 } },
	{ SYS_fchownat,   "chown",    { .flags = B, PATHAT(1, 2) } },
	{ SYS_truncate,   "truncate", { .flags = B, PATH(1) } },
	{ SYS_ftruncate,  "truncate", { .flags = B, .fd = 1 } },
	{ SYS_mknod,      "mknod",    { .flags = B, PATH(1) } },
	{ SYS_mknodat,    "mknod",    { .flags = B, PATHAT(1, 2) } },
	{ SYS_chdir,      "chdir",    { .flags = B, PATH(1) } },
	{ SYS_fchdir,     "chdir",    { .flags = B, .fd = 1 } },
	{ SYS_execve,     "exec",     { .flags = B | SCF_EXEC, PATH(1) } },
	{ SYS_execveat,   "exec",     { .flags = B | SCF_EXEC, PATHAT(1, 2) } },
	/* network */
	{ SYS_socket,     "socket",   { .flags = T } },
	{ SYS_connect,    "connect",  { .flags = T | SCF_NET, .addr_mode = SA_SOCKADDR, .addr = 2, .addrlen = 3 } },
	{ SYS_bind,       "bind",     { .flags = T, .addr_mode = SA_SOCKADDR, .addr = 2, .addrlen = 3 } },
	{ SYS_listen,     "listen",   { .flags = T } },
	{ SYS_sendto,     "send",     { .flags = T | SCF_NET | SCF_SENDBUF, .addr_mode = SA_SOCKADDR, .addr = 5, .addrlen = 6 } },
	{ SYS_sendmsg,    "send",     { .flags = T | SCF_NET, .addr_mode = SA_MSGHDR, .addr = 2 } },
	{ SYS_sendmmsg,   "send",     { .flags = T | SCF_NET, .addr_mode = SA_MMSGHDR, .addr = 2 } },
	/* risky */
	{ SYS_memfd_create, "memfd",  { .flags = T | SCF_OPEN, .str = 1 } },
	{ SYS_memfd_secret, "memfd",  { .flags = T } },
	{ SYS_ptrace,     "ptrace",   { .flags = T } },
	{ SYS_process_vm_readv,  "process_vm", { .flags = T } },
	{ SYS_process_vm_writev, "process_vm", { .flags = T } },
	{ SYS_kill,       "kill",     { .flags = T } },
	{ SYS_tkill,      "kill",     { .flags = T } },
	{ SYS_tgkill,     "kill",     { .flags = T } },
	{ SYS_pidfd_send_signal, "kill", { .flags = T } },
	{ SYS_pidfd_getfd, "pidfd_getfd", { .flags = T } },
	{ SYS_mount,      "mount",    { .flags = T, PATH(1), PATH2(2), .str = 3 } },
	{ SYS_umount2,    "mount",    { .flags = T, PATH(1) } },
	{ SYS_pivot_root, "mount",    { .flags = T, PATH(1), PATH2(2) } },
	{ SYS_move_mount, "mount",    { .flags = T, PATHAT(1, 2), PATH2AT(3, 4) } },
	{ SYS_open_tree,  "mount",    { .flags = T, PATHAT(1, 2) } },
	{ SYS_fsopen,     "mount",    { .flags = T, .str = 1 } },
	{ SYS_fsmount,    "mount",    { .flags = T } },
	{ SYS_fsconfig,   "mount",    { .flags = T, .str = 3 } },
	{ SYS_fspick,     "mount",    { .flags = T, PATHAT(1, 2) } },
	{ SYS_mount_setattr, "mount", { .flags = T, PATHAT(1, 2) } },
	{ SYS_chroot,     "chroot",   { .flags = T, PATH(1) } },
	{ SYS_setuid,     "setid",    { .flags = T } },
	{ SYS_setgid,     "setid",    { .flags = T } },
	{ SYS_setreuid,   "setid",    { .flags = T } },
	{ SYS_setregid,   "setid",    { .flags = T } },
	{ SYS_setresuid,  "setid",    { .flags = T } },
	{ SYS_setresgid,  "setid",    { .flags = T } },
	{ SYS_setfsuid,   "setid",    { .flags = T } },
	{ SYS_setfsgid,   "setid",    { .flags = T } },
	{ SYS_setgroups,  "setid",    { .flags = T } },
	{ SYS_capset,     "setid",    { .flags = T } },
	{ SYS_prctl,      "prctl",    { .flags = T } },
	{ SYS_seccomp,    "seccomp",  { .flags = T } },
	{ SYS_unshare,    "unshare",  { .flags = T } },
	{ SYS_setns,      "setns",    { .flags = T } },
	{ SYS_bpf,        "bpf",      { .flags = T } },
	{ SYS_perf_event_open, "perf_event_open", { .flags = T } },
	{ SYS_io_uring_setup,    "io_uring", { .flags = T } },
	{ SYS_io_uring_enter,    "io_uring", { .flags = T } },
	{ SYS_io_uring_register, "io_uring", { .flags = T } },
	{ SYS_keyctl,     "keyctl",   { .flags = T } },
	{ SYS_add_key,    "keyctl",   { .flags = T, .str = 1 } },
	{ SYS_request_key, "keyctl",  { .flags = T, .str = 1 } },
	{ SYS_init_module,   "module", { .flags = T } },
	{ SYS_finit_module,  "module", { .flags = T, .fd = 1 } },
	{ SYS_delete_module, "module", { .flags = T, .str = 1 } },
	{ SYS_kexec_load,      "kexec", { .flags = T } },
	{ SYS_kexec_file_load, "kexec", { .flags = T } },
	{ SYS_userfaultfd, "userfaultfd", { .flags = T } },
	{ SYS_personality, "personality", { .flags = T } },
	{ SYS_name_to_handle_at, "open", { .flags = T, PATHAT(1, 2) } },
	{ SYS_quotactl,   "admin",    { .flags = T } },
	{ SYS_swapon,     "admin",    { .flags = T, PATH(1) } },
	{ SYS_swapoff,    "admin",    { .flags = T, PATH(1) } },
	{ SYS_reboot,     "admin",    { .flags = T } },
	{ SYS_syslog,     "admin",    { .flags = T } },
	{ SYS_acct,       "admin",    { .flags = T, PATH(1) } },
	{ SYS_iopl,       "admin",    { .flags = T } },
	{ SYS_ioperm,     "admin",    { .flags = T } },
	{ SYS_sethostname,   "admin", { .flags = T } },
	{ SYS_setdomainname, "admin", { .flags = T } },
	{ SYS_settimeofday,  "admin", { .flags = T } },
	{ SYS_clock_settime, "admin", { .flags = T } },
};

#undef T
#undef B

/* Kinds whose raw arguments go into the trace (the others are decoded). */
static bool kind_writes_args(const char *kind)
{
	static const char *const decoded[] = {
		"open", "unlink", "rmdir", "rename", "mkdir", "link", "symlink", "chmod",
		"chown", "truncate", "mknod", "chdir", "exec", "connect", "bind", "send",
		"socket", "listen", "memfd", "kill",
	};

	for (size_t i = 0; i < ARRAY_SIZE(decoded); i++)
		if (!strcmp(kind, decoded[i]))
			return false;
	return true;
}

/* ---- per-process table (host pid -> exe) --------------------------------- */

struct proc {
	struct proc *next;
	uint32_t hpid;
	char *exe;
};

#define PROC_BUCKETS 1024

/* Per thread: a copy of its last record that identical failed lookups may
 * be folded into; an EV_REPEAT record is written as that event again, with
 * the count and the time of the last folded call. */
struct fold_base {
	struct fold_base *next;
	uint32_t htid;
	size_t size;
	unsigned char rec[];
};

struct monitor {
	struct monitor_bpf *skel;
	struct ring_buffer *rb;
	struct trace_writer *trace;
	void (*on_event)(const struct trace_event *ev, void *ctx);
	void *ctx;
	int64_t wall_offset_ns;       /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t events, bad_records, load_ns;
	uint64_t t_start, t_open, t_load;  /* -v: where the load time goes */
	unsigned long buffer_bytes;
	uint64_t cgroup_id;
	bool adopted;                 /* init_fork is to be delivered at attach */
	struct ev_record init_fork;   /* the fork pj_fork did not see (monitor_adopt_init) */
	const char *kind_of[SC_NR_MAX];
	char *name_of[SC_NR_MAX];     /* from libseccomp, for every number */
	struct proc *procs[PROC_BUCKETS];
	struct fold_base *folds[PROC_BUCKETS];

	/* decode buffers, reused for every record */
	char abs[2][EV_PATH_MAX * 2 + 2];
	char walked[3][EV_WALK_MAX + 32];
	char flags[512];
	char addr[EV_ADDR_MAX * 4 + 8];
	char dns[1100];
	char qtype[16];
	char request[48];
	char sig[24];
	char family[24];
	char socktype[48];
	char argbuf[EV_ARGV_MAX + 1];
	const char *argv[EV_ARGV_MAX / 2 + 2];
};

static struct proc **proc_slot(struct monitor *m, uint32_t hpid)
{
	struct proc **pp = &m->procs[hpid % PROC_BUCKETS];

	while (*pp && (*pp)->hpid != hpid)
		pp = &(*pp)->next;
	return pp;
}

static const char *proc_exe(struct monitor *m, uint32_t hpid)
{
	struct proc *p = *proc_slot(m, hpid);

	return p ? p->exe : NULL;
}

static void proc_set_exe(struct monitor *m, uint32_t hpid, const char *exe)
{
	struct proc **pp = proc_slot(m, hpid);

	if (!*pp) {
		*pp = xcalloc(1, sizeof(**pp));
		(*pp)->hpid = hpid;
	}
	free((*pp)->exe);
	(*pp)->exe = exe ? xstrdup(exe) : NULL;
}

static void proc_drop(struct monitor *m, uint32_t hpid)
{
	struct proc **pp = proc_slot(m, hpid), *p = *pp;

	if (!p)
		return;
	*pp = p->next;
	free(p->exe);
	free(p);
}

static struct fold_base **fold_slot(struct monitor *m, uint32_t htid)
{
	struct fold_base **pp = &m->folds[htid % PROC_BUCKETS];

	while (*pp && (*pp)->htid != htid)
		pp = &(*pp)->next;
	return pp;
}

static void fold_save(struct monitor *m, const struct ev_record *r, size_t size)
{
	struct fold_base **pp = fold_slot(m, r->htid), *f = *pp;

	if (f && f->size < size) {
		*pp = f->next;
		free(f);
		f = NULL;
	}
	if (!f) {
		f = xmalloc(sizeof(*f) + (size < 1024 ? 1024 : size));
		f->htid = r->htid;
		f->next = m->folds[r->htid % PROC_BUCKETS];
		m->folds[r->htid % PROC_BUCKETS] = f;
	}
	f->size = size;
	memcpy(f->rec, r, size);
}

static void fold_drop(struct monitor *m, uint32_t htid)
{
	struct fold_base **pp = fold_slot(m, htid), *f = *pp;

	if (!f)
		return;
	*pp = f->next;
	free(f);
}

/* ---- small decoders ------------------------------------------------------- */

static void append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n < len - 1)
		snprintf(buf + n, len - n, "%s%s", n ? "|" : "", s);
}

struct flagname {
	unsigned long bit;
	const char *name;
};

static const char *open_flags(struct monitor *m, unsigned long f)
{
	static const struct flagname names[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_SYNC, "O_SYNC" }, { O_DSYNC, "O_DSYNC" }, { O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_PATH, "O_PATH" }, { O_TMPFILE, "O_TMPFILE" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { FASYNC, "O_ASYNC" },
	};
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	char *b = m->flags;

	b[0] = 0;
	if (!(f & O_PATH))
		append(b, sizeof(m->flags), acc[f & O_ACCMODE]);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if ((f & names[i].bit) == names[i].bit) {
			append(b, sizeof(m->flags), names[i].name);
			f &= ~names[i].bit;
		}
	}
	f &= ~(unsigned long)O_ACCMODE;
	if (f) {
		char extra[32];

		snprintf(extra, sizeof(extra), "0x%lx", f);
		append(b, sizeof(m->flags), extra);
	}
	return b;
}

static const char *bit_flags(struct monitor *m, unsigned long f, const struct flagname *names,
			     size_t n)
{
	char *b = m->flags;

	b[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (names[i].bit && (f & names[i].bit) == names[i].bit) {
			append(b, sizeof(m->flags), names[i].name);
			f &= ~names[i].bit;
		}
	}
	if (f) {
		char extra[32];

		snprintf(extra, sizeof(extra), "0x%lx", f);
		append(b, sizeof(m->flags), extra);
	}
	return b[0] ? b : NULL;
}

static const char *family_name(struct monitor *m, int fam)
{
	switch (fam) {
	case AF_UNIX: return "AF_UNIX";
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_NETLINK: return "AF_NETLINK";
	case AF_PACKET: return "AF_PACKET";
	case AF_UNSPEC: return "AF_UNSPEC";
	case AF_VSOCK: return "AF_VSOCK";
	case AF_ALG: return "AF_ALG";
	case AF_BLUETOOTH: return "AF_BLUETOOTH";
	}
	snprintf(m->family, sizeof(m->family), "AF_%d", fam);
	return m->family;
}

static const char *sock_type_name(struct monitor *m, unsigned long type)
{
	static const char *const names[] = {
		[SOCK_STREAM] = "SOCK_STREAM", [SOCK_DGRAM] = "SOCK_DGRAM", [SOCK_RAW] = "SOCK_RAW",
		[SOCK_RDM] = "SOCK_RDM", [SOCK_SEQPACKET] = "SOCK_SEQPACKET",
		[SOCK_DCCP] = "SOCK_DCCP", [SOCK_PACKET] = "SOCK_PACKET",
	};
	unsigned long base = type & 0xf;

	if (base < ARRAY_SIZE(names) && names[base])
		snprintf(m->socktype, sizeof(m->socktype), "%s", names[base]);
	else
		snprintf(m->socktype, sizeof(m->socktype), "%lu", base);
	if (type & SOCK_NONBLOCK)
		append(m->socktype, sizeof(m->socktype), "SOCK_NONBLOCK");
	if (type & SOCK_CLOEXEC)
		append(m->socktype, sizeof(m->socktype), "SOCK_CLOEXEC");
	return m->socktype;
}

static const char *signal_name(struct monitor *m, int sig)
{
	const char *abbrev = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;

	if (sig == 0)
		return "0";
	if (abbrev)
		snprintf(m->sig, sizeof(m->sig), "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(m->sig, sizeof(m->sig), "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(m->sig, sizeof(m->sig), "%d", sig);
	return m->sig;
}

static const char *ptrace_request(struct monitor *m, long req)
{
	static const struct { long req; const char *name; } names[] = {
		{ 0, "PTRACE_TRACEME" }, { 1, "PTRACE_PEEKTEXT" }, { 2, "PTRACE_PEEKDATA" },
		{ 3, "PTRACE_PEEKUSER" }, { 4, "PTRACE_POKETEXT" }, { 5, "PTRACE_POKEDATA" },
		{ 6, "PTRACE_POKEUSER" }, { 7, "PTRACE_CONT" }, { 8, "PTRACE_KILL" },
		{ 9, "PTRACE_SINGLESTEP" }, { 12, "PTRACE_GETREGS" }, { 13, "PTRACE_SETREGS" },
		{ 16, "PTRACE_ATTACH" }, { 17, "PTRACE_DETACH" }, { 24, "PTRACE_SYSCALL" },
		{ 0x4200, "PTRACE_SETOPTIONS" }, { 0x4206, "PTRACE_SEIZE" },
		{ 0x4207, "PTRACE_INTERRUPT" }, { 0x4208, "PTRACE_LISTEN" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].req == req)
			return names[i].name;
	snprintf(m->request, sizeof(m->request), "%ld", req);
	return m->request;
}

static const char *prctl_option(struct monitor *m, long opt)
{
	static const struct { long opt; const char *name; } names[] = {
		{ 1, "PR_SET_PDEATHSIG" }, { 4, "PR_SET_DUMPABLE" }, { 8, "PR_SET_KEEPCAPS" },
		{ 15, "PR_SET_NAME" }, { 16, "PR_GET_NAME" }, { 22, "PR_SET_SECCOMP" },
		{ 24, "PR_CAPBSET_DROP" }, { 35, "PR_SET_MM" }, { 36, "PR_SET_CHILD_SUBREAPER" },
		{ 38, "PR_SET_NO_NEW_PRIVS" }, { 47, "PR_CAP_AMBIENT" }, { 0x59616d61, "PR_SET_PTRACER" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].opt == opt)
			return names[i].name;
	snprintf(m->request, sizeof(m->request), "%ld", opt);
	return m->request;
}


static const char *make_abs(char *buf, size_t len, const char *path, const char *dir)
{
	if (!path)
		return NULL;
	if (path[0] != '/' && dir && !path[0])
		path = dir;                      /* AT_EMPTY_PATH: the dirfd itself */
	return path_clean_abs(buf, len, dir, path) == 0 ? buf : NULL;
}

/* The queried name of a DNS message (plain, or TCP with its 2-byte length). */
static bool dns_parse_at(struct monitor *m, const uint8_t *p, size_t n)
{
	size_t i = 12, o = 0;

	if (n < 12 + 5 || (p[4] << 8 | p[5]) == 0)
		return false;
	while (i < n && p[i]) {
		size_t l = p[i++];

		if (l > 63 || i + l > n)
			return false;
		if (o)
			m->dns[o++] = '.';
		for (size_t k = 0; k < l; k++) {
			uint8_t c = p[i + k];

			if (o + 5 >= sizeof(m->dns))
				return false;
			if (c > 0x20 && c < 0x7f && c != '.' && c != '\\')
				m->dns[o++] = c;
			else
				o += snprintf(m->dns + o, 5, "\\%03u", c);
		}
		i += l;
	}
	if (i + 3 > n)
		return false;
	m->dns[o] = 0;
	if (!o)
		strcpy(m->dns, ".");
	unsigned qt = p[i + 1] << 8 | p[i + 2];
	switch (qt) {
	case 1: strcpy(m->qtype, "A"); break;
	case 2: strcpy(m->qtype, "NS"); break;
	case 5: strcpy(m->qtype, "CNAME"); break;
	case 12: strcpy(m->qtype, "PTR"); break;
	case 15: strcpy(m->qtype, "MX"); break;
	case 16: strcpy(m->qtype, "TXT"); break;
	case 28: strcpy(m->qtype, "AAAA"); break;
	case 33: strcpy(m->qtype, "SRV"); break;
	case 65: strcpy(m->qtype, "HTTPS"); break;
	case 255: strcpy(m->qtype, "ANY"); break;
	default: snprintf(m->qtype, sizeof(m->qtype), "%u", qt);
	}
	return true;
}

static void decode_dns(struct monitor *m, struct trace_event *ev, const uint8_t *p, size_t n)
{
	if (dns_parse_at(m, p, n) || (n > 2 && dns_parse_at(m, p + 2, n - 2))) {
		ev->dns_query = m->dns;
		ev->dns_qtype = m->qtype;
	}
}

static void decode_sockaddr(struct monitor *m, struct trace_event *ev, const uint8_t *a, size_t n)
{
	sa_family_t fam;

	if (n < sizeof(fam))
		return;
	memcpy(&fam, a, sizeof(fam));
	ev->family = family_name(m, fam);
	if (fam == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, a, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, m->addr, sizeof(m->addr));
		ev->addr = m->addr;
		ev->port = ntohs(sin.sin_port);
	} else if (fam == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, a, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, m->addr, sizeof(m->addr));
		ev->addr = m->addr;
		ev->port = ntohs(sin6.sin6_port);
	} else if (fam == AF_UNIX) {
		const char *path = (const char *)a + offsetof(struct sockaddr_un, sun_path);
		size_t plen = n - offsetof(struct sockaddr_un, sun_path), o = 0;

		if (plen > 0 && path[0] == 0) {
			/* abstract: "@name", other bytes escaped */
			m->addr[o++] = '@';
			for (size_t i = 1; i < plen && o + 5 < sizeof(m->addr); i++) {
				unsigned char c = path[i];

				if (c >= 0x20 && c < 0x7f && c != '\\')
					m->addr[o++] = c;
				else
					o += snprintf(m->addr + o, 5, "\\x%02x", c);
			}
			m->addr[o] = 0;
		} else {
			size_t l = strnlen(path, plen);

			memcpy(m->addr, path, l);
			m->addr[l] = 0;
		}
		ev->addr = m->addr;
	}
}

/* ---- record decoding ------------------------------------------------------ */

/* A string slot, or NULL when absent; false when the record is malformed. */
static bool slot_str(const struct ev_record *r, size_t size, int slot, const char **out)
{
	size_t off = r->off[slot], len = r->len[slot];

	*out = NULL;
	if (!len)
		return true;
	if (off + len > r->data_len || sizeof(*r) + off + len > size)
		return false;
	if (r->data[off + len - 1] != 0)
		return false;
	*out = (const char *)r->data + off;
	return true;
}

static bool slot_bytes(const struct ev_record *r, size_t size, int slot, const uint8_t **out,
		       size_t *len)
{
	size_t off = r->off[slot];

	*out = NULL;
	*len = r->len[slot];
	if (!*len)
		return true;
	if (off + *len > r->data_len || sizeof(*r) + off + *len > size)
		return false;
	*out = r->data + off;
	return true;
}

/* A path resolved in the kernel (SLOT_DIR, SLOT_DIR2, SLOT_FILE), with its
 * walk flags: a pseudo file is named like /proc/PID/fd shows it
 * ("memfd:NAME", or "anon_inode" when nameless); a path outside the task's
 * root gets the "(unreachable)" prefix of getcwd(3). */
static const char *walked(struct monitor *m, const struct ev_record *r, int slot, const char *s, int buf)
{
	uint8_t f = r->sflags[slot];

	if (!s || !(f & (SF_PSEUDO | SF_UNREACH)))
		return s;
	if (f & SF_PSEUDO) {
		snprintf(m->walked[buf], sizeof(m->walked[buf]), "%s", s[0] == '/' && s[1] ? s + 1 : "anon_inode");
	} else {
		snprintf(m->walked[buf], sizeof(m->walked[buf]), "(unreachable)%s", s);
	}
	return m->walked[buf];
}

static void kernel_rule_fields(const struct ev_record *r, struct trace_event *ev)
{
	if (r->flags & EVF_PIP_ONLY)
		ev->kernel_rule = "pip_only";
	else if (r->flags & EVF_DENIED_EXEC)
		ev->kernel_rule = "denied_exec";
	ev->killed_in_kernel = r->flags & EVF_KILLED;
	ev->kernel_trusted = r->flags & EVF_TRUSTED;
	ev->repeat = r->repeat;
}

static void base_event(struct monitor *m, const struct ev_record *r, struct trace_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->nr = r->nr;
	ev->t_mono_ns = r->ts;
	ev->t_wall_ns = (int64_t)r->ts + m->wall_offset_ns;
	ev->dur_ns = r->ts_enter && r->ts_enter <= r->ts ? r->ts - r->ts_enter : 0;
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->hpid = r->hpid;
	ev->htid = r->htid;
	ev->hppid = r->hppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
	ev->comm = r->comm;
	ev->exe = proc_exe(m, r->hpid);
	ev->mode = -1;
	ev->protocol = -1;
	ev->port = -1;
	ev->target_pid = -1;
	ev->exit_code = -1;
	ev->truncated = r->flags & (EVF_TRUNC | EVF_WALK_TRUNC);
	kernel_rule_fields(r, ev);
}

/* open flags that make the mode argument meaningful */
static bool has_mode(unsigned long flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static bool decode_syscall(struct monitor *m, const struct ev_record *r, size_t size,
			   struct trace_event *ev)
{
	const char *dir = NULL, *dir2 = NULL;
	const uint8_t *addr, *payload;
	size_t addrlen, paylen;
	const __u64 *a = r->args;
	long nr = r->nr;
	const char *kind;

	if (!slot_str(r, size, SLOT_PATH, &ev->path) || !slot_str(r, size, SLOT_PATH2, &ev->path2) ||
	    !slot_str(r, size, SLOT_STR, &ev->str) || !slot_str(r, size, SLOT_DIR, &dir) ||
	    !slot_str(r, size, SLOT_DIR2, &dir2) || !slot_str(r, size, SLOT_FILE, &ev->file) ||
	    !slot_bytes(r, size, SLOT_ADDR, &addr, &addrlen) ||
	    !slot_bytes(r, size, SLOT_PAYLOAD, &payload, &paylen))
		return false;

	dir = walked(m, r, SLOT_DIR, dir, 0);
	dir2 = walked(m, r, SLOT_DIR2, dir2, 1);
	ev->file = walked(m, r, SLOT_FILE, ev->file, 2);
	kind = nr >= 0 && nr < SC_NR_MAX && !(r->flags & EVF_COMPAT) ? m->kind_of[nr] : NULL;
	ev->refused = r->flags & EVF_REFUSED;
	ev->kind = ev->refused ? "seccomp_refused" : kind ? kind : "syscall";
	ev->syscall = nr >= 0 && nr < SC_NR_MAX && !(r->flags & EVF_COMPAT) ? m->name_of[nr] : NULL;
	ev->has_ret = true;
	ev->ret = r->ret;
	ev->write_args = ev->refused || !kind || kind_writes_args(kind);
	memcpy(ev->args, a, sizeof(ev->args));
	ev->abs = make_abs(m->abs[0], sizeof(m->abs[0]), ev->path, dir);
	ev->abs2 = make_abs(m->abs[1], sizeof(m->abs[1]), ev->path2, dir2);
	if (r->flags & EVF_FILE_VALID) {
		ev->file_valid = true;
		ev->dev = makedev(r->dev >> 20, r->dev & 0xfffff);
		ev->ino = r->ino;
	}
	if (addr)
		decode_sockaddr(m, ev, addr, addrlen);
	ev->addr_from_socket = r->flags & EVF_ADDR_SOCK;
	if (payload)
		decode_dns(m, ev, payload, paylen);

	switch (nr) {
	case SYS_open:
		ev->flags = open_flags(m, a[1]);
		if (has_mode(a[1]))
			ev->mode = a[2];
		break;
	case SYS_creat:
		ev->flags = open_flags(m, O_CREAT | O_WRONLY | O_TRUNC);
		ev->mode = a[1];
		break;
	case SYS_openat:
		ev->flags = open_flags(m, a[2]);
		if (has_mode(a[2]))
			ev->mode = a[3];
		break;
	case SYS_openat2:  /* the BPF side put how.flags, how.mode in args[3], args[4] */
		ev->flags = open_flags(m, a[3]);
		if (has_mode(a[3]))
			ev->mode = a[4];
		break;
	case SYS_unlinkat: {
		static const struct flagname f[] = { { AT_REMOVEDIR, "AT_REMOVEDIR" } };

		ev->flags = bit_flags(m, a[2], f, ARRAY_SIZE(f));
		if (a[2] & AT_REMOVEDIR)
			ev->kind = ev->refused ? ev->kind : "rmdir";
		break;
	}
	case SYS_renameat2: {
		static const struct flagname f[] = {
			{ 1, "RENAME_NOREPLACE" }, { 2, "RENAME_EXCHANGE" }, { 4, "RENAME_WHITEOUT" },
		};

		ev->flags = bit_flags(m, a[4], f, ARRAY_SIZE(f));
		break;
	}
	case SYS_mkdir: case SYS_chmod: case SYS_fchmod:
		ev->mode = a[1];
		break;
	case SYS_mkdirat: case SYS_fchmodat: case SYS_fchmodat2:
		ev->mode = a[2];
		break;
	case SYS_mknod:
		ev->mode = a[1];
		break;
	case SYS_mknodat:
		ev->mode = a[2];
		break;
	case SYS_memfd_create: {
		static const struct flagname f[] = {
			{ 1, "MFD_CLOEXEC" }, { 2, "MFD_ALLOW_SEALING" }, { 4, "MFD_HUGETLB" },
			{ 8, "MFD_NOEXEC_SEAL" }, { 16, "MFD_EXEC" },
		};

		ev->flags = bit_flags(m, a[1], f, ARRAY_SIZE(f));
		break;
	}
	case SYS_socket:
		ev->family = family_name(m, (int)a[0]);
		ev->sock_type = sock_type_name(m, a[1]);
		ev->protocol = (int)a[2];
		break;
	case SYS_ptrace:
		ev->request = ptrace_request(m, (long)a[0]);
		ev->target_pid = (int)a[1];
		break;
	case SYS_process_vm_readv: case SYS_process_vm_writev:
		ev->target_pid = (int)a[0];
		break;
	case SYS_kill: case SYS_tkill:
		ev->target_pid = (int)a[0];
		ev->signal = signal_name(m, (int)a[1]);
		break;
	case SYS_tgkill:
		ev->target_pid = (int)a[1];
		ev->signal = signal_name(m, (int)a[2]);
		break;
	case SYS_pidfd_send_signal:
		ev->signal = signal_name(m, (int)a[1]);
		break;
	case SYS_prctl:
		ev->request = prctl_option(m, (long)a[0]);
		break;
	case SYS_unshare: {
		static const struct flagname f[] = {
			{ CLONE_NEWNS, "CLONE_NEWNS" }, { CLONE_NEWUTS, "CLONE_NEWUTS" },
			{ CLONE_NEWIPC, "CLONE_NEWIPC" }, { CLONE_NEWUSER, "CLONE_NEWUSER" },
			{ CLONE_NEWPID, "CLONE_NEWPID" }, { CLONE_NEWNET, "CLONE_NEWNET" },
			{ CLONE_NEWCGROUP, "CLONE_NEWCGROUP" }, { CLONE_NEWTIME, "CLONE_NEWTIME" },
			{ CLONE_FILES, "CLONE_FILES" }, { CLONE_FS, "CLONE_FS" },
			{ CLONE_SYSVSEM, "CLONE_SYSVSEM" },
		};

		ev->flags = bit_flags(m, a[0], f, ARRAY_SIZE(f));
		break;
	}
	}
	return true;
}

/* exec: SLOT_PATH filename, SLOT_STR argv, SLOT_DIR cwd, SLOT_FILE exe */
static bool decode_exec(struct monitor *m, const struct ev_record *r, size_t size,
			struct trace_event *ev)
{
	const uint8_t *argv;
	size_t argvlen, n = 0, i = 0;

	if (!slot_str(r, size, SLOT_PATH, &ev->path) || !slot_str(r, size, SLOT_DIR, &ev->cwd) ||
	    !slot_str(r, size, SLOT_FILE, &ev->file) ||
	    !slot_bytes(r, size, SLOT_STR, &argv, &argvlen))
		return false;
	ev->kind = "exec";
	ev->cwd = walked(m, r, SLOT_DIR, ev->cwd, 0);
	ev->file = walked(m, r, SLOT_FILE, ev->file, 2);
	ev->abs = make_abs(m->abs[0], sizeof(m->abs[0]), ev->path, ev->cwd);
	memcpy(m->argbuf, argv ? (const char *)argv : "", argvlen);
	m->argbuf[argvlen] = 0;
	while (i < argvlen && n < ARRAY_SIZE(m->argv) - 1) {
		m->argv[n++] = m->argbuf + i;
		i += strlen(m->argbuf + i) + 1;
	}
	m->argv[n] = NULL;
	ev->argv = m->argv;
	ev->argv_truncated = r->flags & EVF_ARGV_TRUNC;
	if (r->flags & EVF_FILE_VALID) {
		ev->file_valid = true;
		ev->dev = makedev(r->dev >> 20, r->dev & 0xfffff);
		ev->ino = r->ino;
	}
	proc_set_exe(m, r->hpid, ev->file ? ev->file : ev->abs);
	ev->exe = proc_exe(m, r->hpid);
	return true;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct monitor *m = ctx;
	const struct ev_record *r = data;
	struct trace_event ev;
	bool ok = false;

	if (size < sizeof(*r) || sizeof(*r) + r->data_len > size) {
		m->bad_records++;
		return 0;
	}
	if (r->type == EV_REPEAT) {
		struct fold_base *f = *fold_slot(m, r->htid);
		struct ev_record *base;

		if (!f || !r->repeat) {
			debugx(2, "monitor: a repeat count for htid %u without its event", r->htid);
			m->bad_records++;
			return 0;
		}
		/* the folded calls: the same event, at the last one's time */
		base = (struct ev_record *)f->rec;
		base->ts = r->ts;
		base->ts_enter = 0;
		base->repeat = r->repeat;
		base->flags &= ~EVF_FOLD_BASE;
		return handle_record(m, f->rec, f->size);
	}
	if (r->type == EV_SYSCALL && (r->flags & EVF_FOLD_BASE))
		fold_save(m, r, size);
	base_event(m, r, &ev);
	switch (r->type) {
	case EV_SYSCALL:
		ok = decode_syscall(m, r, size, &ev);
		break;
	case EV_EXEC:
		ok = decode_exec(m, r, size, &ev);
		break;
	case EV_FORK:
		ev.kind = "fork";
		ev.child_htid = r->args[0];
		ev.child_hpid = r->args[1];
		ev.child_tid = r->args[2];
		ev.child_pid = r->args[3];
		ev.thread = r->flags & EVF_THREAD;
		if (!ev.thread) {
			const char *exe = proc_exe(m, r->hpid);

			if (exe)
				proc_set_exe(m, ev.child_hpid, exe);
		}
		ok = true;
		break;
	case EV_EXIT:
		ev.kind = "exit";
		ev.thread = r->flags & EVF_THREAD;
		if (WIFSIGNALED((int)r->ret)) {
			ev.signal = signal_name(m, WTERMSIG((int)r->ret));
			ev.core_dumped = WCOREDUMP((int)r->ret);
		} else {
			ev.exit_code = WEXITSTATUS((int)r->ret);
		}
		ok = true;
		break;
	}
	if (!ok) {
		debugx(2, "monitor: undecodable record type %u nr %d size %zu data_len %u",
		       r->type, r->nr, size, r->data_len);
		m->bad_records++;
		return 0;
	}
	m->events++;
	if (m->trace)
		trace_write_event(m->trace, &ev);
	if (m->on_event)
		m->on_event(&ev, m->ctx);
	/* Forget a process when its last task is gone (after the callbacks). */
	if (r->type == EV_EXIT && !ev.thread)
		proc_drop(m, r->hpid);
	if (r->type == EV_EXIT)
		fold_drop(m, r->htid);
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------- */

static void fill_specs(struct monitor *m, struct monitor_bpf *skel)
{
	for (size_t i = 0; i < ARRAY_SIZE(sc_defs); i++) {
		int nr = sc_defs[i].nr;

		if (nr < 0 || nr >= SC_NR_MAX)
			continue;
		memcpy((void *)&skel->rodata->specs[nr], &sc_defs[i].spec, sizeof(struct sc_spec));
		m->kind_of[nr] = sc_defs[i].kind;
	}
	for (int nr = 0; nr < SC_NR_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		m->name_of[nr] = name;  /* NULL for holes; freed in monitor_close */
	}
}

static bool pow2(unsigned long x)
{
	return x && !(x & (x - 1));
}

int monitor_cgroup_id(const char *cgroup_dir, uint64_t *id)
{
	struct stat st;

	if (stat(cgroup_dir, &st) < 0)
		return -1;
	*id = st.st_ino;
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || pj_verbose >= 2)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* -vvv: the verifier's own statistics per program (time, instructions
 * processed, states), to see what the load time is spent on. */
#define VSTAT_LOG 4096
static char *verifier_stats_setup(struct monitor_bpf *skel)
{
	struct bpf_program *prog;
	char *logs;
	size_t i = 0, n = 0;

	if (pj_verbose < 3)
		return NULL;
	bpf_object__for_each_program(prog, skel->obj)
		n++;
	logs = xcalloc(n, VSTAT_LOG);
	bpf_object__for_each_program(prog, skel->obj) {
		bpf_program__set_log_level(prog, 4 /* BPF_LOG_STATS */);
		bpf_program__set_log_buf(prog, logs + i++ * VSTAT_LOG, VSTAT_LOG);
	}
	return logs;
}

static void verifier_stats_print(struct monitor_bpf *skel, char *logs)
{
	struct bpf_program *prog;
	size_t i = 0;

	if (!logs)
		return;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *l = logs + i++ * VSTAT_LOG, *t = strstr(l, "verification time"),
			   *pr = strstr(l, "processed");

		debugx(3, "monitor: %-14s %.*s; %.*s", bpf_program__name(prog),
		       t ? (int)strcspn(t, "\n") : 0, t ? t : "",
		       pr ? (int)strcspn(pr, "\n") : 0, pr ? pr : "");
	}
	free(logs);
}

int monitor_load(struct monitor **out, const struct monitor_opts *opts, char *err, size_t errlen)
{
	struct monitor *m = NULL;
	unsigned long bytes;
	uint64_t t0 = now_ns();
	char *vlogs;
	int e;

	*out = NULL;
	if (!opts->cgroup_id) {
		snprintf(err, errlen, "monitor: no cgroup id given");
		return -1;
	}
	bytes = opts->buffer_bytes ? opts->buffer_bytes
				   : (unsigned long)(opts->buffer_mb ? opts->buffer_mb
								     : MONITOR_DEFAULT_BUFFER_MB) << 20;
	if (!pow2(bytes) || bytes < (unsigned long)sysconf(_SC_PAGESIZE)) {
		snprintf(err, errlen, "monitor: ring buffer size %lu is not a power of two of at least a page",
			 bytes);
		return -1;
	}
	libbpf_set_print(libbpf_quiet);

	m = xcalloc(1, sizeof(*m));
	m->t_start = t0;
	m->buffer_bytes = bytes;
	m->cgroup_id = opts->cgroup_id;
	m->trace = opts->trace;
	m->on_event = opts->on_event;
	m->ctx = opts->ctx;

	m->skel = monitor_bpf__open();
	if (!m->skel) {
		snprintf(err, errlen, "monitor: cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	m->skel->rodata->target_cgid = opts->cgroup_id;
	m->skel->rodata->wakeup_bytes = bytes / 4 < (2u << 20) ? bytes / 4 : (2u << 20);
	fill_specs(m, m->skel);
	e = bpf_map__set_max_entries(m->skel->maps.events, bytes);
	if (e) {
		snprintf(err, errlen, "monitor: cannot size the ring buffer: %s", strerror(-e));
		goto fail;
	}
	vlogs = verifier_stats_setup(m->skel);
	m->t_open = now_ns();
	e = monitor_bpf__load(m->skel);
	m->t_load = now_ns();
	verifier_stats_print(m->skel, vlogs);
	if (e) {
		snprintf(err, errlen,
			 "monitor: cannot load the BPF programs (tp_btf, task storage, ring buffer needed; "
			 "run with -vv for the verifier log): %s", strerror(-e));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	monitor_close(m);
	return -1;
}

/* The jail's init was cloned into the cgroup before the programs were
 * attached: pj_fork did not see it.  Give it the marks pj_fork gives a task
 * entering the cgroup from outside (pipjail's own, the init, its fork
 * shown), now, before anything is attached that could record its calls;
 * monitor_attach then delivers the fork record pj_fork would have sent.
 * Safe: the init runs only pipjail's code until it is sent a command, and
 * the command is sent only after monitor_attach. */
int monitor_adopt_init(struct monitor *m, int init_pidfd, pid_t init, uint64_t fork_ts)
{
	struct pending *p;
	int e;

	if (bpf_map__value_size(m->skel->maps.pend) != sizeof(*p)) {
		errno = EPROTO;  /* include/events.h and the object disagree: a build bug */
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->pj = PJ_OWN | PJ_INIT | PJ_SHOWN;
	e = bpf_map_update_elem(bpf_map__fd(m->skel->maps.pend), &init_pidfd, p, BPF_NOEXIST);
	free(p);
	if (e < 0)
		return -1;
	m->init_fork = (struct ev_record){
		.type = EV_FORK, .ts = fork_ts, .nr = -1,
		.uid = getuid(), .gid = getgid(),
		.htid = (uint32_t)gettid(), .hpid = (uint32_t)getpid(), .hppid = (uint32_t)getppid(),
		/* the supervisor is outside the init's pid namespace: pid 0 there */
		.args = { (uint64_t)init, (uint64_t)init, 1, 1 },
	};
	prctl(PR_GET_NAME, m->init_fork.comm);
	m->adopted = true;
	return 0;
}

int monitor_attach(struct monitor *m, char *err, size_t errlen)
{
	struct timespec rt, mono;
	uint64_t t0 = now_ns(), t_attach;
	int e;

	e = monitor_bpf__attach(m->skel);
	t_attach = now_ns();
	if (e) {
		snprintf(err, errlen, "monitor: cannot attach the tracepoint programs: %s", strerror(-e));
		return -1;
	}
	m->rb = ring_buffer__new(bpf_map__fd(m->skel->maps.events), handle_record, m, NULL);
	if (!m->rb) {
		snprintf(err, errlen, "monitor: cannot set up the ring buffer reader: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	m->wall_offset_ns = ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
	m->load_ns = (m->t_load - m->t_start) + (now_ns() - t0);
	debugx(1, "monitor: loaded and attached in %.1f ms (open %.1f, load and verify %.1f, attach %.1f; "
	       "ring buffer %lu KiB, cgroup %llu)",
	       m->load_ns / 1e6, (m->t_open - m->t_start) / 1e6, (m->t_load - m->t_open) / 1e6,
	       (t_attach - t0) / 1e6, m->buffer_bytes >> 10,
	       (unsigned long long)m->cgroup_id);
	if (m->adopted)
		handle_record(m, &m->init_fork, sizeof(m->init_fork));
	return 0;
}

int monitor_open(struct monitor **out, const struct monitor_opts *opts, char *err, size_t errlen)
{
	if (monitor_load(out, opts, err, errlen) < 0)
		return -1;
	if (monitor_attach(*out, err, errlen) < 0) {
		monitor_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

uint64_t monitor_load_ns(const struct monitor *m)
{
	return m ? m->load_ns : 0;
}

int monitor_fd(const struct monitor *m)
{
	return ring_buffer__epoll_fd(m->rb);
}

int monitor_consume(struct monitor *m)
{
	uint64_t before = m->events;
	int n;

	if (!m->rb)
		return 0;  /* loaded, never attached: nothing was recorded */
	n = ring_buffer__consume(m->rb);

	if (n < 0) {
		errno = -n;
		return -1;
	}
	return (int)(m->events - before);
}

static int prog_info(const struct bpf_program *p, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
#if LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 2)
	return bpf_prog_get_info_by_fd(bpf_program__fd(p), info, &len);
#else
	return bpf_obj_get_info_by_fd(bpf_program__fd(p), info, &len);
#endif
}

void monitor_stats(const struct monitor *m, struct monitor_stats *st)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_program *p;

	memset(st, 0, sizeof(*st));
	st->events = m->events;
	st->bad_records = m->bad_records;
	st->load_ns = m->load_ns;
	if (ncpu <= 0)
		return;
	uint64_t vals[ncpu];
	for (__u32 k = 0; k < CNT_N; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.drops), &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		if (k < CNT_LOST_N)
			st->lost += sum;
		switch (k) {
		case CNT_RINGBUF_FULL: st->lost_ringbuf = sum; break;
		case CNT_SUPPRESSED: st->suppressed = sum; break;
		case CNT_KILLS: st->kills = sum; break;
		case CNT_FOLDED: st->folded = sum; break;
		}
	}
	bpf_object__for_each_program(p, m->skel->obj) {
		struct bpf_prog_info info;

		if (prog_info(p, &info))
			continue;
		st->lost += info.recursion_misses;
		st->bpf_run_ns += info.run_time_ns;
		st->bpf_run_cnt += info.run_cnt;
	}
}

/* ---- kernel rules ------------------------------------------------------------ */

/* The kernel's dev_t encoding (s_dev: major << 20 | minor) of a stat. */
static struct pj_inode inode_key(const struct stat *st)
{
	struct pj_inode k = {
		.dev = ((uint64_t)major(st->st_dev) << 20) | minor(st->st_dev),
		.ino = st->st_ino,
	};

	return k;
}

static int rule_add(struct monitor *m, struct bpf_map *map, __u32 *count, const char *path,
		    bool want_exec)
{
	struct stat st;
	struct pj_inode k;
	__u32 one = 1;

	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || (want_exec && !(st.st_mode & 0111))) {
		errno = want_exec ? EACCES : EINVAL;
		return -1;
	}
	k = inode_key(&st);
	if (bpf_map_update_elem(bpf_map__fd(map), &k, &one, BPF_NOEXIST) < 0) {
		if (errno == EEXIST)
			return 0;
		return -1;
	}
	/* the count lets the programs skip the lookup while a map is empty */
	__atomic_add_fetch(count, 1, __ATOMIC_SEQ_CST);
	debugx(1, "monitor: %s %s (dev %llu:%llu ino %llu)", want_exec ? "deny exec of" : "pip only:",
	       path, (unsigned long long)major(st.st_dev), (unsigned long long)minor(st.st_dev),
	       (unsigned long long)st.st_ino);
	(void)m;
	return 0;
}

int monitor_protect_path(struct monitor *m, const char *path)
{
	return rule_add(m, m->skel->maps.pip_only, &m->skel->bss->n_pip_only, path, false);
}

int monitor_deny_exec(struct monitor *m, const char *path)
{
	return rule_add(m, m->skel->maps.denied_exec, &m->skel->bss->n_denied_exec, path, true);
}

int monitor_set_enforce(struct monitor *m, bool on)
{
	__atomic_store_n(&m->skel->bss->enforce, on ? 1 : 0, __ATOMIC_SEQ_CST);
	return 0;
}

int monitor_set_trusted(struct monitor *m, pid_t hpid, bool trusted)
{
	__u32 key = (__u32)hpid, val = trusted;

	if (hpid <= 0) {
		errno = EINVAL;
		return -1;
	}
	return bpf_map_update_elem(bpf_map__fd(m->skel->maps.trust_set), &key, &val, BPF_ANY) < 0 ? -1 : 0;
}

void monitor_close(struct monitor *m)
{
	if (!m)
		return;
	ring_buffer__free(m->rb);
	monitor_bpf__destroy(m->skel);
	for (int i = 0; i < SC_NR_MAX; i++)
		free(m->name_of[i]);
	for (int i = 0; i < PROC_BUCKETS; i++) {
		while (m->folds[i]) {
			struct fold_base *f = m->folds[i];

			m->folds[i] = f->next;
			free(f);
		}
		while (m->procs[i]) {
			struct proc *p = m->procs[i];

			m->procs[i] = p->next;
			free(p->exe);
			free(p);
		}
	}
	free(m);
}
