/* Build-time helper: `storm big|small SECONDS` makes distinct failed opens
 * as fast as it can (big: 3.6 kB paths; small: short ones that fill the
 * gaps); `storm orphans SECONDS COUNT SCRIPT` double-forks COUNT orphans
 * spread over SECONDS, each of which sleeps until the storm is over and
 * then runs `bash -c SCRIPT bash N`. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_until(double when)
{
	double d = when - now();
	struct timespec t;

	if (d <= 0)
		return;
	t.tv_sec = (time_t)d;
	t.tv_nsec = (long)((d - t.tv_sec) * 1e9);
	nanosleep(&t, NULL);
}

int main(int argc, char **argv)
{
	double end;

	if (argc < 3)
		return 2;
	end = now() + atof(argv[2]);
	if (!strcmp(argv[1], "big") || !strcmp(argv[1], "small")) {
		char p[4096];
		size_t base = 0;
		unsigned long i = 0;

		base += (size_t)sprintf(p, "/tmp/%d", (int)getpid());
		if (!strcmp(argv[1], "big"))
			for (int k = 0; k < 17; k++) {
				p[base++] = '/';
				memset(p + base, 'x', 200);
				base += 200;
			}
		p[base++] = '-';
		while (now() < end)
			for (int k = 0; k < 4096; k++) {
				int fd;

				snprintf(p + base, sizeof(p) - base, "%lu", i++);
				fd = open(p, O_RDONLY);
				if (fd >= 0)
					close(fd);
			}
		return 0;
	}
	if (!strcmp(argv[1], "orphans") && argc == 5) {
		int count = atoi(argv[3]);
		double spacing = atof(argv[2]) / (count + 1);

		for (int n = 0; n < count && now() < end; n++) {
			pid_t pid = fork();

			if (pid == 0) {
				if (fork() == 0) {
					char num[16];

					sleep_until(end + 1.5);
					snprintf(num, sizeof(num), "%d", n);
					execl("/bin/bash", "bash", "-c", argv[4], "bash", num, (char *)NULL);
				}
				_exit(0);
			}
			if (pid > 0)
				waitpid(pid, NULL, 0);
			sleep_until(now() + spacing);
		}
		return 0;
	}
	return 2;
}
