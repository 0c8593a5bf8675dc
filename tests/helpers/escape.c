/* escape: try one operation that the jail must refuse, for real, and say
 * what happened.  Run inside the jail by the tests (and outside as a
 * control).
 *
 *   escape SUBCOMMAND [ARGS]      escape list
 *
 * Prints one line "NAME: refused (ERRNO)", "NAME: ALLOWED" or
 * "NAME: NOT REFUSED (ERRNO)" (the call got past every permission check and
 * failed later on purpose-made bad arguments: the jail did not stop it), and
 * exits 0 refused, 1 allowed / not refused, 2 usage, 3 could not tell (the
 * set-up failed, or no terminal to try on).
 *
 * Calls that would do harm if allowed are made with arguments that fail
 * *after* the kernel's permission checks (kexec, init_module), so that the
 * helper is safe to run as root outside a jail. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/userfaultfd.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

enum { REFUSED = 0, ALLOWED = 1, USAGE = 2, UNKNOWN = 3 };

static const char *cmd_name;

static int refused(int err)
{
	printf("%s: refused (%s)\n", cmd_name, strerrorname_np(err) ? strerrorname_np(err) : "?");
	return REFUSED;
}

static int allowed(const char *detail)
{
	if (detail)
		printf("%s: ALLOWED (%s)\n", cmd_name, detail);
	else
		printf("%s: ALLOWED\n", cmd_name);
	return ALLOWED;
}

static int unknown(const char *why, int err)
{
	printf("%s: cannot tell: %s%s%s\n", cmd_name, why, err ? ": " : "",
	       err ? strerror(err) : "");
	return UNKNOWN;
}

/* For a call that may fail after the permission checks: a permission error
 * is a refusal, any other error means the jail let it through. */
static int judge(long rc, int err)
{
	if (rc >= 0)
		return allowed(NULL);
	if (err == EPERM || err == EACCES || err == ENOSYS)
		return refused(err);
	printf("%s: NOT REFUSED (%s)\n", cmd_name, strerrorname_np(err) ? strerrorname_np(err) : "?");
	return ALLOWED;
}

/* A child that waits to be killed: a target in our own jail. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int do_ptrace(int argc, char **argv)
{
	pid_t pid = argc > 0 ? (pid_t)atoi(argv[0]) : spawn_sleeper();
	long rc;
	int err;

	if (pid <= 0)
		return unknown("fork", errno);
	rc = syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, pid, 0, 0);
	err = errno;
	if (argc == 0)
		reap(pid);
	else if (rc == 0)
		syscall(SYS_ptrace, 17 /* PTRACE_DETACH */, pid, 0, 0);
	return rc == 0 ? allowed(NULL) : refused(err);
}

static int do_process_vm(int argc, char **argv)
{
	static volatile char secret[16] = "child-memory";
	char buf[16];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)secret, sizeof(buf) };
	pid_t pid = spawn_sleeper();
	ssize_t n;
	int err;

	(void)argc, (void)argv;
	if (pid < 0)
		return unknown("fork", errno);
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	err = errno;
	reap(pid);
	return n >= 0 ? allowed(NULL) : refused(err);
}

static int do_mount(int argc, char **argv)
{
	char dir[] = "/tmp/escape-mount-XXXXXX";
	const char *target = mkdtemp(dir) ? dir : "/tmp";
	int rc, err;

	(void)argc, (void)argv;
	rc = mount("escape", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k");
	err = errno;
	if (rc == 0)
		umount2(target, MNT_DETACH);
	if (target == dir)
		rmdir(dir);
	return rc == 0 ? allowed(NULL) : refused(err);
}

static int do_fsopen(int argc, char **argv)
{
	long fd;
	int err;

	(void)argc, (void)argv;
	fd = syscall(430 /* fsopen */, "tmpfs", 0);
	err = errno;
	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? allowed(NULL) : refused(err);
}

static int do_unshare(int argc, char **argv)
{
	int rc;

	(void)argc, (void)argv;
	/* A user namespace is the one an unprivileged process can normally
	 * get, and inside it every capability: the step that matters. */
	rc = unshare(CLONE_NEWUSER);
	return rc == 0 ? allowed("CLONE_NEWUSER") : refused(errno);
}

static int do_clone_newuser(int argc, char **argv)
{
	long pid;
	int err;

	(void)argc, (void)argv;
	pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	err = errno;
	if (pid > 0) {
		waitpid((pid_t)pid, NULL, 0);
		return allowed("CLONE_NEWUSER");
	}
	return refused(err);
}

static int do_clone3(int argc, char **argv)
{
	uint64_t args[11] = { 0 };   /* struct clone_args, version 2 */
	long pid;
	int err;

	(void)argc, (void)argv;
	args[4] = SIGCHLD;           /* exit_signal */
	pid = syscall(__NR_clone3, args, sizeof(args));
	if (pid == 0)
		_exit(0);
	err = errno;
	if (pid > 0) {
		waitpid((pid_t)pid, NULL, 0);
		return allowed(NULL);
	}
	return refused(err);
}

static int do_setns(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/proc/self/ns/net";
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc, err;

	if (fd < 0)
		return unknown(path, errno);
	rc = setns(fd, 0);
	err = errno;
	close(fd);
	return rc == 0 ? allowed(path) : refused(err);
}

static int do_chroot(int argc, char **argv)
{
	(void)argc, (void)argv;
	return chroot("/") == 0 ? allowed(NULL) : refused(errno);
}

static int do_bpf(int argc, char **argv)
{
	union bpf_attr attr;
	long fd;
	int err;

	(void)argc, (void)argv;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	err = errno;
	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? allowed(NULL) : refused(err);
}

static int do_perf(int argc, char **argv)
{
	struct perf_event_attr attr;
	long fd;
	int err;

	(void)argc, (void)argv;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.disabled = 1;
	attr.exclude_kernel = 1;
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	err = errno;
	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? allowed(NULL) : refused(err);
}

static int do_io_uring(int argc, char **argv)
{
	char params[120];   /* struct io_uring_params */
	long fd;
	int err;

	(void)argc, (void)argv;
	memset(params, 0, sizeof(params));
	fd = syscall(__NR_io_uring_setup, 4, params);
	err = errno;
	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? allowed(NULL) : refused(err);
}

/* Run fn in a child; a child killed by SIGSYS is the refusal we expect. */
static int in_child_expect_sigsys(long (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return unknown("fork", errno);
	if (pid == 0) {
		long rc = fn();
		_exit(rc < 0 ? 10 : 11);
	}
	if (waitpid(pid, &status, 0) < 0)
		return unknown("waitpid", errno);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		printf("%s: refused (killed by SIGSYS)\n", cmd_name);
		return REFUSED;
	}
	if (WIFSIGNALED(status)) {
		printf("%s: cannot tell: killed by %s\n", cmd_name, sigabbrev_np(WTERMSIG(status)));
		return UNKNOWN;
	}
	if (WEXITSTATUS(status) == 11)
		return allowed("the call ran");
	/* The kernel itself refused it (no ia32/x32 support): not the filter. */
	printf("%s: NOT REFUSED (the process survived; the kernel returned an error)\n", cmd_name);
	return ALLOWED;
}

static long int80_getpid(void)
{
	long ret;

	/* i386 getpid is 20.  The 32-bit entry clobbers r8-r11. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static long x32_getpid(void)
{
	/* x32 getpid: the x86_64 number with __X32_SYSCALL_BIT. */
	return syscall(__X32_SYSCALL_BIT | SYS_getpid);
}

static int do_int80(int argc, char **argv)
{
	(void)argc, (void)argv;
	return in_child_expect_sigsys(int80_getpid);
}

static int do_x32(int argc, char **argv)
{
	(void)argc, (void)argv;
	return in_child_expect_sigsys(x32_getpid);
}

/* A terminal to try on: fd 0 when it is one, else /dev/tty, else fd 0
 * anyway (the filter refuses by request number, whatever the fd). */
static int terminal_fd(int *opened)
{
	int fd;

	*opened = -1;
	if (isatty(0))
		return 0;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		return *opened = fd;
	return 0;
}

static int try_ioctl(unsigned long request, void *arg)
{
	int opened, fd = terminal_fd(&opened);
	long rc;
	int err;

	rc = syscall(SYS_ioctl, fd, request, arg);
	err = errno;
	if (opened >= 0)
		close(opened);
	if (rc == 0)
		return allowed(NULL);
	if (err == EPERM || err == EACCES || err == ENOSYS)
		return refused(err);
	return unknown("not refused, but no terminal to act on", err);
}

static int do_tiocsti(int argc, char **argv)
{
	char c = '#';

	(void)argc, (void)argv;
	return try_ioctl(TIOCSTI, &c);
}

/* The kernel reads the request as an unsigned int: a filter that compares
 * all 64 bits would miss this one. */
static int do_tiocsti_hibit(int argc, char **argv)
{
	char c = '#';

	(void)argc, (void)argv;
	return try_ioctl((1UL << 32) | TIOCSTI, &c);
}

static int do_tioclinux(int argc, char **argv)
{
	char subcode = 6;   /* TIOCL_GETSHIFTSTATE: reads only */

	(void)argc, (void)argv;
	return try_ioctl(TIOCLINUX, &subcode);
}

static int do_keyctl(int argc, char **argv)
{
	long id;

	(void)argc, (void)argv;
	id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
	return id >= 0 ? allowed(NULL) : refused(errno);
}

static int do_userfaultfd(int argc, char **argv)
{
	long fd;
	int err;

	(void)argc, (void)argv;
	fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	err = errno;
	if (fd >= 0)
		close((int)fd);
	return fd >= 0 ? allowed(NULL) : refused(err);
}

static int do_personality(int argc, char **argv)
{
	long old, rc;
	int err;

	(void)argc, (void)argv;
	old = syscall(SYS_personality, 0xffffffffUL);
	if (old < 0)
		return unknown("personality query refused", errno);
	rc = syscall(SYS_personality, (unsigned long)old | ADDR_NO_RANDOMIZE);
	err = errno;
	if (rc < 0)
		return refused(err);
	syscall(SYS_personality, (unsigned long)old);
	return allowed("ADDR_NO_RANDOMIZE");
}

static int do_open_by_handle_at(int argc, char **argv)
{
	struct {
		struct file_handle fh;
		unsigned char data[MAX_HANDLE_SZ];
	} h;
	int mount_id, fd, err;

	(void)argc, (void)argv;
	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	/* A real handle when the filesystem gives one; a zeroed one otherwise
	 * still shows whether the permission check refuses the call. */
	if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0) {
		memset(&h, 0, sizeof(h));
		h.fh.handle_bytes = 8;
	}
	fd = open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY | O_CLOEXEC);
	err = errno;
	if (fd >= 0) {
		close(fd);
		return allowed(NULL);
	}
	return judge(-1, err);
}

static int do_kexec(int argc, char **argv)
{
	long rc;

	(void)argc, (void)argv;
	/* 1000 segments is over KEXEC_SEGMENT_MAX: EINVAL after the checks. */
	rc = syscall(SYS_kexec_load, 0UL, 1000UL, NULL, 0UL);
	return judge(rc, errno);
}

static int do_init_module(int argc, char **argv)
{
	long rc;

	(void)argc, (void)argv;
	/* An empty image: EINVAL/ENOEXEC after the checks. */
	rc = syscall(SYS_init_module, "", 0UL, "");
	return judge(rc, errno);
}

static int do_write(int argc, char **argv)
{
	static const char line[] = "written by pipjail's escape helper\n";
	int fd, err;

	if (argc != 1)
		return USAGE;
	fd = open(argv[0], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return refused(errno);
	if (write(fd, line, sizeof(line) - 1) != (ssize_t)(sizeof(line) - 1)) {
		err = errno;
		close(fd);
		return refused(err);
	}
	close(fd);
	return allowed(argv[0]);
}

static int do_read(int argc, char **argv)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if (argc != 1)
		return USAGE;
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return refused(errno);
	allowed(argv[0]);
	fflush(stdout);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			break;
	close(fd);
	return ALLOWED;
}

/* Numeric addresses only: the helper never asks a resolver. */
static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char *end;
	long p = strtol(port, &end, 10);

	if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static int do_connect(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t len, elen = sizeof(int);
	int fd, err = 0;

	if (argc != 2 || parse_addr(argv[0], argv[1], &ss, &len) < 0)
		return USAGE;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return refused(errno);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		err = errno;
		if (err == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 5000) <= 0)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				err = errno;
		}
	}
	close(fd);
	return err ? refused(err) : allowed(NULL);
}

static int do_bind(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rc, err;

	if (argc != 1 || parse_addr("127.0.0.1", argv[0], &ss, &len) < 0)
		return USAGE;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return refused(errno);
	rc = bind(fd, (struct sockaddr *)&ss, len);
	err = errno;
	if (rc == 0 && listen(fd, 1) < 0) {
		rc = -1;
		err = errno;
	}
	close(fd);
	return rc == 0 ? allowed(NULL) : refused(err);
}

static int do_signal(int argc, char **argv)
{
	long pid, sig = 0;
	char *end;

	if (argc < 1 || argc > 2)
		return USAGE;
	pid = strtol(argv[0], &end, 10);
	if (*argv[0] == '\0' || *end != '\0' || pid <= 0)
		return USAGE;
	if (argc == 2) {
		sig = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || sig < 0 || sig >= NSIG)
			return USAGE;
	}
	return kill((pid_t)pid, (int)sig) == 0 ? allowed(NULL) : refused(errno);
}

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
};

static const struct subcommand subcommands[] = {
	{ "ptrace", do_ptrace, "[PID]" },
	{ "process_vm", do_process_vm, "" },
	{ "mount", do_mount, "" },
	{ "fsopen", do_fsopen, "" },
	{ "unshare", do_unshare, "" },
	{ "clone_newuser", do_clone_newuser, "" },
	{ "clone3", do_clone3, "" },
	{ "setns", do_setns, "[NSFILE]" },
	{ "chroot", do_chroot, "" },
	{ "bpf", do_bpf, "" },
	{ "perf", do_perf, "" },
	{ "io_uring", do_io_uring, "" },
	{ "int80", do_int80, "" },
	{ "x32", do_x32, "" },
	{ "tiocsti", do_tiocsti, "" },
	{ "tiocsti_hibit", do_tiocsti_hibit, "" },
	{ "tioclinux", do_tioclinux, "" },
	{ "keyctl", do_keyctl, "" },
	{ "userfaultfd", do_userfaultfd, "" },
	{ "personality", do_personality, "" },
	{ "open_by_handle_at", do_open_by_handle_at, "" },
	{ "kexec", do_kexec, "" },
	{ "init_module", do_init_module, "" },
	{ "write", do_write, "PATH" },
	{ "read", do_read, "PATH" },
	{ "connect", do_connect, "HOST PORT" },
	{ "bind", do_bind, "PORT" },
	{ "signal", do_signal, "PID [SIG]" },
};

static int usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: escape SUBCOMMAND [ARGS]\n"
		   "exit: 0 refused, 1 allowed, 2 usage, 3 cannot tell\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %s %s\n", subcommands[i].name, subcommands[i].args);
	return USAGE;
}

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name) != 0)
			continue;
		cmd_name = subcommands[i].name;
		rc = subcommands[i].fn(argc - 2, argv + 2);
		if (rc == USAGE)
			fprintf(stderr, "usage: escape %s %s\n", cmd_name, subcommands[i].args);
		return rc;
	}
	fprintf(stderr, "escape: unknown subcommand '%s'\n", argv[1]);
	return usage(stderr);
}
