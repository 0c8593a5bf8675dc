/* Path text: lexical cleaning (".", "..", "//") that never writes past its
 * buffer whatever it is given, and escaping a path for one line of text. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* The components of a then b, cleaned into out (len bytes): "." and empty
 * components dropped, ".." removes the component before it.  abs: out
 * starts with '/' and ".." stops at the root; otherwise out is relative and
 * a ".." that would leave it fails.  -1 when out is too small or a relative
 * path escapes; 0 otherwise. */
static int clean_into(char *out, size_t len, const char *a, const char *b, bool abs)
{
	size_t o = 0;
	const char *parts[2] = { a, b };

	if (len < 2)
		return -1;
	if (abs)
		out[o++] = '/';
	for (int k = 0; k < 2; k++) {
		for (const char *p = parts[k]; p && *p;) {
			const char *e = strchrnul(p, '/');
			size_t n = (size_t)(e - p);

			if (n == 0 || (n == 1 && p[0] == '.')) {
				/* nothing */
			} else if (n == 2 && p[0] == '.' && p[1] == '.') {
				size_t floor = abs ? 1 : 0;

				if (o == floor && !abs)
					return -1;
				while (o > floor && out[o - 1] != '/')
					o--;
				if (o > floor)
					o--;            /* the '/' before it */
			} else {
				size_t need = (o > (abs ? 1u : 0u) ? 1 : 0) + n;

				if (o + need + 1 > len)
					return -1;
				if (o > (abs ? 1u : 0u))
					out[o++] = '/';
				memcpy(out + o, p, n);
				o += n;
			}
			p = *e ? e + 1 : e;
		}
	}
	out[o] = '\0';
	return 0;
}

int path_clean_abs(char *out, size_t len, const char *dir, const char *path)
{
	if (!path)
		return -1;
	if (path[0] == '/')
		return clean_into(out, len, path, NULL, true);
	if (!dir || dir[0] != '/')
		return -1;
	return clean_into(out, len, dir, path, true);
}

char *path_clean_rel(const char *base, const char *path)
{
	size_t len = strlen(base) + strlen(path) + 2;
	char *out = xmalloc(len);

	if (clean_into(out, len, base, path, false) < 0 || !out[0]) {
		free(out);
		return NULL;
	}
	return out;
}

char *path_escape(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x21 || c >= 0x7f || c == '%')
			o += sprintf(o, "%%%02X", c);
		else
			*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *path_unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}
