/* Failure injection (base/failpoint.h). */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

struct test_failpoints test_failpoints = { .commit_fail_after = -1 };

bool failpoint(const char *name)
{
	const char *list = getenv("PIPJAIL_FAILPOINT");
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, name, n))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}
