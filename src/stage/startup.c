/* Staged install: what runs at every interpreter start.  A .pth file is
 * read exactly as CPython 3.11's site.addpackage() reads it (any name,
 * universal newlines, "import" followed by a space or a tab), through the
 * view the jail had: the stage's upper layer over the target, with
 * whiteouts and opaque directories, symlinks followed one component at a
 * time as the kernel does, never out of the target.  Runs in the
 * supervisor, after the overlay is gone. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stage/internal.h"

#define VIEW_MAX_LINKS   40            /* the kernel's limit */
#define PTH_MAX_BYTES    (64u << 20)   /* larger: reported, not read */

/* An O_PATH descriptor of rel beneath dfd, no symlink followed on the way
 * (a symlink at the end is opened itself); -1 with errno. */
static int path_beneath(int dfd, const char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
}

/* Is rel's lower entry hidden by upper: an ancestor in upper that is a
 * whiteout, not a directory, or an opaque directory? */
static bool hidden_by_upper(struct stage *s, const char *rel)
{
	autofree char *p = xstrdup(rel);

	for (char *slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
		struct stat st;
		autoclose int fd = -1;

		*slash = '\0';
		fd = path_beneath(s->upper_fd, p);
		if (fd < 0) {
			*slash = '/';
			if (errno == ENOENT)
				return false;   /* nothing deeper in upper either */
			return true;            /* unreadable: take the safe side */
		}
		if (fstat(fd, &st) < 0 || is_whiteout(&st) || !S_ISDIR(st.st_mode) ||
		    ovl_flag(s->upper_fd, p, "opaque")) {
			*slash = '/';
			return true;
		}
		*slash = '/';
	}
	return false;
}

/* rel as the jail saw it: an O_PATH descriptor of the entry (upper's when
 * upper has one), or -1 when it is absent or hidden. */
static int view_find(struct stage *s, const char *rel, struct stat *st)
{
	int fd = path_beneath(s->upper_fd, rel);

	if (fd >= 0) {
		if (fstat(fd, st) == 0 && !is_whiteout(st))
			return fd;
		close(fd);
		return -1;
	}
	if (hidden_by_upper(s, rel))
		return -1;
	fd = path_beneath(s->target_fd, rel);
	if (fd >= 0 && fstat(fd, st) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Follow rel to what it names in the jail's view; the final entry's
 * O_PATH descriptor (never a symlink), or -1 with *why. */
static int view_resolve(struct stage *s, const char *rel, struct stat *st, char **why)
{
	autofree char *todo = xstrdup(rel);
	char done[PATH_MAX] = "";
	size_t tlen = strlen(s->target);
	int links = 0;

	for (;;) {
		char *slash, cand[PATH_MAX];
		const char *c = todo;
		char *rest;
		int fd;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		slash = strchr(c, '/');
		rest = slash ? slash + 1 : (char *)c + strlen(c);
		if (slash)
			*slash = '\0';
		if (!strcmp(c, ".") || !strcmp(c, "..")) {
			if (!strcmp(c, "..")) {
				char *up = strrchr(done, '/');

				if (!done[0]) {
					*why = xstrdup("it is a symlink that leads out of the environment");
					return -1;
				}
				if (up)
					*up = '\0';
				else
					done[0] = '\0';
			}
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		if ((size_t)snprintf(cand, sizeof(cand), "%s%s%s", done, done[0] ? "/" : "", c) >= sizeof(cand)) {
			*why = xstrdup("its path is too long");
			return -1;
		}
		fd = view_find(s, cand, st);
		if (fd < 0) {
			*why = xasprintf("it is a symlink to nothing (%s): a file created there later would run", cand);
			return -1;
		}
		if (S_ISLNK(st->st_mode)) {
			char link[PATH_MAX];
			ssize_t n = readlinkat(fd, "", link, sizeof(link) - 1);
			char *next;

			close(fd);
			if (n <= 0 || ++links > VIEW_MAX_LINKS) {
				*why = xstrdup("it is a symlink in a loop (or unreadable)");
				return -1;
			}
			link[n] = '\0';
			if (link[0] == '/') {
				if (!path_is_under(link, s->target) || (link[tlen] && link[tlen] != '/')) {
					*why = xasprintf("it is a symlink that leads out of the environment (to %s)", link);
					return -1;
				}
				done[0] = '\0';
				next = xasprintf("%s/%s", link + tlen, rest);
			} else {
				next = xasprintf("%s/%s", link, rest);
			}
			free(todo);
			todo = next;
			continue;
		}
		if (*rest && !S_ISDIR(st->st_mode)) {
			close(fd);
			*why = xasprintf("%s is not a directory", cand);
			return -1;
		}
		memcpy(done, cand, strlen(cand) + 1);
		memmove(todo, rest, strlen(rest) + 1);
		if (!*todo)
			return fd;
		close(fd);
	}
	*why = xstrdup("it names the environment's root");
	return -1;
}

static bool starts_import(const char *p, const char *end)
{
	return end - p >= 7 && !memcmp(p, "import", 6) && (p[6] == ' ' || p[6] == '\t');
}

/* The lines site.py executes.  io.TextIOWrapper's universal newlines end a
 * line at "\n", "\r\n" or a lone "\r"; a line that starts with "import "
 * or "import\t" is exec()'d (whatever follows a failing line is skipped by
 * site.py; every one is reported here).  The locale's encoding is one that
 * keeps ASCII as is (a UTF-8 BOM is not skipped: "\xef\xbb\xbfimport" is a
 * path line for site.py too). */
static char *pth_code_lines(const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n;
	char *out = NULL;
	size_t olen = 0;

	while (p < end) {
		const char *e = p;

		while (e < end && *e != '\n' && *e != '\r')
			e++;
		if (starts_import(p, e)) {
			size_t len = (size_t)(e - p);

			out = xrealloc(out, olen + len + 2);
			memcpy(out + olen, p, len);
			olen += len;
			out[olen++] = '\n';
			out[olen] = '\0';
		}
		if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n')
			e++;
		p = e + 1;
	}
	if (out && olen)
		out[olen - 1] = '\0';
	return out;
}

/* A path line of a .pth (site.py: each line that is neither a comment nor
 * an import names a directory, relative to the site directory, put on
 * sys.path when it exists) that names a directory any user may write, or
 * one that does not exist yet below such a directory: whatever another
 * local user puts there is imported by this environment's Python, as its
 * owner.  Judged on the host's file system (the directory as the user's
 * later Python will find it), by the nearest part of the path that exists.
 * NULL: none, else why (malloc'd). */
static char *pth_shared_dir(struct stage *s, const char *rel, const char *buf, size_t n)
{
	autofree char *site = xasprintf("%s/%s", s->target, rel);
	char *slash = strrchr(site, '/');

	*slash = '\0';
	for (size_t i = 0; i < n;) {
		size_t len = 0;
		autofree char *line = NULL, *dir = NULL;
		struct stat st;
		char *end;

		/* buf holds no NUL at its end: scanned by length */
		while (i + len < n && buf[i + len] != '\r' && buf[i + len] != '\n')
			len++;
		line = xasprintf("%.*s", (int)len, buf + i);
		i += len;
		i += i < n && buf[i] == '\r' && i + 1 < n && buf[i + 1] == '\n' ? 2 : 1;
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!line[0] || line[0] == '#' || !strncmp(line, "import ", 7) || !strncmp(line, "import\t", 7))
			continue;
		dir = line[0] == '/' ? xstrdup(line) : xasprintf("%s/%s", site, line);
		for (;;) {
			char *cut;

			if (stat(dir, &st) == 0) {
				if (S_ISDIR(st.st_mode) && (st.st_mode & S_IWOTH))
					return xasprintf("its path line %s puts a directory every local user may write "
							 "(%s, mode %04o) on sys.path: what another user plants there runs "
							 "in this environment's Python", line, dir,
							 (unsigned)(st.st_mode & 07777));
				break;
			}
			if (!(cut = strrchr(dir, '/')) || cut == dir)
				break;
			*cut = '\0';
		}
	}
	return NULL;
}

enum pth_kind pth_read(struct stage *s, const char *rel, char **text)
{
	struct stat st;
	autofree char *why = NULL, *buf = NULL;
	autoclose int pfd = view_resolve(s, rel, &st, &why), fd = -1;
	ssize_t n;

	*text = NULL;
	if (pfd < 0) {
		*text = steal_pointer(&why);
		return PTH_BAD;
	}
	if (!S_ISREG(st.st_mode)) {
		*text = xstrdup("it is not a regular file (site.py would block or fail on it)");
		return PTH_BAD;
	}
	if ((uint64_t)st.st_size > PTH_MAX_BYTES) {
		*text = xasprintf("it is too large to read (%lld bytes)", (long long)st.st_size);
		return PTH_BAD;
	}
	{
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
		fd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	if (fd < 0 || (n = read_all(fd, buf, (size_t)st.st_size)) < 0) {
		*text = xasprintf("it cannot be read: %s", strerror(errno));
		return PTH_BAD;
	}
	*text = pth_code_lines(buf, (size_t)n);
	if (*text)
		return PTH_CODE;
	*text = pth_shared_dir(s, rel, buf, (size_t)n);
	return *text ? PTH_BAD : PTH_PATHS;
}

/* The lines of setuptools' distutils-precedence.pth (60 and later, and the
 * 49-59 form), which import its _distutils_hack. */
static const char *const distutils_lines[] = {
	"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == "
	"'local'; enabled and __import__('_distutils_hack').add_shim(); ",
	"import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'stdlib') == "
	"'local'; enabled and __import__('_distutils_hack').add_shim(); ",
};

/* Does distribution di (of this run) declare dir/name? */
static bool declares(struct stage *s, const char *rel_pth, const char *name, int di)
{
	autofree char *dir = dir_of(rel_pth);
	autofree char *p = *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
	const struct record_entry *re;

	return dists_declared_by_name(s, s->dists[di].norm, p, &re) == di;
}

/* setuptools' editable finder: "import F; F.install()" with F =
 * __editable___<identifier>_finder (setuptools.command.editable_wheel). */
static bool editable_line(const char *line, char *finder, size_t len)
{
	const char *p = line + 7, *q = p;
	size_t n;

	while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_')
		q++;
	n = (size_t)(q - p);
	if (strncmp(line, "import ", 7) || n < 20 || n >= len || strncmp(p, "__editable___", 13) ||
	    n < 7 || strncmp(q - 7, "_finder", 7))
		return false;
	memcpy(finder, p, n);
	finder[n] = '\0';
	/* the rest: exactly "; F.install()" */
	return !strncmp(q, "; ", 2) && !strncmp(q + 2, finder, n) && !strcmp(q + 2 + n, ".install()");
}

bool pth_line_allowed(struct stage *s, const char *rel, const char *line, int di, bool editable)
{
	char finder[256];

	for (size_t i = 0; i < ARRAY_SIZE(distutils_lines); i++)
		if (!strcmp(line, distutils_lines[i]))
			return !strcmp(s->dists[di].norm, "setuptools") &&
			       declares(s, rel, "_distutils_hack/__init__.py", di);
	if (editable && editable_line(line, finder, sizeof(finder) - 3)) {
		strcat(finder, ".py");
		return declares(s, rel, finder, di);
	}
	return false;
}

bool stage_touched(struct stage *s, const char *abs_path)
{
	size_t tlen = strlen(s->target);
	autoclose int fd = -1;

	if (!path_is_under(abs_path, s->target) || abs_path[tlen] != '/')
		return false;
	fd = path_beneath(s->upper_fd, abs_path + tlen + 1);
	return fd >= 0 || (errno != ENOENT && errno != ENOTDIR) || hidden_by_upper(s, abs_path + tlen + 1);
}
