/* probe: small checks that the integration tests run inside the jail and
 * that escape.c does not cover.  Each subcommand prints what it saw; the
 * test (tests/test_jail.py) decides whether that is right.
 *
 *   probe pids            pids visible in /proc, one line, space separated
 *   probe daemon MARKER   double fork + setsid; the daemon sleeps 3 s, then
 *                         creates MARKER.  The parent returns at once.
 *   probe forkbomb [MAX]  fork sleeping children until fork fails (or MAX,
 *                         default 5000, a safety stop); prints "forked N errno E"
 *   probe ifaces          network interfaces of this net namespace, one a line
 *   probe env             the environment, one VAR=VALUE a line
 *   probe id              uid/gid/groups, then the Cap*, NoNewPrivs and
 *                         Seccomp lines of /proc/self/status
 *
 * Exit: 0 done, 1 a call failed unexpectedly, 2 usage. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int usage(void)
{
	fprintf(stderr, "usage: probe pids|daemon MARKER|forkbomb [MAX]|ifaces|env|id\n");
	return 2;
}

static int cmd_pids(void)
{
	DIR *d = opendir("/proc");
	if (!d) {
		perror("probe: opendir /proc");
		return 1;
	}
	struct dirent *e;
	const char *sep = "";
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*e->d_name == '\0' || *end != '\0' || pid <= 0)
			continue;
		printf("%s%ld", sep, pid);
		sep = " ";
	}
	printf("\n");
	closedir(d);
	return 0;
}

/* The daemon detaches the classic way so that only the jail's own teardown
 * (killing the pid namespace) can stop it. */
static int cmd_daemon(const char *marker)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("probe: fork");
		return 1;
	}
	if (pid > 0) {
		int st;
		if (waitpid(pid, &st, 0) < 0) {
			perror("probe: waitpid");
			return 1;
		}
		printf("daemon started\n");
		return 0;
	}
	if (setsid() < 0)
		_exit(1);
	signal(SIGHUP, SIG_IGN);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	struct timespec ts = { .tv_sec = 3, .tv_nsec = 0 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		_exit(1);
	(void)!write(fd, "daemon survived\n", 16);
	close(fd);
	_exit(0);
}

static int cmd_forkbomb(long max)
{
	pid_t *kids = calloc((size_t)max, sizeof(*kids));
	if (!kids) {
		perror("probe: calloc");
		return 1;
	}
	long n = 0;
	int err = 0;
	while (n < max) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			pause();
			_exit(0);
		}
		kids[n++] = pid;
	}
	printf("forked %ld errno %d (%s)\n", n, err, err ? strerror(err) : "none");
	fflush(stdout);
	for (long i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	return 0;
}

static int cmd_ifaces(void)
{
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs) {
		perror("probe: if_nameindex");
		return 1;
	}
	for (struct if_nameindex *i = ifs; i->if_index != 0; i++)
		printf("%s\n", i->if_name);
	if_freenameindex(ifs);
	return 0;
}

static int cmd_env(void)
{
	for (char **e = environ; *e; e++)
		printf("%s\n", *e);
	return 0;
}

static int cmd_id(void)
{
	printf("uid=%u euid=%u gid=%u egid=%u groups=", (unsigned)getuid(),
	       (unsigned)geteuid(), (unsigned)getgid(), (unsigned)getegid());
	gid_t groups[256];
	int n = getgroups(256, groups);
	if (n < 0) {
		perror("probe: getgroups");
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", (unsigned)groups[i]);
	printf("\n");

	FILE *f = fopen("/proc/self/status", "r");
	if (!f) {
		perror("probe: /proc/self/status");
		return 1;
	}
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0 ||
		    strncmp(line, "Seccomp:", 8) == 0)
			fputs(line, stdout);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "pids") == 0 && argc == 2)
		return cmd_pids();
	if (strcmp(cmd, "daemon") == 0 && argc == 3)
		return cmd_daemon(argv[2]);
	if (strcmp(cmd, "forkbomb") == 0 && (argc == 2 || argc == 3)) {
		long max = 5000;
		if (argc == 3) {
			char *end;
			max = strtol(argv[2], &end, 10);
			if (*end != '\0' || max <= 0 || max > 100000)
				return usage();
		}
		return cmd_forkbomb(max);
	}
	if (strcmp(cmd, "ifaces") == 0 && argc == 2)
		return cmd_ifaces();
	if (strcmp(cmd, "env") == 0 && argc == 2)
		return cmd_env();
	if (strcmp(cmd, "id") == 0 && argc == 2)
		return cmd_id();
	return usage();
}
