/* Tiny unit-test support: CHECK counts, failures say where and why, and
 * unit_summary() prints "NAME: N passed, N failed" and gives the exit code. */
#ifndef PIPJAIL_UNIT_H
#define PIPJAIL_UNIT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int unit_passed, unit_failed;

/* CHECK(condition, printf-style message about what was expected) */
#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (cond) {                                                  \
			unit_passed++;                                       \
		} else {                                                     \
			unit_failed++;                                       \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

#define CHECK_INT_EQ(a, b)                                                   \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		CHECK(a_ == b_, "%s is %lld, expected %lld", #a, a_, b_);    \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                   \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		CHECK(a_ && b_ && strcmp(a_, b_) == 0, "%s is \"%s\", expected \"%s\"", \
		      #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
	} while (0)

static inline int unit_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

/* Run checks() in a forked child after setup(what, arg): a sandbox that
 * setup applies there (Landlock, seccomp) does not bind the test program.
 * setup returns false to skip the checks (after a CHECK or a message of its
 * own; it may also _exit with a code that says why).  The child's counts
 * are added to ours; *reported (may be NULL) tells whether they arrived (a
 * child killed by its sandbox sends none).  Returns the child's wait
 * status, or -1 when no child ran. */
static inline int unit_in_child(const char *what, bool (*setup)(const char *what, void *arg),
				void *arg, void (*checks)(void), bool *reported)
{
	int pfd[2], status = 0, c[2] = { 0, 0 };
	pid_t pid;

	if (reported)
		*reported = false;
	fflush(NULL);
	if (pipe(pfd) < 0 || (pid = fork()) < 0) {
		CHECK(0, "%s: pipe/fork: %s", what, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		unit_passed = unit_failed = 0;
		if (setup(what, arg))
			checks();
		c[0] = unit_passed;
		c[1] = unit_failed;
		if (write(pfd[1], c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(22);
		fflush(NULL);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], c, sizeof(c)) == (ssize_t)sizeof(c)) {
		unit_passed += c[0];
		unit_failed += c[1];
		if (reported)
			*reported = true;
	}
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		CHECK(0, "%s: waitpid: %s", what, strerror(errno));
	return status;
}

#endif
