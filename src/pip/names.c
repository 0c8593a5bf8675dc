/* Project names and versions: PEP 503 normalisation, the value cleaning
 * every metadata reader applies (names and versions come from the package
 * being installed), and the name a requirement or an sdist/wheel file name
 * carries. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pip/pip.h"

char *pip_normalize_name(const char *name)
{
	size_t n = strlen(name), o = 0;
	char *out = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		if (name[i] == '-' || name[i] == '_' || name[i] == '.') {
			if (!o || out[o - 1] != '-')
				out[o++] = '-';
		} else {
			out[o++] = (char)tolower((unsigned char)name[i]);
		}
	}
	out[o] = '\0';
	return out;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

void pip_meta_value(char *dst, size_t len, const char *s, size_t n)
{
	size_t k = 0;

	while (n && blank(*s)) {
		s++;
		n--;
	}
	while (n && blank(s[n - 1]))
		n--;
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		s++;
		n -= 2;
	}
	/* Names and versions are short and printable: anything else is cut. */
	while (k < n && k + 1 < len && (unsigned char)s[k] > 0x20 && (unsigned char)s[k] < 0x7f &&
	       s[k] != '"' && s[k] != '\'' && s[k] != '\\')
		k++;
	if (len) {
		memcpy(dst, s, k);
		dst[k] = '\0';
	}
}

static void meta_clear(struct pip_meta *m, const char *source)
{
	m->name[0] = m->version[0] = '\0';
	m->source = source;
}

static const char *const archive_suffixes[] = { ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz",
						".tar.xz", ".tar" };

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && !strncmp(s + n - m, suf, m);
}

bool pip_archive_meta(const char *path, struct pip_meta *m)
{
	const char *b = strrchr(path, '/'), *dash;
	size_t n, stem;

	meta_clear(m, "file name");
	b = b ? b + 1 : path;
	n = strcspn(b, "#?");
	for (size_t i = 0; i < ARRAY_SIZE(archive_suffixes); i++) {
		bool wheel = i == 0;

		if (!has_suffix(b, n, archive_suffixes[i]))
			continue;
		stem = n - strlen(archive_suffixes[i]);
		/* a wheel: name-version-...; an sdist: name-version */
		dash = wheel ? memchr(b, '-', stem) : memrchr(b, '-', stem);
		if (!dash || dash == b)
			return false;
		pip_meta_value(m->name, sizeof(m->name), b, (size_t)(dash - b));
		stem -= (size_t)(dash + 1 - b);
		if (wheel) {
			const char *end = memchr(dash + 1, '-', stem);

			stem = end ? (size_t)(end - dash - 1) : stem;
		}
		pip_meta_value(m->version, sizeof(m->version), dash + 1, stem);
		return m->name[0] != '\0';
	}
	return false;
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* "name[extra] ==1.0 ; marker": the version when pinned with "==". */
static void pinned_version(const char *s, struct pip_meta *m)
{
	if (*s == '[') {
		s = strchr(s, ']');
		if (!s)
			return;
		s++;
	}
	s += strspn(s, " \t");
	if (strncmp(s, "==", 2) || s[2] == '=')
		return;
	s += 2;
	s += strspn(s, " \t");
	pip_meta_value(m->version, sizeof(m->version), s, strcspn(s, " \t,;"));
}

bool pip_requirement_meta(const char *req, struct pip_meta *m)
{
	const char *egg = strstr(req, "#egg="), *s = req;
	size_t n;

	meta_clear(m, "requirement");
	s += strspn(s, " \t");
	n = strspn(s, NAME_CHARS);
	if (egg && strspn(egg + 5, NAME_CHARS)) {
		pip_meta_value(m->name, sizeof(m->name), egg + 5, strspn(egg + 5, NAME_CHARS));
		return true;
	}
	/* a name, then the end, extras, a version, a marker or "@ url" */
	if (n && isalnum((unsigned char)s[0]) && (!s[n] || strchr(" \t[(<>=!~;@,", s[n]))) {
		pip_meta_value(m->name, sizeof(m->name), s, n);
		pinned_version(s + n, m);
		return m->name[0] != '\0';
	}
	/* a URL or a path */
	{
		autofree char *tok = xasprintf("%.*s", (int)strcspn(s, " \t;"), s);

		return pip_archive_meta(tok, m);
	}
}

/* ---- the local path a requirement names -------------------------------------------- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *pip_file_url_path(const char *url)
{
	const char *p;
	char *out, *o;

	if (strncasecmp(url, "file:", 5) != 0)
		return NULL;
	p = url + 5;
	if (!strncmp(p, "//", 2)) {
		p += 2;
		/* file://localhost/x and file:///x; any other host is not ours */
		if (!strncasecmp(p, "localhost/", 10))
			p += 9;
		else if (*p != '/')
			return NULL;
	}
	out = o = xmalloc(strlen(p) + 1);
	for (; *p && *p != '#' && *p != '?'; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* pip's _looks_like_path: a separator in it, or a leading '.'. */
static bool looks_like_path(const char *s, size_t n)
{
	return (n && s[0] == '.') || memchr(s, '/', n) != NULL;
}

char *pip_requirement_path(const char *req)
{
	const char *s = req + strspn(req, " \t");
	size_t n = strlen(s);
	const char *at;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n)
		return NULL;
	/* a URL: only file: ones are local; nothing after a blank or "; " */
	if (!strncasecmp(s, "file:", 5)) {
		autofree char *url = xasprintf("%.*s", (int)strcspn(s, " \t"), s);

		return pip_file_url_path(url);
	}
	/* "name @ file:///x" (PEP 508), unless what comes before '@' is a path
	 * or a URL's scheme (a "user@host" in "https://user@host/...") */
	at = memchr(s, '@', n);
	if (at && !looks_like_path(s, (size_t)(at - s)) && !memmem(s, (size_t)(at - s), ":", 1)) {
		const char *u = at + 1 + strspn(at + 1, " \t");
		autofree char *url = xasprintf("%.*s", (int)strcspn(u, " \t;"), u);

		return pip_file_url_path(url);
	}
	if (memmem(s, n, "://", 3) && !looks_like_path(s, strcspn(s, ":")))
		return NULL;
	/* "path ; marker", "path[extra]" */
	{
		const char *semi = memchr(s, ';', n);
		size_t len = semi ? (size_t)(semi - s) : n;
		bool archive = false;

		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len && s[len - 1] == ']') {
			const char *open = memrchr(s, '[', len);

			if (open)
				len = (size_t)(open - s);
		}
		for (size_t i = 0; i < ARRAY_SIZE(archive_suffixes); i++)
			archive |= has_suffix(s, len, archive_suffixes[i]);
		if (!len || (!looks_like_path(s, len) && !archive))
			return NULL;
		return xasprintf("%.*s", (int)len, s);
	}
}
