/* Landlock tests (run as root: Landlock binds root too, so this shows the
 * wall holds without relying on permissions).  Each case runs in a fresh
 * child that applies a policy with a temporary writable directory. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "jail/sandbox.h"
#include "../unit.h"
#include "base/base.h"

static char rw_dir[] = "/tmp/test-landlock-rw-XXXXXX";
static char other_dir[] = "/tmp/test-landlock-other-XXXXXX";
static char rw_file[64];   /* a single writable file in other_dir */
static int abi;
static int listener_a = -1, listener_b = -1, port_a, port_b;
static int abstract_fd = -1;
static const char abstract_name[] = "pipjail-test-landlock-abstract";
static struct landlock_policy policy;
static const char dev_fifo[] = "/dev/pipjail-test-landlock";

static bool apply_policy(const char *what, void *arg)
{
	char err[256];
	int got;

	(void)arg;
	got = landlock_apply(&policy, err, sizeof(err));
	CHECK(got == abi, "%s: landlock_apply returned %d (%s), expected ABI %d", what, got,
	      got < 0 ? err : "", abi);
	return got == abi;
}

/* Run fn in a child after landlock_apply(policy); the child's CHECKs are
 * added to ours. */
static void run_child(const char *what, void (*fn)(void))
{
	bool reported;
	int status = unit_in_child(what, apply_policy, NULL, fn, &reported);

	CHECK(reported, "%s: the child reported nothing", what);
	CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s: the child must finish normally (status 0x%x)", what, status);
}

static int write_new_file(const char *dir, const char *name)
{
	char path[256];
	int fd, saved;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, "data\n", 5) != 5) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

#define EXPECT_ERR(call, want)                                                      \
	do {                                                                        \
		long rc_;                                                           \
		errno = 0;                                                          \
		rc_ = (long)(call);                                                 \
		CHECK(rc_ == -1 && errno == (want), "%s: got %ld (%s), expected %s", \
		      #call, rc_, strerrordesc_np(errno), strerrorname_np(want));  \
	} while (0)

#define EXPECT_OK(call)                                                             \
	do {                                                                        \
		long rc_;                                                           \
		errno = 0;                                                          \
		rc_ = (long)(call);                                                 \
		CHECK(rc_ >= 0, "%s: %s", #call, strerror(errno));                  \
	} while (0)

/* ---- files ---- */

static void files(void)
{
	char a[256], b[256], sub[256], outside[256], slink[256], buf[256];
	int fd;

	snprintf(a, sizeof(a), "%s/a", rw_dir);
	snprintf(sub, sizeof(sub), "%s/sub", rw_dir);
	snprintf(b, sizeof(b), "%s/sub/b", rw_dir);
	snprintf(outside, sizeof(outside), "%s/existing", other_dir);
	snprintf(slink, sizeof(slink), "%s/link", rw_dir);

	/* inside the writable tree: everything a build does */
	EXPECT_OK(write_new_file(rw_dir, "a"));
	EXPECT_OK(mkdir(sub, 0755));
	EXPECT_OK(rename(a, b));                 /* across directories (REFER) */
	EXPECT_OK(symlink("sub/b", slink));
	EXPECT_OK(truncate(b, 1));
	EXPECT_OK(unlink(slink));
	EXPECT_OK(unlink(b));
	EXPECT_OK(rmdir(sub));

	/* outside: no create, no write to an existing file, no truncate, no
	 * unlink, no link of an outside file into the writable tree */
	EXPECT_ERR(write_new_file(other_dir, "new"), EACCES);
	EXPECT_ERR(open(outside, O_WRONLY | O_CLOEXEC), EACCES);
	EXPECT_ERR(truncate(outside, 0), EACCES);
	EXPECT_ERR(unlink(outside), EACCES);
	snprintf(buf, sizeof(buf), "%s/dir", other_dir);
	EXPECT_ERR(mkdir(buf, 0755), EACCES);
	snprintf(buf, sizeof(buf), "%s/hardlink", rw_dir);
	CHECK(link(outside, buf) == -1 && (errno == EACCES || errno == EXDEV),
	      "hard link of an outside file into the rw tree: %s", strerror(errno));
	snprintf(buf, sizeof(buf), "%s/moved", rw_dir);
	CHECK(rename(outside, buf) == -1 && (errno == EACCES || errno == EXDEV),
	      "rename of an outside file into the rw tree: %s", strerror(errno));

	/* a single file given as a writable path: writable, its siblings not */
	fd = open(rw_file, O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write to the single writable file: %s",
	      strerror(errno));
	if (fd >= 0)
		close(fd);

	/* reading and executing stay possible everywhere */
	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) >= 0, "read /etc/hostname: %s",
	      strerror(errno));
	if (fd >= 0)
		close(fd);
	fd = open(outside, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "read a file outside the writable tree: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	CHECK(system("/bin/true") == 0, "exec /bin/sh and /bin/true");

	/* devices: /dev/null writable (with O_TRUNC, as a shell's > does) */
	fd = open("/dev/null", O_WRONLY | O_TRUNC | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write /dev/null: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	EXPECT_ERR(mknod(dev_fifo, S_IFIFO | 0600, 0), EACCES);
}

/* ---- network ---- */

static int tcp_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, rc, saved;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static int tcp_bind(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, rc, saved;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static void net_no_connect(void)
{
	EXPECT_ERR(tcp_connect(port_a), EACCES);
	EXPECT_ERR(tcp_connect(port_b), EACCES);
	EXPECT_ERR(tcp_bind(0), EACCES);
}

static void net_proxy_port(void)
{
	EXPECT_OK(tcp_connect(port_a));
	EXPECT_ERR(tcp_connect(port_b), EACCES);
	EXPECT_ERR(tcp_bind(0), EACCES);
	EXPECT_ERR(tcp_bind(port_a + 1 > 65535 ? 1024 : port_a + 1), EACCES);
}

/* ---- scopes: signals and abstract unix sockets ---- */

static void scopes(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	pid_t inner;
	int fd, status;

	/* the parent is outside the domain */
	EXPECT_ERR(kill(getppid(), 0), EPERM);
	EXPECT_ERR(kill(getppid(), SIGCONT), EPERM);
	/* a child created after the restriction is inside it */
	inner = fork();
	if (inner == 0) {
		pause();
		_exit(0);
	}
	CHECK(inner > 0 && kill(inner, SIGTERM) == 0, "signal a process in the same domain: %s",
	      strerror(errno));
	if (inner > 0)
		CHECK(waitpid(inner, &status, 0) == inner && WIFSIGNALED(status),
		      "the inner child got the signal");

	/* an abstract socket that a process outside the domain listens on */
	memcpy(sun.sun_path + 1, abstract_name, strlen(abstract_name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract_name));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0, "unix socket: %s", strerror(errno));
	if (fd >= 0) {
		EXPECT_ERR(connect(fd, (struct sockaddr *)&sun, len), EPERM);
		close(fd);
	}
}

/* ---- policy validation ---- */

static void bad_policies(void)
{
	const char *rel[] = { "relative/path" };
	const char *missing[] = { "/nonexistent/pipjail-test", rw_dir };
	struct landlock_policy p = { rel, 1, -1 };
	char err[256];
	pid_t pid;
	int status;

	CHECK(landlock_apply(&p, err, sizeof(err)) == -1 && strstr(err, "relative/path"),
	      "a relative writable path is refused with its name in the error");
	p.tcp_connect_port = 70000;
	p.rw_paths = missing;
	p.n_rw = 2;
	CHECK(landlock_apply(&p, err, sizeof(err)) == -1, "a port above 65535 is refused");

	/* a missing writable path is skipped, the rest applies */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		p.tcp_connect_port = -1;
		if (landlock_apply(&p, err, sizeof(err)) != abi)
			_exit(1);
		_exit(write_new_file(rw_dir, "after-missing") == 0 &&
		      write_new_file(other_dir, "after-missing") == -1 ? 0 : 2);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "a missing writable path is skipped (status 0x%x)", status);
}

static int listen_tcp(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die_errno("test listener");
	*port = ntohs(sin.sin_port);
	return fd;
}

static int listen_abstract(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sun.sun_path + 1, abstract_name, strlen(abstract_name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract_name));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, len) < 0 || listen(fd, 8) < 0)
		die_errno("abstract listener");
	return fd;
}

int main(void)
{
	const char *rw[2];
	char cmd[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	abi = landlock_abi();
	printf("landlock ABI %d\n", abi);
	if (abi < 2) {
		printf("landlock unusable here (ABI %d): nothing to test\n", abi);
		CHECK(landlock_apply(&policy, cmd, sizeof(cmd)) == 0, "ABI < 2 applies nothing");
		return unit_summary("test_landlock");
	}
	if (!mkdtemp(rw_dir) || !mkdtemp(other_dir))
		die_errno("mkdtemp");
	snprintf(rw_file, sizeof(rw_file), "%s/writable-file", other_dir);
	if (write_new_file(other_dir, "existing") < 0 || write_new_file(other_dir, "writable-file") < 0)
		die_errno("test files");
	listener_a = listen_tcp(&port_a);
	listener_b = listen_tcp(&port_b);
	abstract_fd = listen_abstract();

	rw[0] = rw_dir;
	rw[1] = rw_file;
	policy.rw_paths = rw;
	policy.n_rw = 2;
	policy.tcp_connect_port = -1;

	run_child("files", files);
	if (abi >= 4) {
		run_child("network, no proxy", net_no_connect);
		policy.tcp_connect_port = port_a;
		run_child("network, proxy port", net_proxy_port);
		policy.tcp_connect_port = -1;
	} else {
		printf("note: ABI %d has no network rights: skipping the TCP tests\n", abi);
	}
	if (abi >= 6)
		run_child("scopes", scopes);
	else
		printf("note: ABI %d has no scopes: skipping signal/abstract socket tests\n", abi);
	bad_policies();

	/* the parent was never restricted */
	CHECK(write_new_file(other_dir, "parent") == 0, "the test process itself stays free");

	unlink(dev_fifo);   /* only there if the wall failed */
	close(listener_a);
	close(listener_b);
	close(abstract_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", rw_dir, other_dir);
	if (system(cmd) != 0)
		warnx_("cannot remove %s and %s", rw_dir, other_dir);
	return unit_summary("test_landlock");
}
