/* Failure injection, for the tests of error paths, in one place.  A
 * failpoint can only make pipjail fail; it never skips a check. */
#ifndef PIPJAIL_BASE_FAILPOINT_H
#define PIPJAIL_BASE_FAILPOINT_H

#include <stdbool.h>

/* True when the environment variable PIPJAIL_FAILPOINT names this step (a
 * comma list): "monitor-load", "jail-build" (that step of the start fails:
 * pipjail exits 125); "supervisor-crash" (the supervisor aborts when the
 * command has ended, before the import check and the commit: the
 * guardian's test). */
bool failpoint(const char *name);

/* In-process failpoints, set only by unit tests (tests/unit/stage):
 * stage_commit stops at half-step commit_fail_after (2i: before operation
 * i, 2i+1: inside it, after the old entry was saved), as if the machine
 * stopped there (commit_fail_crash: leave everything as it is) or as if the
 * next operation failed (roll back).  -1: off. */
struct test_failpoints {
	long commit_fail_after;
	bool commit_fail_crash;
};
extern struct test_failpoints test_failpoints;

#endif
