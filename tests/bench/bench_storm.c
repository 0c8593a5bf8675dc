/* storm: a syscall storm for `make bench`, run inside the jail and plain,
 * to measure what the monitor adds per call.
 *
 *   storm open-hit N    N x (openat of an existing file + close)
 *   storm open-miss N   N x openat of a missing file (ENOENT), the same path
 *                       each time (the monitor folds identical failed lookups)
 *   storm open-miss-distinct N   the same with N different missing paths
 *   storm fork N        N x (fork + _exit + waitpid)
 *   storm connect N     N x (socket + connect to 127.0.0.1:1, refused + close)
 *   storm exec N        N x (fork + execve of /bin/true with a 4 KiB environment + waitpid):
 *                       what the monitor adds per exec (argv and environment copied)
 *
 * Prints one line: "<mode> <N> ops <total_ns> ns <ns_per_op> ns/op".
 * Only loopback is ever touched.  Standalone: no pipjail code. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: storm open-hit|open-miss|open-miss-distinct|fork|connect|exec N\n");
	return 2;
}

/* A file every jail and every host has, readable by anyone. */
static const char hit_path[] = "/etc/hostname";
static const char miss_path[] = "/nonexistent-pipjail-storm/missing";

static int open_hit(unsigned long n)
{
	const char *path = access(hit_path, R_OK) == 0 ? hit_path : "/dev/null";

	for (unsigned long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			fprintf(stderr, "storm: %s: %s\n", path, strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int open_miss(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		if (open(miss_path, O_RDONLY | O_CLOEXEC) >= 0) {
			fprintf(stderr, "storm: %s exists\n", miss_path);
			return -1;
		}
	}
	return 0;
}

static int open_miss_distinct(unsigned long n)
{
	char path[96];

	for (unsigned long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s-%lu", miss_path, i);
		if (open(path, O_RDONLY | O_CLOEXEC) >= 0) {
			fprintf(stderr, "storm: %s exists\n", path);
			return -1;
		}
	}
	return 0;
}

/* n x (fork, the child runs child() or exits, waitpid) */
static int forks_running(unsigned long n, void (*child)(void))
{
	for (unsigned long i = 0; i < n; i++) {
		pid_t p = fork();
		int st;

		if (p < 0) {
			fprintf(stderr, "storm: fork: %s\n", strerror(errno));
			return -1;
		}
		if (p == 0) {
			if (child)
				child();
			_exit(0);
		}
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "storm: the child failed\n");
			return -1;
		}
	}
	return 0;
}

static int forks(unsigned long n)
{
	return forks_running(n, NULL);
}

/* /bin/true with 64 variables of 64 bytes (a build's environment is a few
 * KiB: PATH, the compiler variables, pip's and the jail's). */
static char exec_vars[64][64];
static char *exec_env[65];

static void exec_true(void)
{
	char *argv[] = { "true", NULL };

	execve("/bin/true", argv, exec_env);
	_exit(127);
}

static int execs(unsigned long n)
{
	for (int i = 0; i < 64; i++) {
		snprintf(exec_vars[i], sizeof(exec_vars[i]), "STORM_VAR_%02d=%0*d", i, 64 - 14, i);
		exec_env[i] = exec_vars[i];
	}
	exec_env[64] = NULL;
	return forks_running(n, exec_true);
}

/* Port 1 on loopback: nothing listens, the kernel answers ECONNREFUSED. */
static int connects(unsigned long n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (unsigned long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s < 0) {
			fprintf(stderr, "storm: socket: %s\n", strerror(errno));
			return -1;
		}
		if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			fprintf(stderr, "storm: something listens on 127.0.0.1:1\n");
			close(s);
			return -1;
		}
		close(s);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long t0, t1;
	unsigned long n;
	char *end;
	int r;

	if (argc != 3)
		return usage();
	errno = 0;
	n = strtoul(argv[2], &end, 10);
	if (errno || *end || !n)
		return usage();
	t0 = mono_ns();
	if (!strcmp(argv[1], "open-hit"))
		r = open_hit(n);
	else if (!strcmp(argv[1], "open-miss"))
		r = open_miss(n);
	else if (!strcmp(argv[1], "open-miss-distinct"))
		r = open_miss_distinct(n);
	else if (!strcmp(argv[1], "fork"))
		r = forks(n);
	else if (!strcmp(argv[1], "connect"))
		r = connects(n);
	else if (!strcmp(argv[1], "exec"))
		r = execs(n);
	else
		return usage();
	t1 = mono_ns();
	if (r < 0)
		return 1;
	printf("%s %lu ops %llu ns %.1f ns/op\n", argv[1], n, t1 - t0, (double)(t1 - t0) / n);
	return 0;
}
