/* FNV-1a: a small, good-enough hash for tables keyed by text. */
#include "base/base.h"

uint64_t fnv1a(uint64_t h, const void *buf, size_t n)
{
	const unsigned char *b = buf;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}
