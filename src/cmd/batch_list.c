/* pipjail analyze --batch: the LIST, the packages' keys, and the files of
 * DIR, always touched with the user's rights (pipjail runs as root; DIR is
 * the user's). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/batch.h"

#define MAX_LIST_BYTES (64u << 20)

char *batch_entry(char *line)
{
	char *end;

	while (isspace((unsigned char)*line))
		line++;
	if (*line == '\0' || *line == '#')
		return NULL;
	/* a comment after the entry: " #..." (a '#' inside a name is kept) */
	for (char *p = line + 1; *p; p++)
		if (*p == '#' && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return line;
}

void batch_key(const char *entry, char key[BATCH_KEY_MAX])
{
	uint8_t h[SHA256_DIGEST_LEN];
	size_t n = 0, len = strlen(entry), start;

	/* the file's name (a trailing '/' of a source directory aside) */
	while (len > 1 && entry[len - 1] == '/')
		len--;
	for (start = len; start > 0 && entry[start - 1] != '/'; start--)
		;
	for (size_t i = start; i < len && n < 40; i++) {
		char c = entry[i];
		bool ok = isalnum((unsigned char)c) || c == '-' || c == '_' || (c == '.' && n > 0);

		key[n++] = ok ? c : '_';
	}
	if (n == 0)
		key[n++] = 'p';
	key[n++] = '-';
	sha256(entry, strlen(entry), h);
	for (size_t i = 0; i < 5; i++, n += 2)
		snprintf(key + n, BATCH_KEY_MAX - n, "%02x", h[i]);
}

/* NAME==VERSION (what submit.sh accepts as one): passed on as it is. */
static bool is_spec(const char *entry)
{
	static regex_t re;
	static bool compiled;

	if (!compiled) {
		if (regcomp(&re, "^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\\[[A-Za-z0-9,._-]*\\])?"
			    "==[^[:space:]]+$", REG_EXTENDED | REG_NOSUB) != 0)
			die("regcomp");
		compiled = true;
	}
	return regexec(&re, entry, 0, NULL, 0) == 0;
}

int batch_read_list(struct batch *b)
{
	size_t len = 0;
	autofree char *text = read_file_as_user(&b->user, b->o.list, MAX_LIST_BYTES, &len);
	char cwd[PATH_MAX], abs[PATH_MAX];
	unsigned lineno = 0;

	if (!text) {
		warn_errno("--batch %s", b->o.list);
		return -1;
	}
	if (strlen(text) != len) {
		warnx_("--batch %s: a NUL byte: not a list of packages", b->o.list);
		return -1;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		die_errno("getcwd");
	b->list_abs = xstrdup(path_clean_abs(abs, sizeof(abs), cwd, b->o.list) == 0 ? abs : b->o.list);
	for (char *line = text, *next; line && *line; line = next) {
		struct batch_pkg *p;
		char *entry;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		entry = batch_entry(line);
		if (!entry)
			continue;
		b->pkgs = xrealloc(b->pkgs, (b->n + 1) * sizeof(*b->pkgs));
		p = &b->pkgs[b->n];
		*p = (struct batch_pkg){ .entry = xstrdup(entry), .lineno = lineno, .index = b->n,
					 .lock_fd = -1, .pid = -1 };
		/* A relative path is the batch's current directory's, as for a
		 * single analyze run there. */
		if (is_spec(entry) || entry[0] == '/' ||
		    path_clean_abs(abs, sizeof(abs), cwd, entry) < 0)
			p->spec = xstrdup(entry);
		else
			p->spec = xstrdup(abs);
		batch_key(entry, p->key);
		b->n++;
	}
	return 0;
}

char *batch_pkg_path(const struct batch *b, const struct batch_pkg *p, const char *suffix)
{
	return xasprintf("%s/%s%s", b->pkgs_dir, p->key, suffix);
}

int batch_make_dirs(const struct batch *b)
{
	if (mkdir_as_user(&b->user, b->o.a.out, 0755) < 0 && errno != EEXIST) {
		warn_errno("--out %s", b->o.a.out);
		return -1;
	}
	if (mkdir_as_user(&b->user, b->pkgs_dir, 0755) < 0 && errno != EEXIST) {
		warn_errno("--out: %s", b->pkgs_dir);
		return -1;
	}
	return 0;
}

/* --- steps run with the user's rights (call_as_user) -------------------- */

struct user_step {
	const struct batch *b;
	const struct batch_pkg *p;
	const char *dir, *name, *data;
	size_t len;
};

static int clear_step(void *ctx)
{
	struct user_step *s = ctx;
	autofree char *log = xasprintf("%s.log", s->p->key);
	autoclose int dfd = open(s->b->pkgs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || rmtree_at(dfd, s->p->key) < 0 || (unlinkat(dfd, log, 0) < 0 && errno != ENOENT))
		return errno ? errno : EIO;
	return 0;
}

int batch_clear_pkg(const struct batch *b, const struct batch_pkg *p)
{
	struct user_step s = { .b = b, .p = p };

	return call_as_user(&b->user, clear_step, &s);
}

static int write_step(void *ctx)
{
	struct user_step *s = ctx;
	autoclose int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || write_atomic_at(dfd, s->name, s->data, s->len) < 0)
		return errno ? errno : EIO;
	return 0;
}

int batch_write_as_user(const struct batch *b, const char *dir, const char *name,
			const char *data, size_t len)
{
	struct user_step s = { .b = b, .dir = dir, .name = name, .data = data, .len = len };

	return call_as_user(&b->user, write_step, &s);
}

/* settle_step's answer, told from an errno value of call_as_user */
#define SETTLED 0x80

static int settle_step(void *ctx)
{
	struct user_step *s = ctx;
	static const struct { const char *name; int bit; } outputs[] = {
		{ "report.json", BATCH_HAS_REPORT }, { "trace.jsonl", BATCH_HAS_TRACE },
		{ "report.html", BATCH_HAS_HTML }, { "payloads", BATCH_HAS_PAYLOADS },
		{ "analyze.log", BATCH_HAS_LOG },
	};
	autofree char *log = xasprintf("%s.log", s->p->key);
	autofree char *inside = xasprintf("%s/analyze.log", s->p->key);
	autoclose int dfd = open(s->b->pkgs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	autoclose int pfd = -1;
	int has = 0;

	if (dfd < 0 || (mkdirat(dfd, s->p->key, 0755) < 0 && errno != EEXIST))
		return 0;
	renameat(dfd, log, dfd, inside);
	pfd = openat(dfd, s->p->key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (size_t i = 0; pfd >= 0 && i < ARRAY_SIZE(outputs); i++) {
		struct stat st;

		if (fstatat(pfd, outputs[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			has |= outputs[i].bit;
	}
	return SETTLED | has;
}

int batch_settle_pkg(const struct batch *b, const struct batch_pkg *p)
{
	struct user_step s = { .b = b, .p = p };

	int r = call_as_user(&b->user, settle_step, &s);

	return r & SETTLED ? r & ~SETTLED : 0;
}

char *batch_read_tail(const struct batch *b, const char *path, size_t max)
{
	autoclose int fd = open_as_user(&b->user, path, O_RDONLY, 0);
	char *buf;
	ssize_t n;
	off_t end;

	if (fd < 0)
		return NULL;
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)max)
		lseek(fd, end - (off_t)max, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	buf = xmalloc(max + 1);
	n = read_all(fd, buf, max);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}
