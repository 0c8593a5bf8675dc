/* actions: performs a fixed list of known actions, so that a test can assert
 * that each one appears in the trace with the right fields and result.
 *
 *   actions DECOY [SCRATCH_DIR]
 *
 *   1. opens DECOY for reading (and reads it)
 *   2. fails to open /nonexistent-pipjail/missing-file (ENOENT)
 *   3. with SCRATCH_DIR: chdir there; mkdir d; create d/f through a relative
 *      path; rename d/f -> d/g; symlink d/l -> g; chmod d/g 0640; open "l"
 *      relative to an fd of d (the file opened is d/g); unlink d/l, d/g;
 *      rmdir d
 *   4. fork + exec /bin/echo one two three
 *   5. TCP connect to 127.0.0.1:9 (expected to fail)
 *   6. UDP datagram to 127.0.0.1:53 with a DNS query (type A) for LONG_NAME
 *   7. fork a child that exits 7
 *   8. memfd_create("pipjail-memfd", MFD_CLOEXEC)
 *   9. ptrace(PTRACE_ATTACH) on its parent: expected to be refused
 *
 * Prints one line per action ("name ok|failed detail").  Exit 0 when every
 * action behaved as expected, 1 otherwise, 2 on usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LONG_NAME "exfiltrated-0123456789abcdef0123456789abcdef-data.a-rather-long-label-for-tests.pipjail-test.example"
#define MISSING "/nonexistent-pipjail/missing-file"

static int bad;

static void report(const char *name, int ok, const char *detail)
{
	printf("%s %s %s\n", name, ok ? "ok" : "failed", detail ? detail : "");
	fflush(stdout);
	if (!ok)
		bad = 1;
}

static void open_decoy(const char *decoy)
{
	char buf[64];
	int fd = open(decoy, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		report("open-decoy", 0, strerror(errno));
		return;
	}
	if (read(fd, buf, sizeof(buf)) < 0)
		report("open-decoy", 0, strerror(errno));
	else
		report("open-decoy", 1, decoy);
	close(fd);
}

static void open_missing(void)
{
	int fd = open(MISSING, O_RDONLY);

	report("open-missing", fd < 0 && errno == ENOENT, fd < 0 ? strerror(errno) : "opened?");
	if (fd >= 0)
		close(fd);
}

static void scratch_files(const char *dir)
{
	int fd, dfd;

	if (chdir(dir) < 0 || mkdir("d", 0755) < 0) {
		report("scratch", 0, strerror(errno));
		return;
	}
	fd = open("d/f", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x\n", 2) != 2) {
		report("scratch", 0, strerror(errno));
		return;
	}
	close(fd);
	if (rename("d/f", "d/g") < 0 || symlink("g", "d/l") < 0 || chmod("d/g", 0640) < 0) {
		report("scratch", 0, strerror(errno));
		return;
	}
	dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = dfd < 0 ? -1 : openat(dfd, "l", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		report("scratch", 0, strerror(errno));
		return;
	}
	close(fd);
	close(dfd);
	if (unlink("d/l") < 0 || unlink("d/g") < 0 || rmdir("d") < 0) {
		report("scratch", 0, strerror(errno));
		return;
	}
	report("scratch", 1, dir);
}

static void exec_echo(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/echo", "echo", "one", "two", "three", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		report("exec-echo", 0, strerror(errno));
		return;
	}
	report("exec-echo", WIFEXITED(status) && WEXITSTATUS(status) == 0, "/bin/echo");
}

static void connect_discard(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0) {
		report("connect", 0, strerror(errno));
		return;
	}
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	/* nothing listens on the discard port: refused (or denied by the jail) */
	report("connect", r < 0, r < 0 ? strerror(errno) : "connected?");
	close(fd);
}

static size_t dns_query(unsigned char *p, size_t cap, const char *name)
{
	size_t o = 12;
	const char *s = name;

	memset(p, 0, 12);
	p[0] = 0x12;
	p[1] = 0x34;
	p[2] = 0x01;  /* recursion desired */
	p[5] = 1;     /* one question */
	while (*s && o + 70 < cap) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		p[o++] = (unsigned char)l;
		memcpy(p + o, s, l);
		o += l;
		s += l + (dot ? 1 : 0);
	}
	p[o++] = 0;
	p[o++] = 0;
	p[o++] = 1;  /* A */
	p[o++] = 0;
	p[o++] = 1;  /* IN */
	return o;
}

static void send_dns(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	unsigned char q[512];
	size_t n = dns_query(q, sizeof(q), LONG_NAME);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t r;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0) {
		report("dns", 0, strerror(errno));
		return;
	}
	r = sendto(fd, q, n, 0, (struct sockaddr *)&sin, sizeof(sin));
	report("dns", 1, r < 0 ? strerror(errno) : LONG_NAME);
	close(fd);
}

static void child_exit7(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(7);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		report("exit7", 0, strerror(errno));
		return;
	}
	report("exit7", WIFEXITED(status) && WEXITSTATUS(status) == 7, NULL);
}

static void memfd(void)
{
	int fd = memfd_create("pipjail-memfd", MFD_CLOEXEC);

	report("memfd", fd >= 0, fd < 0 ? strerror(errno) : NULL);
	if (fd >= 0)
		close(fd);
}

static void ptrace_parent(void)
{
	pid_t pp = getppid();
	long r = ptrace(PTRACE_ATTACH, pp, NULL, NULL);

	if (r == 0) {
		waitpid(pp, NULL, __WALL);
		ptrace(PTRACE_DETACH, pp, NULL, NULL);
		report("ptrace", 0, "attached to the parent");
		return;
	}
	report("ptrace", 1, strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: actions DECOY [SCRATCH_DIR]\n");
		return 2;
	}
	open_decoy(argv[1]);
	open_missing();
	if (argc == 3)
		scratch_files(argv[2]);
	exec_echo();
	connect_discard();
	send_dns();
	child_exit7();
	memfd();
	ptrace_parent();
	return bad;
}
