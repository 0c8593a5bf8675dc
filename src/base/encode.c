/* Encodings and byte search, for finding a secret that was disguised. */
#include <string.h>
#include <strings.h>

#include "base/base.h"

void hex_encode(const char *in, char *out, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t n = strlen(in);

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[(unsigned char)in[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)in[i] & 15];
	}
	out[2 * n] = '\0';
}

void b64_encode(const unsigned char *in, size_t n, char *out, bool urlsafe)
{
	const char *a = urlsafe ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
				: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

bool mem_contains(const unsigned char *hay, size_t n, const char *needle, bool nocase)
{
	size_t m = strlen(needle);

	if (m == 0 || m > n)
		return false;
	if (!nocase)
		return memmem(hay, n, needle, m) != NULL;
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp((const char *)hay + i, needle, m) == 0)
			return true;
	return false;
}
