/* A project's name and version from what describes it: PKG-INFO and
 * METADATA (headers only), pyproject.toml, setup.cfg, a literal in
 * setup.py, pip's unpack directory names, the metadata directory a build
 * writes, the jailed command's one requirement.  Every input comes from the
 * package being installed: bounded, and every value is cleaned
 * (pip_meta_value). */
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pip/pip.h"

static void meta_clear(struct pip_meta *m, const char *source)
{
	m->name[0] = m->version[0] = '\0';
	m->source = source;
}

/* Iterate lines: returns the next line start and its length in *n. */
static const char *next_line(const char **cur, size_t *n)
{
	const char *s = *cur, *nl;

	if (!*s)
		return NULL;
	nl = strchr(s, '\n');
	*n = nl ? (size_t)(nl - s) : strlen(s);
	*cur = nl ? nl + 1 : s + *n;
	return s;
}

/* "Key: value" of a header line: the value when the line's key is key. */
static bool header(const char *l, size_t n, const char *key, const char **v, size_t *vn)
{
	size_t k = strlen(key);

	if (n <= k || strncasecmp(l, key, k) || l[k] != ':')
		return false;
	*v = l + k + 1;
	*vn = n - k - 1;
	return true;
}

int pip_meta_from_pkginfo(const char *text, struct pip_meta *m)
{
	const char *cur = text, *l, *v;
	size_t n, vn;

	meta_clear(m, "PKG-INFO");
	while ((l = next_line(&cur, &n))) {
		if (n == 0 || (n == 1 && l[0] == '\r'))
			break;  /* the end of the headers: the description follows */
		if (!m->name[0] && header(l, n, "Name", &v, &vn))
			pip_meta_value(m->name, sizeof(m->name), v, vn);
		else if (!m->version[0] && header(l, n, "Version", &v, &vn))
			pip_meta_value(m->version, sizeof(m->version), v, vn);
	}
	return m->name[0] ? 0 : -1;
}

/* "key = value" (or "key: value") of l when the key is one of the two. */
static void section_key(const char *l, size_t n, struct pip_meta *m)
{
	size_t i = strspn(l, " \t"), k, kend;

	if (i > n)
		return;
	for (k = i; k < n && l[k] != '=' && l[k] != ':'; k++)
		;
	if (k >= n)
		return;
	for (kend = k; kend > i && (l[kend - 1] == ' ' || l[kend - 1] == '\t'); kend--)
		;
	if (kend - i == 4 && !strncmp(l + i, "name", 4) && !m->name[0])
		pip_meta_value(m->name, sizeof(m->name), l + k + 1, n - k - 1);
	else if (kend - i == 7 && !strncmp(l + i, "version", 7) && !m->version[0])
		pip_meta_value(m->version, sizeof(m->version), l + k + 1, n - k - 1);
}

/* key = value lines of one [section] (TOML and INI alike for these keys). */
static int meta_from_section(const char *text, const char *section, struct pip_meta *m)
{
	const char *cur = text, *l;
	size_t n, slen = strlen(section);
	bool in = false;

	while ((l = next_line(&cur, &n))) {
		size_t i = strspn(l, " \t");

		if (i < n && l[i] == '[') {
			in = n - i >= slen && !strncmp(l + i, section, slen);
			continue;
		}
		if (in)
			section_key(l, n, m);
	}
	/* setup.cfg's "version = attr: pkg.__version__" or "file: VERSION" is
	 * not a version (the value is cut at the blank: "attr:"). */
	if (!strncmp(m->version, "attr:", 5) || !strncmp(m->version, "file:", 5))
		m->version[0] = '\0';
	return m->name[0] ? 0 : -1;
}

int pip_meta_from_pyproject(const char *text, struct pip_meta *m)
{
	meta_clear(m, "pyproject.toml");
	return meta_from_section(text, "[project]", m);
}

int pip_meta_from_setupcfg(const char *text, struct pip_meta *m)
{
	meta_clear(m, "setup.cfg");
	return meta_from_section(text, "[metadata]", m);
}

/* The string literal of keyword key ("name", "version") in setup.py. */
static void setuppy_keyword(const char *text, const char *key, char *dst, size_t dlen)
{
	size_t klen = strlen(key);
	const char *s = text;

	while ((s = strstr(s, key))) {
		const char *p = s + klen, *end;
		char before = s > text ? s[-1] : ' ';
		char q;

		s = p;
		if (before == '_' || (before >= 'a' && before <= 'z'))
			continue;   /* package_name, ... */
		p += strspn(p, " ");
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " ");
		q = *p;
		if ((q != '"' && q != '\'') || !(end = strchr(p + 1, q)) || end - p > 100)
			continue;
		pip_meta_value(dst, dlen, p + 1, (size_t)(end - p - 1));
		return;
	}
}

int pip_meta_from_setuppy(const char *text, struct pip_meta *m)
{
	meta_clear(m, "setup.py");
	setuppy_keyword(text, "name", m->name, sizeof(m->name));
	setuppy_keyword(text, "version", m->version, sizeof(m->version));
	return m->name[0] ? 0 : -1;
}

static bool hex32(const char *s)
{
	for (size_t i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int pip_meta_from_dirname(const char *dir, struct pip_meta *m)
{
	const char *base = strrchr(dir, '/'), *dash;
	size_t n;

	meta_clear(m, "directory name");
	base = base ? base + 1 : dir;
	n = strlen(base);
	if (!n || !strncmp(base, "pip-", 4) || !strncmp(base, "tmp", 3))
		return -1;
	if (n > 33 && base[n - 33] == '_' && hex32(base + n - 32)) {
		pip_meta_value(m->name, sizeof(m->name), base, n - 33);
		return m->name[0] ? 0 : -1;
	}
	dash = strrchr(base, '-');
	if (dash && dash > base && dash[1] >= '0' && dash[1] <= '9') {
		pip_meta_value(m->name, sizeof(m->name), base, (size_t)(dash - base));
		pip_meta_value(m->version, sizeof(m->version), dash + 1, strlen(dash + 1));
	} else {
		pip_meta_value(m->name, sizeof(m->name), base, n);
	}
	return m->name[0] ? 0 : -1;
}

int pip_meta_from_written(const char *path, struct pip_meta *m)
{
	const char *s = path;

	meta_clear(m, "metadata written");
	while (s && *s) {
		const char *start = *s == '/' ? s + 1 : s, *end = strchr(start, '/');
		size_t n = end ? (size_t)(end - start) : strlen(start);

		if (n > 9 && !strncmp(start + n - 9, ".egg-info", 9)) {
			pip_meta_value(m->name, sizeof(m->name), start, n - 9);
			return m->name[0] ? 0 : -1;
		}
		if (n > 10 && !strncmp(start + n - 10, ".dist-info", 10)) {
			const char *dash = memchr(start, '-', n - 10);

			if (!dash)
				return -1;
			pip_meta_value(m->name, sizeof(m->name), start, (size_t)(dash - start));
			pip_meta_value(m->version, sizeof(m->version), dash + 1,
				       (size_t)(start + n - 10 - dash - 1));
			return m->name[0] ? 0 : -1;
		}
		s = end;
	}
	return -1;
}

/* The one requirement of "pip install|wheel|download ...", or NULL. */
static const char *single_requirement(const char *const *argv)
{
	size_t start = pip_argv_start(argv);
	struct pip_args it;
	struct pip_arg a;
	const char *req = NULL, *cmd = NULL;
	int count = 0;

	if (!start)
		return NULL;
	pip_args_init(&it, argv + start, false);
	while (pip_args_next(&it, &a)) {
		if (a.kind == PIP_ARG_COMMAND)
			cmd = a.value;
		else if (a.kind == PIP_ARG_REQUIREMENT || (a.opt == PIP_OPT_EDITABLE && a.value))
			req = a.value, count++;
		else if (a.opt == PIP_OPT_REQUIREMENT)
			count += 2;   /* a file of requirements: not one name */
	}
	if (!cmd || (strcmp(cmd, "install") && strcmp(cmd, "wheel") && strcmp(cmd, "download")))
		return NULL;
	return count == 1 ? req : NULL;
}

int pip_meta_from_argv(const char *const *argv, struct pip_meta *m)
{
	const char *req = single_requirement(argv);
	bool path;

	meta_clear(m, "the command line");
	if (!req)
		return -1;
	/* A local tree is named by its directory ("./demo", "../proj-0.3");
	 * an archive and a requirement by what they say. */
	path = strchr(req, '/') || req[0] == '.';
	if (pip_archive_meta(req, m) || (!path && pip_requirement_meta(req, m))) {
		m->source = "the command line";
		return 0;
	}
	if (!path || strstr(req, "://") || pip_meta_from_dirname(req, m) < 0)
		return -1;
	m->source = "the command line";
	return 0;
}

int pip_meta_read_at(int dirfd, const char *path, struct pip_meta *m)
{
	autoclose int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	autofree char *buf = NULL;
	struct stat st;
	ssize_t n;

	meta_clear(m, "PKG-INFO");
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	buf = xmalloc(PIP_META_MAX_BYTES + 1);
	n = read_all(fd, buf, PIP_META_MAX_BYTES);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return pip_meta_from_pkginfo(buf, m);
}
