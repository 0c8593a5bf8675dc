/* Requirements and constraints files, read as pip reads them
 * (pip/_internal/req/req_file.py: preprocess, break_args_options,
 * RequirementsFileParser): the one reader behind the index settings
 * (index.c) and the CI attribution of packages to requirement lines
 * (report/).  The files come from the project being installed: bounded in
 * size, count and depth, opened non-blocking, each read once. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pip/pip.h"

/* ---- text ----------------------------------------------------------------------- */

/* Python's str.isspace() and the \s of its re module, for ASCII. */
static bool py_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* str.splitlines() breaks: LF, CR, CRLF, VT, FF, FS, GS, RS. */
static bool line_break(char c)
{
	return c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e);
}

/* A growing string: an open_memstream and what it writes into. */
struct text {
	FILE *f;
	char *s;
	size_t n;
};

static void text_open(struct text *t)
{
	t->s = NULL;
	t->f = open_memstream(&t->s, &t->n);
	if (!t->f)
		die_errno("open_memstream");
}

/* The string written (malloc'd). */
static char *text_close(struct text *t)
{
	if (fclose(t->f) != 0)
		die_errno("open_memstream");
	t->f = NULL;
	return t->s;
}

/* COMMENT_RE.match: the line's first non-blank character is '#'. */
static bool comment_line(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && py_space(s[i]))
		i++;
	return i < n && s[i] == '#';
}

/* ignore_comments: cut at a '#' that starts the line or follows a blank,
 * then strip.  In place; returns the start. */
static char *strip_comment(char *s)
{
	char *e;

	for (char *c = s; *c; c++) {
		if (*c == '#' && (c == s || py_space(c[-1]))) {
			*c = '\0';
			break;
		}
	}
	while (py_space(*s))
		s++;
	e = s + strlen(s);
	while (e > s && py_space(e[-1]))
		*--e = '\0';
	return s;
}

/* expand_env_variables: ${NAME} with NAME of upper case letters, digits and
 * '_', replaced when set and not empty; otherwise left as written. */
static char *expand_env(char *const *envp, const char *in)
{
	struct text out;

	if (!strstr(in, "${"))
		return xstrdup(in);
	text_open(&out);
	for (const char *p = in; *p;) {
		size_t n = p[0] == '$' && p[1] == '{' ? strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") : 0;
		const char *v = NULL;

		if (n && p[2 + n] == '}') {
			autofree char *name = xasprintf("%.*s", (int)n, p + 2);

			v = pip_env_get(envp, name);
		}
		if (v && *v) {
			fputs(v, out.f);
			p += n + 3;
		} else {
			fputc(*p++, out.f);
		}
	}
	return text_close(&out);
}

/* shlex.split (POSIX mode, no comments) of s: malloc'd words, NULL-terminated. */
static bool word_break(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char **shell_words(const char *s)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	for (;;) {
		char *w;
		size_t k = 0;

		while (word_break(*s))
			s++;
		if (!*s)
			break;
		w = xmalloc(strlen(s) + 1);   /* a word is never longer than what is left */
		while (*s && !word_break(*s)) {
			char q = *s;

			if (q == '\'' || q == '"') {
				for (s++; *s && *s != q; s++) {
					if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					w[k++] = *s;
				}
				if (*s)
					s++;
			} else if (q == '\\' && s[1]) {
				w[k++] = s[1];
				s += 2;
			} else {
				w[k++] = *s++;
			}
		}
		w[k] = '\0';
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = w;
		v[n] = NULL;
	}
	return v;
}

static void free_words(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- files ---------------------------------------------------------------------- */

static int read_file(struct pip_req_reader *r, const char *path, bool constraint, int depth);

/* A nested -r/-c value: relative to the file that names it; a URL is
 * pip's to fetch, not followed. */
static int nested(struct pip_req_reader *r, const char *file, const char *value, bool constraint,
		  int depth)
{
	autofree char *dir = xstrdup(file), *path = NULL;
	char *slash = strrchr(dir, '/');

	if (strstr(value, "://") || !strncasecmp(value, "file:", 5))
		return 0;
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	path = value[0] == '/' || !slash ? xstrdup(value) : xasprintf("%s/%s", dir, value);
	return read_file(r, path, constraint, depth + 1);
}

/* One logical line, comments and variables done (parse_line, then
 * _parse_and_recurse). */
static int logical_line(struct pip_req_reader *r, const char *file, unsigned lineno,
			const char *text, bool constraint, int depth)
{
	const char *opts = text;
	autofree char *req = NULL;
	char **words;
	struct pip_args it;
	struct pip_arg a;
	const char *first_r = NULL, *first_c = NULL, *first_e = NULL;
	int rc = 0;

	/* break_args_options: the words (split at ' ') before the first that
	 * starts with '-' are the requirement. */
	while (*opts && !(opts[0] == '-' && (opts == text || opts[-1] == ' ')))
		opts++;
	req = xasprintf("%.*s", (int)(opts - text), text);
	for (size_t n = strlen(req); n && req[n - 1] == ' '; n--)
		req[n - 1] = '\0';
	words = shell_words(opts);
	pip_args_init(&it, (const char *const *)words, true);
	while (pip_args_next(&it, &a)) {
		if (a.opt == PIP_OPT_REQUIREMENT && a.value && !first_r)
			first_r = a.value;
		else if (a.opt == PIP_OPT_CONSTRAINT && a.value && !first_c)
			first_c = a.value;
		else if (a.opt == PIP_OPT_EDITABLE && a.value && !first_e)
			first_e = a.value;
	}
	if (!req[0] && !first_e && (first_r || first_c)) {
		/* -r in a constraints file names requirements (pip does the same) */
		rc = nested(r, file, first_r ? first_r : first_c, !first_r, depth);
	} else if (r->on_line) {
		struct pip_req_line l = {
			.file = file, .line = lineno, .constraint = constraint,
			.requirement = req[0] ? req : first_e, .editable = !req[0] && first_e,
			.words = (const char *const *)words,
		};

		rc = r->on_line(r->ctx, &l);
	}
	free_words(words);
	return rc;
}

/* One joined line, as preprocess() hands it on. */
static int joined_line(struct pip_req_reader *r, const char *file, unsigned lineno, char *line,
		       bool constraint, int depth)
{
	char *s = strip_comment(line);
	autofree char *expanded = NULL;

	if (!*s)
		return 0;
	expanded = expand_env(r->envp, s);
	return logical_line(r, file, lineno, expanded, constraint, depth);
}

static int parse(struct pip_req_reader *r, const char *file, const char *text, size_t len,
		 bool constraint, int depth)
{
	const char *p = text, *end = text + len;
	struct text joined = { 0 };
	unsigned lineno = 0, first = 0;
	int rc = 0;

	/* join_lines: a line ending with '\' goes on (its backslashes at both
	 * ends dropped), unless it is a comment line; the joined line takes
	 * the first line's number. */
	while (p < end && !rc) {
		const char *s = p;
		size_t n;
		bool more;

		while (p < end && !line_break(*p))
			p++;
		n = (size_t)(p - s);
		if (p < end)
			p += p[0] == '\r' && p + 1 < end && p[1] == '\n' ? 2 : 1;
		lineno++;
		more = n && s[n - 1] == '\\' && !comment_line(s, n);
		if (!more && !joined.f) {
			/* a line of its own: the common case */
			autofree char *line = xasprintf("%.*s", (int)n, s);

			rc = joined_line(r, file, lineno, line, constraint, depth);
			continue;
		}
		if (!joined.f) {
			first = lineno;
			text_open(&joined);
		} else if (comment_line(s, n)) {
			fputc(' ', joined.f);
		}
		if (more) {
			while (n && s[n - 1] == '\\')
				n--;
			while (n && s[0] == '\\')
				s++, n--;
		}
		fwrite(s, 1, n, joined.f);
		if (!more) {
			autofree char *line = text_close(&joined);

			rc = joined_line(r, file, first, line, constraint, depth);
		}
	}
	if (joined.f) {
		autofree char *line = text_close(&joined);

		if (!rc)
			rc = joined_line(r, file, first, line, constraint, depth);
	}
	return rc;
}

static int open_default(const char *path, void *ctx)
{
	(void)ctx;
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

static int read_file(struct pip_req_reader *r, const char *path, bool constraint, int depth)
{
	char clean[PATH_MAX];
	autoclose int fd = -1;
	autofree char *text = NULL;
	struct stat st;
	ssize_t n;

	if (depth > PIP_REQ_MAX_DEPTH || r->n_seen >= PIP_REQ_MAX_FILES)
		return 0;
	if (path[0] != '/' || path_clean_abs(clean, sizeof(clean), NULL, path) < 0)
		snprintf(clean, sizeof(clean), "%s", path);
	for (size_t i = 0; i < r->n_seen; i++)
		if (!strcmp(r->seen[i], clean))
			return 0;   /* read already (or a loop of -r files) */
	fd = (r->open_file ? r->open_file : open_default)(clean, r->open_ctx);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)PIP_REQ_MAX_BYTES) {
		debugx(1, "requirements file %s: not read (%s)", clean,
		       fd < 0 ? strerror(errno) : "not a regular file of at most 16 MiB");
		return 0;
	}
	text = xmalloc((size_t)st.st_size + 1);
	n = read_all(fd, text, (size_t)st.st_size);
	if (n < 0)
		return 0;
	r->seen = xrealloc(r->seen, (r->n_seen + 1) * sizeof(*r->seen));
	r->seen[r->n_seen++] = xstrdup(clean);
	debugx(2, "reading requirements file %s", clean);
	if (r->on_file) {
		int rc = r->on_file(r->ctx, clean, constraint);

		if (rc)
			return rc;
	}
	return parse(r, clean, text, (size_t)n, constraint, depth);
}

int pip_requirements_read(struct pip_req_reader *r, const char *path, const char *dir,
			  bool constraint)
{
	autofree char *full = path[0] == '/' || !dir ? xstrdup(path) : xasprintf("%s/%s", dir, path);

	if (strstr(path, "://") || !strncasecmp(path, "file:", 5))
		return 0;   /* pip fetches it */
	return read_file(r, full, constraint, 0);
}

int pip_requirements_parse(struct pip_req_reader *r, const char *file, const char *text,
			   size_t len, bool constraint)
{
	return parse(r, file, text, len, constraint, 0);
}

void pip_requirements_done(struct pip_req_reader *r)
{
	for (size_t i = 0; i < r->n_seen; i++)
		free(r->seen[i]);
	free(r->seen);
	r->seen = NULL;
	r->n_seen = 0;
}
