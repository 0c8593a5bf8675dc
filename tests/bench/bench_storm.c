/* storm: a syscall storm for `make bench`, run inside the jail and plain,
 * to measure what the monitor adds per call.
 *
 *   storm open-hit N    N x (openat of an existing file + close)
 *   storm open-miss N   N x openat of a missing file (ENOENT), the same path
 *                       each time (the monitor folds identical failed lookups)
 *   storm open-miss-distinct N   the same with N different missing paths
 *   storm fork N        N x (fork + _exit + waitpid)
 *   storm connect N     N x (socket + connect to 127.0.0.1:1, refused + close)
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
	fprintf(stderr, "usage: storm open-hit|open-miss|open-miss-distinct|fork|connect N\n");
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

static int forks(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		pid_t p = fork();
		int st;

		if (p < 0) {
			fprintf(stderr, "storm: fork: %s\n", strerror(errno));
			return -1;
		}
		if (p == 0)
			_exit(0);
		if (waitpid(p, &st, 0) != p) {
			fprintf(stderr, "storm: waitpid: %s\n", strerror(errno));
			return -1;
		}
	}
	return 0;
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
	else
		return usage();
	t1 = mono_ns();
	if (r < 0)
		return 1;
	printf("%s %lu ops %llu ns %.1f ns/op\n", argv[1], n, t1 - t0, (double)(t1 - t0) / n);
	return 0;
}
