/* Tiny unit-test support: CHECK counts, failures say where and why, and
 * unit_summary() prints "NAME: N passed, N failed" and gives the exit code. */
#ifndef PIPJAIL_UNIT_H
#define PIPJAIL_UNIT_H

#include <stdio.h>
#include <string.h>

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

#endif
