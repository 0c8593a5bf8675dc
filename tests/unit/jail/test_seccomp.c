/* seccomp filter tests (root not needed, but run as root by `make check`).
 *
 * Each case runs in a fresh child that installs the real filter.  Two kinds:
 *   - real calls: the refused operation is tried for real and must fail with
 *     the filter's errno; benign twins must work;
 *   - filter decisions: a probe filter installed *before* ours answers
 *     ENOTUNIQ for the calls under test.  The kernel runs every filter and
 *     keeps the strongest action, the newest filter winning a tie, so the
 *     call returns our filter's errno when ours refuses it, and ENOTUNIQ
 *     when ours lets it through.  The call itself never runs: this tests the
 *     decision for calls too dangerous to make for real (kexec, reboot),
 *     and for arguments the kernel would reject anyway on this machine. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "jail/compat.h"
#include "jail/sandbox.h"
#include "../unit.h"
#include "base/base.h"

extern char **environ;

#define PROBE_ERRNO ENOTUNIQ   /* what a call gets when our filter allows it */

/* ---- running a case in a child ---- */

/* Probe filter: ERRNO(PROBE_ERRNO) for the listed native numbers. */
static int install_probe(const long *nrs, size_t n)
{
	struct sock_filter prog[64];
	struct sock_fprog fprog;
	size_t i, k = 0;

	if (n + 5 > ARRAY_SIZE(prog))
		return -1;
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64,
						 0, (unsigned char)(n + 1));
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++)
		prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							 (unsigned int)nrs[i],
							 (unsigned char)(n - i), 0);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						 SECCOMP_RET_ERRNO | PROBE_ERRNO);
	fprog.len = (unsigned short)k;
	fprog.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
}

struct probe {
	const long *nrs;
	size_t n;
};

static bool install_filters(const char *what, void *arg)
{
	const struct probe *pr = arg;
	char err[256];

	if (pr->n && install_probe(pr->nrs, pr->n) < 0) {
		fprintf(stderr, "%s: cannot install the probe filter: %s\n", what, strerror(errno));
		_exit(20);
	}
	if (seccomp_install(err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", what, err);
		_exit(21);
	}
	return true;
}

/* Run fn in a child under our filter (after a probe for probe_nrs when
 * given).  The child's CHECKs are counted here.  Returns the wait status. */
static int run_child(const char *what, const long *probe_nrs, size_t n_probe, void (*fn)(void))
{
	struct probe pr = { probe_nrs, n_probe };

	return unit_in_child(what, install_filters, &pr, fn, NULL);
}

static void expect_clean_exit(const char *what, int status)
{
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s: the child must finish normally (status 0x%x)", what, status);
}

/* ---- 1. real calls that must be refused ---- */

#define EXPECT_ERR(call, want)                                                      \
	do {                                                                        \
		long rc_;                                                           \
		errno = 0;                                                          \
		rc_ = (long)(call);                                                 \
		CHECK(rc_ == -1 && errno == (want), "%s: got %ld (%s), expected %s", \
		      #call, rc_, strerrordesc_np(errno), strerrorname_np(want));  \
	} while (0)

static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/* clone() with raw flags; a child that does get created leaves at once. */
static long raw_clone(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
	int saved;

	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		saved = errno;
		waitpid((pid_t)pid, NULL, 0);
		errno = saved;
	}
	return pid;
}

static void real_refusals(void)
{
	char buf[8], tmpdir[] = "/tmp/test-seccomp-XXXXXX";
	static char secret[8] = "secret";
	struct iovec local = { buf, sizeof(buf) }, remote = { secret, sizeof(buf) };
	uint64_t clone_args[11] = { 0 };
	char params[120] = { 0 };
	pid_t pid;
	int fd;

	pid = sleeper();
	CHECK(pid > 0, "fork under the filter: %s", strerror(errno));
	if (pid > 0) {
		EXPECT_ERR(ptrace(PTRACE_ATTACH, pid, 0, 0), EPERM);
		EXPECT_ERR(process_vm_readv(pid, &local, 1, &remote, 1, 0), EPERM);
		EXPECT_ERR(process_vm_writev(pid, &local, 1, &remote, 1, 0), EPERM);
		/* pidfd_open stays allowed (waiting on one's own child); taking
		 * the child's stdin through it does not. */
		fd = (int)syscall(SYS_pidfd_open, pid, 0);
		CHECK(fd >= 0, "pidfd_open of our own child: %s", strerror(errno));
		if (fd >= 0) {
			EXPECT_ERR(syscall(SYS_pidfd_getfd, fd, 0, 0), EPERM);
			close(fd);
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	EXPECT_ERR(unshare(CLONE_NEWUSER), EPERM);
	EXPECT_ERR(unshare(CLONE_NEWNS), EPERM);
	EXPECT_ERR(raw_clone(CLONE_NEWUSER | SIGCHLD), EPERM);
	EXPECT_ERR(raw_clone(CLONE_NEWNET | SIGCHLD), EPERM);
	clone_args[4] = SIGCHLD;
	EXPECT_ERR(syscall(__NR_clone3, clone_args, sizeof(clone_args)), ENOSYS);

	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open /proc/self/ns/net: %s", strerror(errno));
	EXPECT_ERR(setns(fd, 0), EPERM);
	close(fd);
	EXPECT_ERR(chroot("/"), EPERM);

	if (mkdtemp(tmpdir)) {
		long rc = mount("t", tmpdir, "tmpfs", 0, NULL);
		CHECK(rc == -1 && errno == EPERM, "mount tmpfs: got %ld (%s)", rc,
		      strerror(errno));
		if (rc == 0)
			umount2(tmpdir, MNT_DETACH);
		rmdir(tmpdir);
	}
	EXPECT_ERR(umount2("/", MNT_DETACH), EPERM);
	EXPECT_ERR(syscall(430 /* fsopen */, "tmpfs", 0), EPERM);
	EXPECT_ERR(syscall(428 /* open_tree */, AT_FDCWD, "/", 0), EPERM);

	{
		uint32_t attr[32] = { 2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1 };
		EXPECT_ERR(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)), EPERM);
	}
	{
		uint32_t attr[32] = { 1 /* PERF_TYPE_SOFTWARE */, 128 /* size */ };
		EXPECT_ERR(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0), EPERM);
	}
	EXPECT_ERR(syscall(__NR_io_uring_setup, 4, params), ENOSYS);
	EXPECT_ERR(syscall(__NR_io_uring_enter, 0, 1, 0, 0, NULL, 0), ENOSYS);
	EXPECT_ERR(syscall(__NR_io_uring_register, 0, 0, NULL, 0), ENOSYS);
	EXPECT_ERR(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), EPERM);
	EXPECT_ERR(syscall(SYS_add_key, "user", "pj", "x", 1, -3), EPERM);
	EXPECT_ERR(syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */), EPERM);
	EXPECT_ERR(syscall(SYS_personality, ADDR_NO_RANDOMIZE), EPERM);
	EXPECT_ERR(syscall(SYS_personality, PER_LINUX32), EPERM);
	EXPECT_ERR(syscall(SYS_personality, READ_IMPLIES_EXEC), EPERM);
	EXPECT_ERR(syscall(SYS_acct, NULL), EPERM);

	{
		struct {
			struct file_handle fh;
			unsigned char data[MAX_HANDLE_SZ];
		} h;
		int mount_id;

		memset(&h, 0, sizeof(h));
		h.fh.handle_bytes = MAX_HANDLE_SZ;
		/* name_to_handle_at stays allowed: only its use is dangerous. */
		CHECK(name_to_handle_at(AT_FDCWD, "/etc", &h.fh, &mount_id, 0) == 0 ||
		      errno == EOPNOTSUPP, "name_to_handle_at(/etc): %s", strerror(errno));
		EXPECT_ERR(open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY), EPERM);
	}
}

/* ---- 2. terminals: TIOCSTI / TIOCLINUX refused, the rest works ---- */

static void terminal_ioctls(void)
{
	struct winsize ws;
	struct termios tio;
	int master, slave;
	char c = 'x';

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(master >= 0, "posix_openpt under the filter: %s", strerror(errno));
	if (master < 0)
		return;
	CHECK(grantpt(master) == 0 && unlockpt(master) == 0, "unlockpt: %s", strerror(errno));
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(slave >= 0, "open the pty slave: %s", strerror(errno));
	if (slave >= 0) {
		EXPECT_ERR(ioctl(slave, TIOCSTI, &c), EPERM);
		/* the kernel ignores the high half of the request: so must we */
		EXPECT_ERR(syscall(SYS_ioctl, slave, (1UL << 32) | TIOCSTI, &c), EPERM);
		EXPECT_ERR(syscall(SYS_ioctl, slave, (0xdeadUL << 32) | TIOCLINUX, &c), EPERM);
		EXPECT_ERR(ioctl(slave, TIOCLINUX, &c), EPERM);
		CHECK(ioctl(slave, TIOCGWINSZ, &ws) == 0, "TIOCGWINSZ: %s", strerror(errno));
		CHECK(tcgetattr(slave, &tio) == 0, "tcgetattr: %s", strerror(errno));
		CHECK(tcsetattr(slave, TCSANOW, &tio) == 0, "tcsetattr: %s", strerror(errno));
		close(slave);
	}
	close(master);
}

/* ---- 3. benign calls that a build needs ---- */

static void *thread_fn(void *arg)
{
	return arg;
}

static void benign_calls(void)
{
	char buf[64], tmpl[] = "/tmp/test-seccomp-XXXXXX";
	char *argv[] = { "/bin/sh", "-c", "exit 7", NULL };
	pthread_t th;
	void *res = NULL;
	int fd, status;
	long cur;
	pid_t pid;

	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) > 0, "open+read /etc/passwd: %s",
	      strerror(errno));
	if (fd >= 0)
		close(fd);
	fd = mkstemp(tmpl);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "mkstemp+write: %s", strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(tmpl);
	}

	/* fork() is clone(SIGCHLD | CLONE_CHILD_*), no namespace flag */
	pid = fork();
	if (pid == 0)
		_exit(3);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 3, "fork+wait: %s", strerror(errno));
	/* vfork as Python's subprocess uses it */
	pid = vfork();
	if (pid == 0)
		_exit(4);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 4,
	      "vfork+wait: %s", strerror(errno));
	/* threads: glibc tries clone3 first and must fall back to clone */
	CHECK(pthread_create(&th, NULL, thread_fn, (void *)0x1) == 0 &&
	      pthread_join(th, &res) == 0 && res == (void *)0x1, "pthread_create under the filter");
	/* posix_spawn: clone3 / clone(CLONE_VM | CLONE_VFORK) then execve */
	CHECK(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0 &&
	      waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
	      "posix_spawn /bin/sh");

	cur = syscall(SYS_personality, 0xffffffffUL);
	CHECK(cur >= 0, "personality query: %s", strerror(errno));
	CHECK(syscall(SYS_personality, PER_LINUX) >= 0, "personality(PER_LINUX): %s",
	      strerror(errno));
	CHECK(personality(0xffffffff) == PER_LINUX, "personality is PER_LINUX after setting it");
}

/* ---- 4. filter decisions, without running the call ---- */

struct decision {
	const char *what;
	long nr;
	unsigned long a0, a1;
	int want;   /* errno from our filter, or PROBE_ERRNO: allowed */
};

static const struct decision decisions[] = {
	{ "kexec_load", SYS_kexec_load, 0, 0, EPERM },
	{ "kexec_file_load", SYS_kexec_file_load, 0, 0, EPERM },
	{ "init_module", SYS_init_module, 0, 0, EPERM },
	{ "finit_module", SYS_finit_module, 0, 0, EPERM },
	{ "delete_module", SYS_delete_module, 0, 0, EPERM },
	{ "reboot", SYS_reboot, 0, 0, EPERM },
	{ "swapon", SYS_swapon, 0, 0, EPERM },
	{ "swapoff", SYS_swapoff, 0, 0, EPERM },
	{ "pivot_root", SYS_pivot_root, 0, 0, EPERM },
	{ "move_mount", 429, 0, 0, EPERM },
	{ "fsconfig", 431, 0, 0, EPERM },
	{ "fsmount", 432, 0, 0, EPERM },
	{ "fspick", 433, 0, 0, EPERM },
	{ "mount_setattr", 442, 0, 0, EPERM },
	{ "request_key", SYS_request_key, 0, 0, EPERM },
	{ "ptrace(TRACEME)", SYS_ptrace, PTRACE_TRACEME, 0, EPERM },
	{ "clone(NEWNS)", SYS_clone, CLONE_NEWNS, 0, EPERM },
	{ "clone(NEWUTS)", SYS_clone, CLONE_NEWUTS, 0, EPERM },
	{ "clone(NEWIPC)", SYS_clone, CLONE_NEWIPC, 0, EPERM },
	{ "clone(NEWPID)", SYS_clone, CLONE_NEWPID, 0, EPERM },
	{ "clone(NEWCGROUP)", SYS_clone, CLONE_NEWCGROUP, 0, EPERM },
	{ "clone(thread flags)", SYS_clone,
	  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, 0,
	  PROBE_ERRNO },
	{ "clone(SIGCHLD)", SYS_clone, SIGCHLD, 0, PROBE_ERRNO },
	{ "personality(query)", SYS_personality, 0xffffffffUL, 0, PROBE_ERRNO },
	{ "personality(query, high garbage)", SYS_personality, 0xabcd00000000ffffUL | 0xffff0000UL,
	  0, PROBE_ERRNO },
	{ "personality(PER_LINUX)", SYS_personality, 0, 0, PROBE_ERRNO },
	{ "personality(UNAME26)", SYS_personality, UNAME26, 0, EPERM },
	{ "personality(0x7fffffff)", SYS_personality, 0x7fffffffUL, 0, EPERM },
	{ "personality(0x80000000)", SYS_personality, 0x80000000UL, 0, EPERM },
	{ "personality(0xfffffffe)", SYS_personality, 0xfffffffeUL, 0, EPERM },
	{ "personality(1 | high garbage)", SYS_personality, (1UL << 40) | 1, 0, EPERM },
	{ "ioctl(TIOCSTI)", SYS_ioctl, 0, TIOCSTI, EPERM },
	{ "ioctl(TIOCLINUX)", SYS_ioctl, 0, TIOCLINUX, EPERM },
	{ "ioctl(TIOCSTI | bit 63)", SYS_ioctl, 0, (1UL << 63) | TIOCSTI, EPERM },
	{ "ioctl(TIOCGWINSZ)", SYS_ioctl, 0, TIOCGWINSZ, PROBE_ERRNO },
	{ "ioctl(FIONREAD)", SYS_ioctl, 0, FIONREAD, PROBE_ERRNO },
	{ "name_to_handle_at", SYS_name_to_handle_at, 0, 0, PROBE_ERRNO },
	{ "landlock_create_ruleset", __NR_landlock_create_ruleset, 0, 0, PROBE_ERRNO },
};

static void filter_decisions(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(decisions); i++) {
		const struct decision *d = &decisions[i];
		long rc;

		errno = 0;
		rc = syscall(d->nr, d->a0, d->a1, 0UL, 0UL, 0UL, 0UL);
		CHECK(rc == -1 && errno == d->want, "%s: got %ld (%s), expected %s", d->what, rc,
		      strerrorname_np(errno) ? strerrorname_np(errno) : "no error",
		      d->want == PROBE_ERRNO ? "allowed by our filter" : strerrorname_np(d->want));
	}
}

/* Every personality value but 0 and ~0 is refused: all single bits, all
 * single holes, and a spread of pseudo-random values. */
static void personality_sweep(void)
{
	unsigned int bad = 0, v, x = 0x9e3779b9u;
	int i;

	for (i = 0; i < 32; i++) {
		if (syscall(SYS_personality, 1UL << i) != -1 || errno != EPERM)
			bad++;
		if (syscall(SYS_personality, 0xffffffffUL & ~(1UL << i)) != -1 || errno != EPERM)
			bad++;
	}
	for (i = 0; i < 2000; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		v = x;
		if (v == 0 || v == 0xffffffffu)
			continue;
		if (syscall(SYS_personality, (unsigned long)v) != -1 || errno != EPERM)
			bad++;
	}
	CHECK(bad == 0, "%u personality values got through the filter", bad);
}

static long probe_nrs_for_decisions[ARRAY_SIZE(decisions)];

static size_t collect_probe_nrs(void)
{
	size_t i, j, n = 0;

	for (i = 0; i < ARRAY_SIZE(decisions); i++) {
		for (j = 0; j < n; j++)
			if (probe_nrs_for_decisions[j] == decisions[i].nr)
				break;
		if (j == n)
			probe_nrs_for_decisions[n++] = decisions[i].nr;
	}
	return n;
}

/* ---- 5. other ABIs kill ---- */

static void int80_getpid(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
	(void)ret;
}

static void x32_getpid(void)
{
	syscall(__X32_SYSCALL_BIT | SYS_getpid);
}

static void expect_sigsys(const char *what, void (*fn)(void))
{
	int status = run_child(what, NULL, 0, fn);

	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	      "%s: the child must be killed by SIGSYS (status 0x%x)", what, status);
}

/* Does this kernel run i386 system calls made with int 0x80?  Asked by
 * doing it in a child without any filter: getpid returns the pid where the
 * kernel has the i386 entry (CONFIG_IA32_EMULATION, not disabled at boot);
 * where it has not, the CPU's #GP kills the child with SIGSEGV before any
 * system call starts.  1: offered, 0: not, -1: neither (a failed check). */
static int ia32_offered(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		long ret;

		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
		_exit((int)ret == (int)getpid() ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		return 0;
	return -1;
}

/* Under the filter: SIGSYS where the kernel takes i386 calls; SIGSEGV,
 * exactly as without any filter, where it does not (no system call was
 * made, so there is nothing for seccomp to refuse). */
static void int80_expectation(void)
{
	int offered = ia32_offered(), status;

	CHECK(offered >= 0, "the int 0x80 probe without a filter neither ran nor faulted");
	if (offered > 0) {
		expect_sigsys("int 0x80 (i386 getpid)", int80_getpid);
		return;
	}
	printf("note: this kernel has no i386 entry: int 0x80 faults with SIGSEGV\n");
	status = run_child("int 0x80 (i386 getpid)", NULL, 0, int80_getpid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	      "int 0x80 on a kernel without i386 calls: the child must die of SIGSEGV "
	      "(status 0x%x)", status);
}

/* ---- 6. a real program: Python with threads, subprocess and a compiler ---- */

static void python_and_gcc(void)
{
	static const char script[] =
		"import subprocess, threading, tempfile, os, multiprocessing.pool\n"
		"t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
		"with multiprocessing.pool.ThreadPool(2) as p: assert p.map(abs, [-1, -2]) == [1, 2]\n"
		"d = tempfile.mkdtemp()\n"
		"open(os.path.join(d, 'a.c'), 'w').write('int main(void){return 5;}\\n')\n"
		"subprocess.run(['cc', '-o', os.path.join(d, 'a'), os.path.join(d, 'a.c')], check=True)\n"
		"assert subprocess.run([os.path.join(d, 'a')]).returncode == 5\n"
		"subprocess.run(['rm', '-rf', d], check=True)\n"
		"print('python-ok')\n";
	char *argv[] = { "/usr/bin/python3", "-c", (char *)script, NULL };
	int status;
	pid_t pid;

	if (access("/usr/bin/cc", X_OK) < 0 || access(argv[0], X_OK) < 0) {
		printf("note: python3 or cc missing, skipping the program test\n");
		return;
	}
	CHECK(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0,
	      "spawn python3 under the filter");
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "python3 with threads, subprocess and cc must work under the filter (status 0x%x)",
	      status);
}

/* ---- 7. syscall names ---- */

static void names(void)
{
	const char *a, *b;

	CHECK_STR_EQ(seccomp_syscall_name(0), "read");
	CHECK_STR_EQ(seccomp_syscall_name(SYS_openat), "openat");
	CHECK_STR_EQ(seccomp_syscall_name(__NR_io_uring_setup), "io_uring_setup");
	CHECK(seccomp_syscall_name(-1) == NULL, "negative numbers have no name");
	CHECK(seccomp_syscall_name(100000) == NULL, "huge numbers have no name");
	a = seccomp_syscall_name(SYS_execve);
	b = seccomp_syscall_name(SYS_execve);
	CHECK(a && a == b, "names are cached: the same pointer each time");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	names();
	expect_clean_exit("real refusals", run_child("real refusals", NULL, 0, real_refusals));
	expect_clean_exit("terminal ioctls", run_child("terminal ioctls", NULL, 0, terminal_ioctls));
	expect_clean_exit("benign calls", run_child("benign calls", NULL, 0, benign_calls));
	expect_clean_exit("filter decisions",
			  run_child("filter decisions", probe_nrs_for_decisions,
				    collect_probe_nrs(), filter_decisions));
	expect_clean_exit("personality sweep",
			  run_child("personality sweep", NULL, 0, personality_sweep));
	int80_expectation();
	expect_sigsys("x32 getpid", x32_getpid);
	expect_clean_exit("python and gcc", run_child("python and gcc", NULL, 0, python_and_gcc));
	return unit_summary("test_seccomp");
}
