/* Decoding the monitor's records into events (see decode.h): a record's
 * lengths and offsets are checked against the record's size before any
 * string or byte slot is used; raw numbers (flags, families, signals,
 * requests) become their names. */
#include "observe/decode.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <seccomp.h>

#include "observe/monitor_sysnr.h"
#include "observe/plan.h"
#include "base/base.h"

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

/* The names of the bits of f that names[] knows, "|"-separated after first
 * (NULL: none), then what is left as a hex number; NULL when empty. */
static const char *flag_names(struct decoder *d, unsigned long f, const struct flagname *names,
			      size_t n, const char *first)
{
	char *b = d->flags;

	b[0] = 0;
	if (first)
		append(b, sizeof(d->flags), first);
	for (size_t i = 0; i < n; i++) {
		/* a bit of 0 is always named: O_LARGEFILE is 0 in x86-64's
		 * headers, and every open's flags have always said O_LARGEFILE */
		if ((f & names[i].bit) == names[i].bit) {
			append(b, sizeof(d->flags), names[i].name);
			f &= ~names[i].bit;
		}
	}
	if (f) {
		char extra[32];

		snprintf(extra, sizeof(extra), "0x%lx", f);
		append(b, sizeof(d->flags), extra);
	}
	return b[0] ? b : NULL;
}

/* open(2) flags: the access mode first (none for O_PATH). */
static const char *open_flags(struct decoder *d, unsigned long f)
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

	return flag_names(d, f & ~(unsigned long)O_ACCMODE, names, ARRAY_SIZE(names),
			  f & O_PATH ? NULL : acc[f & O_ACCMODE]);
}

static const char *family_name(struct decoder *d, int fam)
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
	snprintf(d->family, sizeof(d->family), "AF_%d", fam);
	return d->family;
}

static const char *sock_type_name(struct decoder *d, unsigned long type)
{
	static const char *const names[] = {
		[SOCK_STREAM] = "SOCK_STREAM", [SOCK_DGRAM] = "SOCK_DGRAM", [SOCK_RAW] = "SOCK_RAW",
		[SOCK_RDM] = "SOCK_RDM", [SOCK_SEQPACKET] = "SOCK_SEQPACKET",
		[SOCK_DCCP] = "SOCK_DCCP", [SOCK_PACKET] = "SOCK_PACKET",
	};
	unsigned long base = type & 0xf;

	if (base < ARRAY_SIZE(names) && names[base])
		snprintf(d->socktype, sizeof(d->socktype), "%s", names[base]);
	else
		snprintf(d->socktype, sizeof(d->socktype), "%lu", base);
	if (type & SOCK_NONBLOCK)
		append(d->socktype, sizeof(d->socktype), "SOCK_NONBLOCK");
	if (type & SOCK_CLOEXEC)
		append(d->socktype, sizeof(d->socktype), "SOCK_CLOEXEC");
	return d->socktype;
}

static const char *signal_name(struct decoder *d, int sig)
{
	const char *abbrev = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;

	if (sig == 0)
		return "0";
	if (abbrev)
		snprintf(d->sig, sizeof(d->sig), "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(d->sig, sizeof(d->sig), "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(d->sig, sizeof(d->sig), "%d", sig);
	return d->sig;
}

struct valname {
	long value;
	const char *name;
};

/* The name of value in names[], else the number. */
static const char *value_name(struct decoder *d, const struct valname *names, size_t n, long value)
{
	for (size_t i = 0; i < n; i++)
		if (names[i].value == value)
			return names[i].name;
	snprintf(d->request, sizeof(d->request), "%ld", value);
	return d->request;
}

static const struct valname ptrace_requests[] = {
	{ 0, "PTRACE_TRACEME" }, { 1, "PTRACE_PEEKTEXT" }, { 2, "PTRACE_PEEKDATA" },
	{ 3, "PTRACE_PEEKUSER" }, { 4, "PTRACE_POKETEXT" }, { 5, "PTRACE_POKEDATA" },
	{ 6, "PTRACE_POKEUSER" }, { 7, "PTRACE_CONT" }, { 8, "PTRACE_KILL" },
	{ 9, "PTRACE_SINGLESTEP" }, { 12, "PTRACE_GETREGS" }, { 13, "PTRACE_SETREGS" },
	{ 16, "PTRACE_ATTACH" }, { 17, "PTRACE_DETACH" }, { 24, "PTRACE_SYSCALL" },
	{ 0x4200, "PTRACE_SETOPTIONS" }, { 0x4206, "PTRACE_SEIZE" },
	{ 0x4207, "PTRACE_INTERRUPT" }, { 0x4208, "PTRACE_LISTEN" },
};

static const struct valname prctl_options[] = {
	{ 1, "PR_SET_PDEATHSIG" }, { 4, "PR_SET_DUMPABLE" }, { 8, "PR_SET_KEEPCAPS" },
	{ 15, "PR_SET_NAME" }, { 16, "PR_GET_NAME" }, { 22, "PR_SET_SECCOMP" },
	{ 24, "PR_CAPBSET_DROP" }, { 35, "PR_SET_MM" }, { 36, "PR_SET_CHILD_SUBREAPER" },
	{ 38, "PR_SET_NO_NEW_PRIVS" }, { 47, "PR_CAP_AMBIENT" }, { 0x59616d61, "PR_SET_PTRACER" },
};

/* path made absolute against dir (the cwd or the dirfd's directory, as
 * resolved in the kernel), cleaned lexically into buf; NULL when there is
 * no absolute answer: no path, a relative path without a directory (the
 * dirfd was a pipe, a socket, an anon inode, a directory outside the
 * jail's root), or one longer than buf.  Never a name that is not a path. */
static const char *make_abs(char *buf, size_t len, const char *path, const char *dir)
{
	if (!path)
		return NULL;
	if (path[0] != '/' && dir && !path[0])
		path = dir;                      /* AT_EMPTY_PATH: the dirfd itself */
	return path_clean_abs(buf, len, dir, path) == 0 ? buf : NULL;
}

/* The queried name of a DNS message (plain, or TCP with its 2-byte length). */
static bool dns_parse_at(struct decoder *d, const uint8_t *p, size_t n)
{
	size_t i = 12, o = 0;

	if (n < 12 + 5 || (p[4] << 8 | p[5]) == 0)
		return false;
	while (i < n && p[i]) {
		size_t l = p[i++];

		if (l > 63 || i + l > n)
			return false;
		if (o)
			d->dns[o++] = '.';
		for (size_t k = 0; k < l; k++) {
			uint8_t c = p[i + k];

			if (o + 5 >= sizeof(d->dns))
				return false;
			if (c > 0x20 && c < 0x7f && c != '.' && c != '\\')
				d->dns[o++] = c;
			else
				o += snprintf(d->dns + o, 5, "\\%03u", c);
		}
		i += l;
	}
	if (i + 3 > n)
		return false;
	d->dns[o] = 0;
	if (!o)
		strcpy(d->dns, ".");
	unsigned qt = p[i + 1] << 8 | p[i + 2];
	switch (qt) {
	case 1: strcpy(d->qtype, "A"); break;
	case 2: strcpy(d->qtype, "NS"); break;
	case 5: strcpy(d->qtype, "CNAME"); break;
	case 12: strcpy(d->qtype, "PTR"); break;
	case 15: strcpy(d->qtype, "MX"); break;
	case 16: strcpy(d->qtype, "TXT"); break;
	case 28: strcpy(d->qtype, "AAAA"); break;
	case 33: strcpy(d->qtype, "SRV"); break;
	case 65: strcpy(d->qtype, "HTTPS"); break;
	case 255: strcpy(d->qtype, "ANY"); break;
	default: snprintf(d->qtype, sizeof(d->qtype), "%u", qt);
	}
	return true;
}

static void decode_dns(struct decoder *d, struct trace_event *ev, const uint8_t *p, size_t n)
{
	if (dns_parse_at(d, p, n) || (n > 2 && dns_parse_at(d, p + 2, n - 2))) {
		ev->dns_query = d->dns;
		ev->dns_qtype = d->qtype;
	}
}

static void decode_sockaddr(struct decoder *d, struct trace_event *ev, const uint8_t *a, size_t n)
{
	sa_family_t fam;

	if (n < sizeof(fam))
		return;
	memcpy(&fam, a, sizeof(fam));
	ev->family = family_name(d, fam);
	if (fam == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, a, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, d->addr, sizeof(d->addr));
		ev->addr = d->addr;
		ev->port = ntohs(sin.sin_port);
	} else if (fam == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, a, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, d->addr, sizeof(d->addr));
		ev->addr = d->addr;
		ev->port = ntohs(sin6.sin6_port);
	} else if (fam == AF_UNIX) {
		const char *path = (const char *)a + offsetof(struct sockaddr_un, sun_path);
		size_t plen = n - offsetof(struct sockaddr_un, sun_path), o = 0;

		if (plen > 0 && path[0] == 0) {
			/* abstract: "@name", other bytes escaped */
			d->addr[o++] = '@';
			for (size_t i = 1; i < plen && o + 5 < sizeof(d->addr); i++) {
				unsigned char c = path[i];

				if (c >= 0x20 && c < 0x7f && c != '\\')
					d->addr[o++] = c;
				else
					o += snprintf(d->addr + o, 5, "\\x%02x", c);
			}
			d->addr[o] = 0;
		} else {
			/* bounded by the buffer too: a malformed record's slot may be
			 * longer than any sockaddr */
			size_t l = strnlen(path, plen < sizeof(d->addr) ? plen : sizeof(d->addr) - 1);

			memcpy(d->addr, path, l);
			d->addr[l] = 0;
		}
		ev->addr = d->addr;
	}
}

/* ---- record decoding ------------------------------------------------------ */

/* A string slot, or NULL when absent; false when the record is malformed.
 * A NUL inside the slot (the kernel copies strings up to their NUL, so it
 * sends none) cuts the string there, as every reader of it sees it: the
 * event says truncated. */
static bool slot_str(const struct ev_record *r, size_t size, int slot, const char **out,
		     struct trace_event *ev)
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
	if (memchr(*out, 0, len - 1))
		ev->truncated = true;
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
 * walk flags.  A file of no directory (SF_PSEUDO: a pipe, a socket, an anon
 * inode, a memfd) is no path: NULL, and its name as /proc/PID/fd shows it
 * ("pipe:[12]", made in the kernel, bpf/helpers/path.bpf.h: never empty,
 * never starting with '/') goes to *pseudo.  A path outside the task's root gets the "(unreachable)" prefix
 * of getcwd(3).  Any other is absolute (the kernel walks up to a root); a
 * slot that says otherwise makes the record malformed (false). */
static bool walked(struct decoder *d, const struct ev_record *r, int slot, const char **s,
		   int buf, const char **pseudo)
{
	uint8_t f = r->sflags[slot];

	if (!*s)
		return true;
	if (f & SF_PSEUDO) {
		if (!(*s)[0] || (*s)[0] == '/')
			return false;  /* the kernel names it, never like a path */
		if (pseudo && !*pseudo)
			*pseudo = *s;
		*s = NULL;
		return true;
	}
	if ((*s)[0] != '/')
		return false;
	if (f & SF_UNREACH) {
		snprintf(d->walked[buf], sizeof(d->walked[buf]), "(unreachable)%s", *s);
		*s = d->walked[buf];
	}
	return true;
}

static void kernel_rule_fields(const struct ev_record *r, struct trace_event *ev)
{
	if (r->flags & EVF_PIP_ONLY)
		ev->kernel_rule = "pip_only";
	else if (r->flags & EVF_DENIED_EXEC)
		ev->kernel_rule = "denied_exec";
	else if (r->flags & EVF_ENV_WRITE)
		ev->kernel_rule = "env_write";
	ev->killed_in_kernel = r->flags & EVF_KILLED;
	ev->kernel_trusted = r->flags & EVF_TRUSTED;
	ev->repeat = r->repeat;
}

static void base_event(struct decoder *d, const struct ev_record *r, struct trace_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->nr = r->nr;
	ev->t_mono_ns = r->ts;
	ev->t_wall_ns = (int64_t)r->ts + d->wall_offset_ns;
	ev->dur_ns = r->ts_enter && r->ts_enter <= r->ts ? r->ts - r->ts_enter : 0;
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->hpid = r->hpid;
	ev->htid = r->htid;
	ev->hppid = r->hppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
	/* copied: a malformed record's comm may lack its NUL */
	memcpy(d->comm, r->comm, EV_COMM_LEN);
	d->comm[EV_COMM_LEN] = 0;
	ev->comm = d->comm;
	ev->exe = proc_exe(&d->procs, r->hpid);
	ev->mode = -1;
	ev->protocol = -1;
	ev->port = -1;
	ev->target_pid = -1;
	ev->exit_code = -1;
	ev->truncated = r->flags & (EVF_TRUNC | EVF_WALK_TRUNC);
	kernel_rule_fields(r, ev);
}

/* The inode of SLOT_FILE (dev in the kernel's encoding, major << 20 | minor),
 * when SLOT_FILE is a file (not a pipe or another file of no directory). */
static void file_fields(const struct ev_record *r, struct trace_event *ev)
{
	if ((r->flags & EVF_FILE_VALID) && ev->file) {
		ev->file_valid = true;
		ev->dev = makedev(r->dev >> 20, r->dev & 0xfffff);
		ev->ino = r->ino;
	}
}

/* open flags that make the mode argument meaningful */
static bool has_mode(unsigned long flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* The raw arguments of a file call: open flags, modes, the flags of
 * unlinkat, renameat2, memfd_create.  false: not a file call. */
static bool decode_file_args(struct decoder *d, long nr, const __u64 *a, struct trace_event *ev)
{
	switch (nr) {
	case SYS_open:
		ev->flags = open_flags(d, a[1]);
		if (has_mode(a[1]))
			ev->mode = a[2];
		break;
	case SYS_creat:
		ev->flags = open_flags(d, O_CREAT | O_WRONLY | O_TRUNC);
		ev->mode = a[1];
		break;
	case SYS_openat:
		ev->flags = open_flags(d, a[2]);
		if (has_mode(a[2]))
			ev->mode = a[3];
		break;
	case SYS_openat2:  /* the BPF side put how.flags, how.mode in args[3], args[4] */
		ev->flags = open_flags(d, a[3]);
		if (has_mode(a[3]))
			ev->mode = a[4];
		break;
	case SYS_unlinkat: {
		static const struct flagname f[] = { { AT_REMOVEDIR, "AT_REMOVEDIR" } };

		ev->flags = flag_names(d, a[2], f, ARRAY_SIZE(f), NULL);
		if (a[2] & AT_REMOVEDIR)
			ev->kind = ev->refused ? ev->kind : "rmdir";
		break;
	}
	case SYS_renameat2: {
		static const struct flagname f[] = {
			{ 1, "RENAME_NOREPLACE" }, { 2, "RENAME_EXCHANGE" }, { 4, "RENAME_WHITEOUT" },
		};

		ev->flags = flag_names(d, a[4], f, ARRAY_SIZE(f), NULL);
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

		ev->flags = flag_names(d, a[1], f, ARRAY_SIZE(f), NULL);
		break;
	}
	default:
		return false;
	}
	return true;
}

/* What the raw arguments of call nr mean: the file calls' above; sockets,
 * signals and their targets, ptrace and prctl requests, unshare flags. */
static void decode_args(struct decoder *d, long nr, const __u64 *a, struct trace_event *ev)
{
	if (decode_file_args(d, nr, a, ev))
		return;
	switch (nr) {
	case SYS_socket:
		ev->family = family_name(d, (int)a[0]);
		ev->sock_type = sock_type_name(d, a[1]);
		ev->protocol = (int)a[2];
		break;
	case SYS_ptrace:
		ev->request = value_name(d, ptrace_requests, ARRAY_SIZE(ptrace_requests), (long)a[0]);
		ev->target_pid = (int)a[1];
		break;
	case SYS_process_vm_readv: case SYS_process_vm_writev:
		ev->target_pid = (int)a[0];
		break;
	case SYS_kill: case SYS_tkill:
		ev->target_pid = (int)a[0];
		ev->signal = signal_name(d, (int)a[1]);
		break;
	case SYS_tgkill:
		ev->target_pid = (int)a[1];
		ev->signal = signal_name(d, (int)a[2]);
		break;
	case SYS_pidfd_send_signal:
		ev->signal = signal_name(d, (int)a[1]);
		break;
	case SYS_prctl:
		ev->request = value_name(d, prctl_options, ARRAY_SIZE(prctl_options), (long)a[0]);
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

		ev->flags = flag_names(d, a[0], f, ARRAY_SIZE(f), NULL);
		break;
	}
	}
}

static bool decode_syscall(struct decoder *d, const struct ev_record *r, size_t size,
			   struct trace_event *ev)
{
	const char *dir = NULL, *dir2 = NULL, *dir_pseudo = NULL;
	const uint8_t *addr, *payload;
	size_t addrlen, paylen;
	long nr = r->nr;
	bool native = nr >= 0 && nr < SC_NR_MAX && !(r->flags & EVF_COMPAT);
	const char *kind = native ? d->kind_of[nr] : NULL;

	if (!slot_str(r, size, SLOT_PATH, &ev->path, ev) || !slot_str(r, size, SLOT_PATH2, &ev->path2, ev) ||
	    !slot_str(r, size, SLOT_STR, &ev->str, ev) || !slot_str(r, size, SLOT_DIR, &dir, ev) ||
	    !slot_str(r, size, SLOT_DIR2, &dir2, ev) || !slot_str(r, size, SLOT_FILE, &ev->file, ev) ||
	    !slot_bytes(r, size, SLOT_ADDR, &addr, &addrlen) ||
	    !slot_bytes(r, size, SLOT_PAYLOAD, &payload, &paylen))
		return false;

	if (!walked(d, r, SLOT_FILE, &ev->file, 2, &ev->pseudo) ||
	    !walked(d, r, SLOT_DIR, &dir, 0, &dir_pseudo) || !walked(d, r, SLOT_DIR2, &dir2, 1, NULL))
		return false;
	/* AT_EMPTY_PATH on a dirfd of no directory: the call is on that file */
	if (!ev->pseudo && dir_pseudo && ev->path && !ev->path[0])
		ev->pseudo = dir_pseudo;
	ev->refused = r->flags & EVF_REFUSED;
	ev->kind = ev->refused ? "seccomp_refused" : kind ? kind : "syscall";
	ev->syscall = native ? d->name_of[nr] : NULL;
	ev->has_ret = true;
	ev->ret = r->ret;
	ev->write_args = ev->refused || !kind || plan_kind_writes_args(kind);
	memcpy(ev->args, r->args, sizeof(ev->args));
	ev->abs = make_abs(d->abs[0], sizeof(d->abs[0]), ev->path, dir);
	ev->abs2 = make_abs(d->abs[1], sizeof(d->abs[1]), ev->path2, dir2);
	file_fields(r, ev);
	if (addr)
		decode_sockaddr(d, ev, addr, addrlen);
	ev->addr_from_socket = r->flags & EVF_ADDR_SOCK;
	if (payload)
		decode_dns(d, ev, payload, paylen);
	/* the raw arguments by what they mean for this number: a 32-bit call's
	 * number means another call (its args stay raw in the trace) */
	if (native)
		decode_args(d, nr, r->args, ev);
	return true;
}

/* exec: SLOT_PATH filename, SLOT_STR argv, SLOT_DIR cwd, SLOT_FILE exe */
static bool decode_exec(struct decoder *d, const struct ev_record *r, size_t size,
			struct trace_event *ev)
{
	const uint8_t *argv;
	size_t argvlen, n = 0, i = 0;

	if (!slot_str(r, size, SLOT_PATH, &ev->path, ev) || !slot_str(r, size, SLOT_DIR, &ev->cwd, ev) ||
	    !slot_str(r, size, SLOT_FILE, &ev->file, ev) ||
	    !slot_bytes(r, size, SLOT_STR, &argv, &argvlen))
		return false;
	if (argvlen > EV_ARGV_MAX)
		return false;  /* longer than the kernel sends: argbuf holds EV_ARGV_MAX */
	/* the program may be a memfd (fexecve): a name, not a path; a cwd is
	 * always a directory */
	if (!walked(d, r, SLOT_DIR, &ev->cwd, 0, NULL) || !walked(d, r, SLOT_FILE, &ev->file, 2, &ev->pseudo))
		return false;
	ev->kind = "exec";
	ev->abs = make_abs(d->abs[0], sizeof(d->abs[0]), ev->path, ev->cwd);
	memcpy(d->argbuf, argv ? (const char *)argv : "", argvlen);
	d->argbuf[argvlen] = 0;
	while (i < argvlen && n < ARRAY_SIZE(d->argv) - 1) {
		d->argv[n++] = d->argbuf + i;
		i += strlen(d->argbuf + i) + 1;
	}
	d->argv[n] = NULL;
	ev->argv = d->argv;
	ev->argv_truncated = r->flags & EVF_ARGV_TRUNC;
	file_fields(r, ev);
	proc_set_exe(&d->procs, r->hpid, ev->file ? ev->file : ev->pseudo ? ev->pseudo : ev->abs);
	ev->exe = proc_exe(&d->procs, r->hpid);
	return true;
}

/* fork: the child's ids; a new process starts with its parent's exe.
 * What the kernel always says (bpf/programs/sched_fork.bpf.h) is checked,
 * false otherwise: ids are 32-bit (pid_t), a task is never its own child,
 * a thread is in its parent's process, a new process is its own thread
 * group, whose id is neither its parent's nor 0. */
static bool decode_fork(struct decoder *d, const struct ev_record *r, struct trace_event *ev)
{
	for (int i = 0; i < 4; i++)
		if (r->args[i] > UINT32_MAX)
			return false;
	ev->kind = "fork";
	ev->child_htid = (uint32_t)r->args[0];
	ev->child_hpid = (uint32_t)r->args[1];
	ev->child_tid = (uint32_t)r->args[2];
	ev->child_pid = (uint32_t)r->args[3];
	ev->thread = r->flags & EVF_THREAD;
	if (!ev->child_htid || ev->child_htid == r->htid)
		return false;
	if (ev->thread)
		return ev->child_hpid == r->hpid;
	if (ev->child_hpid != ev->child_htid || ev->child_hpid == r->hpid)
		return false;
	const char *exe = proc_exe(&d->procs, r->hpid);

	if (exe)
		proc_set_exe(&d->procs, ev->child_hpid, exe);
	return true;
}

/* exit: ret is the wait status */
static void decode_exit(struct decoder *d, const struct ev_record *r, struct trace_event *ev)
{
	ev->kind = "exit";
	ev->thread = r->flags & EVF_THREAD;
	if (WIFSIGNALED((int)r->ret)) {
		ev->signal = signal_name(d, WTERMSIG((int)r->ret));
		ev->core_dumped = WCOREDUMP((int)r->ret);
	} else {
		ev->exit_code = WEXITSTATUS((int)r->ret);
	}
}

/* A repeat count: the folded calls are the thread's fold base again, at
 * the last one's time.  The count names its base by the base's time
 * (ts_enter: the base's ts, bpf/helpers/fold.bpf.h) and call: when that
 * base was lost (a full ring buffer), an older base of the same thread is
 * not taken for it.  The saved base is kept as it came, for the next
 * count of the same base. */
static int decode_repeat(struct decoder *d, const struct ev_record *r)
{
	size_t size = 0;
	struct ev_record *base = fold_base(&d->folds, r->htid, &size);
	uint64_t ts, ts_enter;
	uint32_t flags, repeat;

	if (!base || !r->repeat || base->ts != r->ts_enter || base->nr != r->nr ||
	    base->hpid != r->hpid) {
		debugx(2, "monitor: a repeat count for htid %u without its event", r->htid);
		d->bad_records++;
		return 0;
	}
	ts = base->ts;
	ts_enter = base->ts_enter;
	flags = base->flags;
	repeat = base->repeat;
	base->ts = r->ts;
	base->ts_enter = 0;
	base->repeat = r->repeat;
	base->flags &= ~EVF_FOLD_BASE;  /* (so that it is not saved again) */
	decode_record(d, base, size);
	base->ts = ts;
	base->ts_enter = ts_enter;
	base->flags = flags;
	base->repeat = repeat;
	return 0;
}

/* The decoded event to the trace and the callback; then forget a process
 * (a thread) when its last task (it) is gone. */
static void deliver(struct decoder *d, const struct ev_record *r, const struct trace_event *ev)
{
	d->events++;
	if (d->trace)
		trace_write_event(d->trace, ev);
	if (d->on_event)
		d->on_event(ev, d->ctx);
	if (r->type == EV_EXIT && !ev->thread)
		proc_drop(&d->procs, r->hpid);
	if (r->type == EV_EXIT)
		fold_drop(&d->folds, r->htid);
}

int decode_record(void *ctx, void *data, size_t size)
{
	struct decoder *d = ctx;
	const struct ev_record *r = data;
	struct trace_event ev;
	bool ok = true;

	/* (a task of the jail has a host id: 0 is the idle task's) */
	if (size < sizeof(*r) || sizeof(*r) + r->data_len > size || !r->hpid || !r->htid) {
		d->bad_records++;
		return 0;
	}
	if (r->type == EV_REPEAT)
		return decode_repeat(d, r);
	base_event(d, r, &ev);
	switch (r->type) {
	case EV_SYSCALL:
		ok = decode_syscall(d, r, size, &ev);
		break;
	case EV_EXEC:
		ok = decode_exec(d, r, size, &ev);
		break;
	case EV_FORK:
		ok = decode_fork(d, r, &ev);
		break;
	case EV_EXIT:
		decode_exit(d, r, &ev);
		break;
	default:
		ok = false;
	}
	if (!ok) {
		debugx(2, "monitor: undecodable record type %u nr %d size %zu data_len %u",
		       r->type, r->nr, size, r->data_len);
		d->bad_records++;
		return 0;
	}
	/* only a record that decoded is a base for later repeat counts */
	if (r->type == EV_SYSCALL && (r->flags & EVF_FOLD_BASE))
		fold_save(&d->folds, r, size);
	deliver(d, r, &ev);
	return 0;
}

void decoder_name_syscalls(struct decoder *d)
{
	for (int nr = 0; nr < SC_NR_MAX; nr++)
		d->name_of[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);  /* NULL for holes */
}

void decoder_fini(struct decoder *d)
{
	for (int i = 0; i < SC_NR_MAX; i++) {
		free(d->name_of[i]);
		d->name_of[i] = NULL;
	}
	procs_clear(&d->procs);
	folds_clear(&d->folds);
}
