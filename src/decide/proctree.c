/* The process tree of the jail: who is pip, which process runs which
 * package's build hook, which tool a build started.  Keyed by host pid; fed
 * by fork, exec and exit events.  A child inherits its parent's role and
 * package; an exec re-classifies (see classify()).
 *
 * Package names come from the build's source tree, which lives in the jail's
 * private /tmp: it is read through /proc/<pid>/root with openat2
 * (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so that a symlink the package
 * planted resolves inside the jail and never reaches a host file, and only
 * the first few KiB are read.  In replay the trace's "package" notes say
 * what the live run found. */
#include "decide/engine_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base/base.h"

#define META_MAX_BYTES (64 * 1024)

/* ---- the table --------------------------------------------------------------- */

static size_t slot_of(const struct engine *e, uint32_t hpid)
{
	return (hpid * 2654435761u) & (e->procs_cap - 1);
}

struct proc *proc_get(struct engine *e, uint32_t hpid)
{
	if (!e->procs_cap || !hpid)
		return NULL;
	for (size_t i = slot_of(e, hpid);; i = (i + 1) & (e->procs_cap - 1)) {
		if (!e->procs[i])
			return NULL;
		if (e->procs[i]->info.hpid == hpid)
			return e->procs[i];
	}
}

static void table_put(struct engine *e, struct proc *pr)
{
	size_t i;

	for (i = slot_of(e, pr->info.hpid); e->procs[i]; i = (i + 1) & (e->procs_cap - 1)) {
		if (e->procs[i]->info.hpid == pr->info.hpid) {
			e->procs[i] = pr;
			return;
		}
	}
	e->procs[i] = pr;
	e->procs_n++;
}

static void proc_free(struct proc *pr)
{
	if (!pr)
		return;
	free(pr->package);
	free(pr->version);
	free(pr->hook);
	free(pr->srcdir);
	free(pr->exe);
	free(pr->comm);
	free(pr->label);
	free(pr->prog);
	free(pr);
}

/* Keep info's pointers in step with the owned strings. */
static void sync_info(struct proc *pr)
{
	pr->info.package = pr->package;
	pr->info.version = pr->version;
	pr->info.hook = pr->hook;
	pr->info.srcdir = pr->srcdir;
	pr->info.exe = pr->exe;
	pr->info.comm = pr->comm;
}

static void set_str(char **dst, const char *s)
{
	if (*dst == s)
		return;
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* A process that exited stays in the table (its descendants' chains name
 * it) until its pid is used again. */
static struct proc *proc_new(struct engine *e, uint32_t hpid)
{
	struct proc *pr = xcalloc(1, sizeof(*pr)), *old;

	if ((e->procs_n + 1) * 2 > e->procs_cap) {
		struct proc **oldv = e->procs;
		size_t oldcap = e->procs_cap;

		e->procs_cap = oldcap ? oldcap * 2 : 1024;
		e->procs = xcalloc(e->procs_cap, sizeof(*e->procs));
		e->procs_n = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (oldv[i])
				table_put(e, oldv[i]);
		free(oldv);
	}
	old = proc_get(e, hpid);
	pr->info.hpid = hpid;
	pr->pkg = -1;
	table_put(e, pr);
	proc_free(old);
	return pr;
}

static void inherit(struct engine *e, struct proc *child, const struct proc *parent)
{
	child->info.role = parent->info.role;
	child->info.hppid = parent->info.hpid;
	set_str(&child->package, parent->package);
	set_str(&child->version, parent->version);
	set_str(&child->hook, parent->hook);
	set_str(&child->srcdir, parent->srcdir);
	set_str(&child->exe, parent->exe);
	set_str(&child->comm, parent->comm);
	set_str(&child->label, parent->label);
	set_str(&child->prog, parent->prog);
	child->pkg = parent->pkg;
	if (child->pkg >= 0 && child->info.role < ROLE_COUNT)
		e->pkgs[child->pkg].processes[child->info.role]++;
	sync_info(child);
}

struct proc *proc_lookup_or_new(struct engine *e, const struct trace_event *ev)
{
	struct proc *pr = proc_get(e, ev->hpid), *parent;

	if (pr)
		return pr;
	/* Not seen before (its fork was lost, or it was there before tracing):
	 * take what its parent has. */
	pr = proc_new(e, ev->hpid);
	pr->info.pid = ev->pid;
	parent = proc_get(e, ev->hppid);
	if (parent && parent != pr)
		inherit(e, pr, parent);
	pr->info.hppid = ev->hppid;
	set_str(&pr->comm, ev->comm);
	set_str(&pr->exe, ev->exe);
	sync_info(pr);
	return pr;
}

void proctree_free(struct engine *e)
{
	for (size_t i = 0; i < e->procs_cap; i++)
		proc_free(e->procs[i]);
	free(e->procs);
	e->procs = NULL;
	e->procs_cap = e->procs_n = 0;
	for (size_t i = 0; i < e->n_pkgs; i++) {
		struct pkg *k = &e->pkgs[i];

		free(k->name);
		free(k->version);
		free(k->srcdir);
		free(k->source);
		for (size_t j = 0; j < k->n_hooks; j++)
			free(k->hooks[j]);
		free(k->hooks);
	}
	free(e->pkgs);
	e->pkgs = NULL;
	e->n_pkgs = 0;
	writers_free(e);
}

/* ---- packages ------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int pkg_intern(struct engine *e, const char *name, const char *version, const char *srcdir)
{
	/* Builds nothing named stay apart by their source tree: two unknown
	 * packages are not one. */
	if (!name) {
		/* The same source tree is the same package (its name may have been
		 * learned since, from what its first hook wrote). */
		for (size_t i = 0; srcdir && i < e->n_pkgs; i++)
			if (str_eq(e->pkgs[i].srcdir, srcdir))
				return (int)i;
		e->pkgs = xrealloc(e->pkgs, (e->n_pkgs + 1) * sizeof(*e->pkgs));
		memset(&e->pkgs[e->n_pkgs], 0, sizeof(e->pkgs[0]));
		e->pkgs[e->n_pkgs].name = xstrdup("(unknown)");
		e->pkgs[e->n_pkgs].srcdir = srcdir ? xstrdup(srcdir) : NULL;
		return (int)e->n_pkgs++;
	}
	for (size_t i = 0; i < e->n_pkgs; i++)
		if (!strcmp(e->pkgs[i].name, name) && str_eq(e->pkgs[i].version, version))
			return (int)i;
	/* A version learned later for a package first seen without one. */
	for (size_t i = 0; i < e->n_pkgs; i++) {
		if (!strcmp(e->pkgs[i].name, name) && !e->pkgs[i].version && version) {
			e->pkgs[i].version = xstrdup(version);
			return (int)i;
		}
	}
	e->pkgs = xrealloc(e->pkgs, (e->n_pkgs + 1) * sizeof(*e->pkgs));
	memset(&e->pkgs[e->n_pkgs], 0, sizeof(e->pkgs[0]));
	e->pkgs[e->n_pkgs].name = xstrdup(name);
	e->pkgs[e->n_pkgs].version = version ? xstrdup(version) : NULL;
	return (int)e->n_pkgs++;
}

void pkg_add_hook(struct pkg *k, const char *hook)
{
	if (!hook)
		return;
	for (size_t i = 0; i < k->n_hooks; i++)
		if (!strcmp(k->hooks[i], hook))
			return;
	k->hooks = xrealloc(k->hooks, (k->n_hooks + 1) * sizeof(*k->hooks));
	k->hooks[k->n_hooks++] = xstrdup(hook);
}

/* ---- package metadata ------------------------------------------------------------ */

static void copy_trim(char *dst, size_t len, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		s++;
		n -= 2;
	}
	if (n >= len)
		n = len - 1;
	/* Names and versions are short and printable: anything else is cut. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\') {
			n = i;
			break;
		}
	memcpy(dst, s, n);
	dst[n] = '\0';
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

int meta_from_pkginfo(const char *text, struct pkg_meta *m)
{
	const char *cur = text, *l;
	size_t n;

	m->name[0] = m->version[0] = '\0';
	while ((l = next_line(&cur, &n))) {
		if (n == 0 || (n == 1 && l[0] == '\r'))
			break;  /* end of the headers */
		if (n > 5 && !strncmp(l, "Name:", 5) && !m->name[0])
			copy_trim(m->name, sizeof(m->name), l + 5, n - 5);
		else if (n > 8 && !strncmp(l, "Version:", 8) && !m->version[0])
			copy_trim(m->version, sizeof(m->version), l + 8, n - 8);
	}
	m->source = "PKG-INFO";
	return m->name[0] ? 0 : -1;
}

/* key = value lines of one [section] (TOML and INI alike for these keys). */
static int meta_from_section(const char *text, const char *section, struct pkg_meta *m)
{
	const char *cur = text, *l;
	size_t n, slen = strlen(section);
	bool in = false;

	m->name[0] = m->version[0] = '\0';
	while ((l = next_line(&cur, &n))) {
		size_t i = 0, k;

		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		if (i < n && l[i] == '[') {
			in = n - i >= slen && !strncmp(l + i, section, slen);
			continue;
		}
		if (!in)
			continue;
		for (k = i; k < n && l[k] != '=' && l[k] != ':'; k++)
			;
		if (k >= n)
			continue;
		{
			size_t kend = k;

			while (kend > i && (l[kend - 1] == ' ' || l[kend - 1] == '\t'))
				kend--;
			if (kend - i == 4 && !strncmp(l + i, "name", 4) && !m->name[0])
				copy_trim(m->name, sizeof(m->name), l + k + 1, n - k - 1);
			else if (kend - i == 7 && !strncmp(l + i, "version", 7) && !m->version[0])
				copy_trim(m->version, sizeof(m->version), l + k + 1, n - k - 1);
		}
	}
	/* setup.cfg's "version = attr: pkg.__version__" or "file: VERSION" is
	 * not a version. */
	if (!strncmp(m->version, "attr:", 5) || !strncmp(m->version, "file:", 5))
		m->version[0] = '\0';
	return m->name[0] ? 0 : -1;
}

int meta_from_pyproject(const char *text, struct pkg_meta *m)
{
	int r = meta_from_section(text, "[project]", m);

	m->source = "pyproject.toml";
	return r;
}

int meta_from_setupcfg(const char *text, struct pkg_meta *m)
{
	int r = meta_from_section(text, "[metadata]", m);

	m->source = "setup.cfg";
	return r;
}

/* setup.py: a literal name="..." / version="..." keyword, when there is one. */
static int meta_from_setuppy(const char *text, struct pkg_meta *m)
{
	static const char *const keys[] = { "name", "version" };

	m->name[0] = m->version[0] = '\0';
	for (int k = 0; k < 2; k++) {
		const char *s = text;
		char *dst = k ? m->version : m->name;
		size_t dlen = k ? sizeof(m->version) : sizeof(m->name);

		while ((s = strstr(s, keys[k]))) {
			const char *p = s + strlen(keys[k]);
			char q;
			const char *end;

			if (s > text && (s[-1] == '_' || (s[-1] >= 'a' && s[-1] <= 'z'))) {
				s = p;
				continue;
			}
			while (*p == ' ')
				p++;
			if (*p != '=') {
				s = p;
				continue;
			}
			p++;
			while (*p == ' ')
				p++;
			q = *p;
			if ((q != '"' && q != '\'') || !(end = strchr(p + 1, q)) || end - p > 100) {
				s = p;
				continue;
			}
			copy_trim(dst, dlen, p + 1, (size_t)(end - p - 1));
			break;
		}
	}
	m->source = "setup.py";
	return m->name[0] ? 0 : -1;
}

/* pip's unpack directories: "<name>_<32 hex>" (newer pip), "<name>" under
 * pip-install-*, "<name>-<version>" for a local tree; "pip-req-build-*"
 * says nothing. */
int meta_from_dirname(const char *dir, struct pkg_meta *m)
{
	const char *base = strrchr(dir, '/');
	size_t n;

	m->name[0] = m->version[0] = '\0';
	m->source = "directory name";
	base = base ? base + 1 : dir;
	n = strlen(base);
	if (!n || !strncmp(base, "pip-", 4) || !strncmp(base, "tmp", 3))
		return -1;
	if (n > 33 && base[n - 33] == '_') {
		bool hex = true;

		for (size_t i = n - 32; i < n; i++)
			if (!((base[i] >= '0' && base[i] <= '9') || (base[i] >= 'a' && base[i] <= 'f')))
				hex = false;
		if (hex) {
			copy_trim(m->name, sizeof(m->name), base, n - 33);
			return m->name[0] ? 0 : -1;
		}
	}
	{
		const char *dash = strrchr(base, '-');

		if (dash && dash > base && dash[1] >= '0' && dash[1] <= '9') {
			copy_trim(m->name, sizeof(m->name), base, (size_t)(dash - base));
			copy_trim(m->version, sizeof(m->version), dash + 1, strlen(dash + 1));
			return 0;
		}
	}
	copy_trim(m->name, sizeof(m->name), base, n);
	return 0;
}

/* Read a small file of the jail, confined to the jail's root. */
static char *read_in_jail(int rootfd, const char *dir, const char *name)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	autofree char *path = xasprintf("%s/%s", dir, name);
	autoclose int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0 && errno == EXDEV) {
		/* The tree is on another mount of the jail (a bind): allow crossing
		 * mounts, still inside the root. */
		how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	buf = xmalloc(META_MAX_BYTES + 1);
	n = read_all(fd, buf, META_MAX_BYTES);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n))
		buf[strlen(buf)] = '\0';
	return buf;
}

static int meta_live(uint32_t hpid, const char *dir, struct pkg_meta *m)
{
	static const struct {
		const char *file;
		int (*parse)(const char *, struct pkg_meta *);
	} order[] = {
		{ "PKG-INFO", meta_from_pkginfo },
		{ "pyproject.toml", meta_from_pyproject },
		{ "setup.cfg", meta_from_setupcfg },
		{ "setup.py", meta_from_setuppy },
	};
	char root[64];
	autoclose int rootfd = -1;

	snprintf(root, sizeof(root), "/proc/%u/root", hpid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		autofree char *text = read_in_jail(rootfd, dir, order[i].file);

		if (text && order[i].parse(text, m) == 0)
			return 0;
	}
	return -1;
}

/* The jailed command's requirement when it names exactly one:
 * "pip install ./demo-1.0.tar.gz" -> demo 1.0, "pip install foo==2" -> foo 2. */
static int meta_from_argv(char *const *argv, struct pkg_meta *m)
{
	const char *req = NULL;
	bool after_cmd = false;
	int count = 0;
	char buf[256];

	m->name[0] = m->version[0] = '\0';
	m->source = "the command line";
	for (size_t i = 0; argv && argv[i]; i++) {
		const char *a = argv[i];

		if (!after_cmd) {
			after_cmd = !strcmp(a, "install") || !strcmp(a, "wheel") || !strcmp(a, "download");
			continue;
		}
		if (a[0] == '-') {
			/* options with a value */
			if (!strcmp(a, "-r") || !strcmp(a, "-c") || !strcmp(a, "-t") || !strcmp(a, "-d") ||
			    !strcmp(a, "-i") || !strcmp(a, "-w") || !strcmp(a, "-f") ||
			    !strcmp(a, "--requirement") || !strcmp(a, "--index-url") ||
			    !strcmp(a, "--extra-index-url") || !strcmp(a, "--find-links") ||
			    !strcmp(a, "--target") || !strcmp(a, "--prefix") || !strcmp(a, "--root") ||
			    !strcmp(a, "--dest") || !strcmp(a, "--wheel-dir") || !strcmp(a, "--constraint"))
				i += argv[i + 1] ? 1 : 0;
			if (!strcmp(a, "-r") || !strcmp(a, "--requirement"))
				count += 2;  /* a file of requirements: not one name */
			continue;
		}
		req = a;
		count++;
	}
	if (count != 1 || !req)
		return -1;
	{
		const char *base = strrchr(req, '/');
		size_t n;

		base = base ? base + 1 : req;
		snprintf(buf, sizeof(buf), "%s", base);
		n = strlen(buf);
		if (n > 7 && !strcmp(buf + n - 7, ".tar.gz"))
			buf[n - 7] = '\0';
		else if (n > 4 && (!strcmp(buf + n - 4, ".zip") || !strcmp(buf + n - 4, ".tgz")))
			buf[n - 4] = '\0';
		n = strcspn(buf, "=<>!~;[ @");
		if (buf[n] == '=' && buf[n + 1] == '=') {
			copy_trim(m->version, sizeof(m->version), buf + n + 2, strlen(buf + n + 2));
			buf[n] = '\0';
			copy_trim(m->name, sizeof(m->name), buf, strlen(buf));
			return m->name[0] ? 0 : -1;
		}
		buf[n] = '\0';
	}
	if (meta_from_dirname(buf, m) < 0)
		return -1;
	m->source = "the command line";
	return 0;
}

/* ---- classification ---------------------------------------------------------------- */

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static bool is_python(const char *path)
{
	const char *b = base_name(path);

	return b && (!strncmp(b, "python", 6) || !strncmp(b, "pypy", 4));
}

/* pip, pip3, pip3.11 */
static bool is_pip_name(const char *path)
{
	const char *b = base_name(path);

	if (!b || strncmp(b, "pip", 3))
		return false;
	for (b += 3; *b; b++)
		if (!((*b >= '0' && *b <= '9') || *b == '.'))
			return false;
	return true;
}

static const char *const hooks[] = {
	"get_requires_for_build_wheel", "prepare_metadata_for_build_wheel", "build_wheel",
	"build_editable", "get_requires_for_build_editable", "prepare_metadata_for_build_editable",
	"build_sdist", "get_requires_for_build_sdist",
};

enum cls { CLS_OTHER, CLS_PIP, CLS_BUILD };

/* What an exec runs: pip, a build hook (with its name in hook), or other. */
static enum cls classify(const struct trace_event *ev, char *hook, size_t hooklen)
{
	const char *const *argv = ev->argv;
	size_t argc = 0;

	hook[0] = '\0';
	while (argv && argv[argc])
		argc++;
	if (is_pip_name(ev->abs) || is_pip_name(ev->path))
		return CLS_PIP;
	if (!argc)
		return CLS_OTHER;
	if (!is_python(argv[0]) && !is_python(ev->abs) && !is_python(ev->file))
		return is_pip_name(argv[0]) ? CLS_PIP : CLS_OTHER;
	for (size_t i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (ends_with(a, "_in_process.py")) {
			const char *h = i + 1 < argc ? argv[i + 1] : "unknown-hook";
			size_t k;

			for (k = 0; k < ARRAY_SIZE(hooks); k++)
				if (!strcmp(h, hooks[k]))
					break;
			snprintf(hook, hooklen, "%.*s", k < ARRAY_SIZE(hooks) ? 64 : 48, h);
			return CLS_BUILD;
		}
		if (!strcmp(a, "-m") && i + 1 < argc) {
			if (!strcmp(argv[i + 1], "pip") || !strncmp(argv[i + 1], "pip.", 4))
				return CLS_PIP;
			return CLS_OTHER;
		}
		if (!strcmp(a, "-c") && i + 1 < argc) {
			size_t j;

			if (!strstr(argv[i + 1], "setup.py"))
				return CLS_OTHER;
			for (j = i + 2; j < argc && argv[j][0] == '-'; j++)
				;
			snprintf(hook, hooklen, "setup.py %.40s", j < argc ? argv[j] : "");
			return CLS_BUILD;
		}
		if (a[0] == '-') {
			/* interpreter options with a value */
			if ((!strcmp(a, "-W") || !strcmp(a, "-X")) && i + 1 < argc)
				i++;
			continue;
		}
		/* the script */
		if (!strcmp(base_name(a), "setup.py")) {
			size_t j;

			for (j = i + 1; j < argc && argv[j][0] == '-'; j++)
				;
			snprintf(hook, hooklen, "setup.py %.40s", j < argc ? argv[j] : "");
			return CLS_BUILD;
		}
		/* pip installing build dependencies runs itself as
		 * `python .../pip/__pip-runner__.py install ...` (pip >= 22.3), or
		 * `python .../site-packages/pip install ...` (older pips). */
		if (is_pip_name(a) || ends_with(a, "/pip/__main__.py") ||
		    ends_with(a, "/pip/__pip-runner__.py") || ends_with(a, "/site-packages/pip"))
			return CLS_PIP;
		return CLS_OTHER;
	}
	return CLS_OTHER;
}

/* Trailing blanks of "setup.py " when no command followed. */
static void trim_hook(char *hook)
{
	size_t n = strlen(hook);

	while (n && hook[n - 1] == ' ')
		hook[--n] = '\0';
}

void proctree_emit_note(struct engine *e, const struct proc *pr, const char *source)
{
	cJSON *f;

	if (!e->trace)
		return;
	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "hpid", pr->info.hpid);
	cJSON_AddNumberToObject(f, "pid", pr->info.pid);
	cJSON_AddStringToObject(f, "package", pr->package ? pr->package : "(unknown)");
	if (pr->version)
		cJSON_AddStringToObject(f, "version", pr->version);
	else
		cJSON_AddNullToObject(f, "version");
	cJSON_AddStringToObject(f, "hook", pr->hook ? pr->hook : "");
	if (pr->srcdir)
		cJSON_AddStringToObject(f, "source_dir", pr->srcdir);
	cJSON_AddStringToObject(f, "from", source);
	trace_write_note(e->trace, "package", f);
	cJSON_Delete(f);
}

static void move_to_pkg(struct engine *e, struct proc *pr, int pkg)
{
	if (pr->pkg >= 0 && pr->info.role < ROLE_COUNT && e->pkgs[pr->pkg].processes[pr->info.role])
		e->pkgs[pr->pkg].processes[pr->info.role]--;
	pr->pkg = pkg;
	if (pkg >= 0 && pr->info.role < ROLE_COUNT)
		e->pkgs[pkg].processes[pr->info.role]++;
}

static void attribute_build(struct engine *e, struct proc *pr, const struct trace_event *ev,
			    const char *hook)
{
	struct pkg_meta m = { .source = "unknown" };
	bool found = false;
	int k;

	set_str(&pr->hook, hook);
	set_str(&pr->srcdir, ev->cwd);
	if (ev->cwd && e->live)
		found = meta_live(ev->hpid, ev->cwd, &m) == 0;
	if (!found && ev->cwd)
		found = meta_from_dirname(ev->cwd, &m) == 0;
	if (!found)
		found = meta_from_argv(e->argv, &m) == 0;
	if (!found)
		m.source = "unknown";
	set_str(&pr->package, found ? m.name : NULL);
	set_str(&pr->version, found && m.version[0] ? m.version : NULL);
	k = pkg_intern(e, pr->package, pr->version, ev->cwd);
	if (!found && strcmp(e->pkgs[k].name, "(unknown)")) {
		/* An earlier hook of the same tree told its name. */
		set_str(&pr->package, e->pkgs[k].name);
		set_str(&pr->version, e->pkgs[k].version);
		m.source = "an earlier hook";
	}
	move_to_pkg(e, pr, k);
	pkg_add_hook(&e->pkgs[k], hook);
	if (!e->pkgs[k].srcdir && ev->cwd)
		e->pkgs[k].srcdir = xstrdup(ev->cwd);
	if (!e->pkgs[k].source)
		e->pkgs[k].source = xstrdup(m.source);
	sync_info(pr);
	/* Written after the exec event itself (engine_event), so that a reader
	 * meets the process before the note about it. */
	e->note_pending = pr;
	e->note_source = m.source;
}

/* The import check's -c code starts with this marker, then the
 * distribution's name and version (src/install.c). */
#define IMPORT_MARKER "# pipjail-import-check:"

static const char *import_marker(const struct trace_event *ev)
{
	for (size_t i = 0; ev->argv && ev->argv[i]; i++)
		if (strncmp(ev->argv[i], IMPORT_MARKER, strlen(IMPORT_MARKER)) == 0)
			return ev->argv[i];
	return NULL;
}

static void on_exec(struct engine *e, struct proc *pr, const struct trace_event *ev)
{
	char hook[128];
	enum cls c = classify(ev, hook, sizeof(hook));
	enum role parent_role = pr->info.role;
	const char *prog = ev->abs ? ev->abs : ev->path;

	trim_hook(hook);
	pr->info.execd = true;
	pr->info.pid = ev->pid;
	set_str(&pr->exe, ev->file ? ev->file : prog);
	set_str(&pr->prog, prog);
	set_str(&pr->comm, ev->comm);
	if (c == CLS_BUILD && parent_role != ROLE_BUILD && parent_role != ROLE_TOOL) {
		/* A hook run by pip (or the jailed command itself). */
		if (pr->pkg >= 0 && e->pkgs[pr->pkg].processes[pr->info.role])
			e->pkgs[pr->pkg].processes[pr->info.role]--;
		pr->pkg = -1;
		pr->info.role = ROLE_BUILD;
		set_str(&pr->label, hook);
		attribute_build(e, pr, ev, hook);
		e->top_seen = true;
		return;
	}
	if (parent_role == ROLE_NONE && (e->next_top_role != ROLE_NONE || import_marker(ev))) {
		/* A later command of init's, announced by the supervisor (live) or
		 * recognised by its marker (replay): the import check of one
		 * distribution, whose name and version the marker carries. */
		const char *mark = import_marker(ev);
		char name[128] = "", version[64] = "";

		pr->info.role = e->next_top_role != ROLE_NONE ? e->next_top_role : ROLE_IMPORT;
		e->next_top_role = ROLE_NONE;
		if (mark)
			sscanf(mark, IMPORT_MARKER " %127s %63s", name, version);
		set_str(&pr->label, pr->info.role == ROLE_IMPORT ? "import-check" : base_name(prog ? prog : ev->comm));
		set_str(&pr->package, name[0] && strcmp(name, "-") ? name : NULL);
		set_str(&pr->version, version[0] && strcmp(version, "-") ? version : NULL);
		set_str(&pr->hook, pr->info.role == ROLE_IMPORT ? "import" : NULL);
		set_str(&pr->srcdir, NULL);
		pr->pkg = -1;
		if (pr->package)
			move_to_pkg(e, pr, pkg_intern(e, pr->package, pr->version, NULL));
		sync_info(pr);
		return;
	}
	if (parent_role == ROLE_NONE || (parent_role == ROLE_PIP && c == CLS_PIP)) {
		/* The jailed command, or pip running pip (build dependencies). */
		e->top_seen = true;
		pr->info.role = ROLE_PIP;
		set_str(&pr->label, c == CLS_PIP ? "pip" : base_name(prog ? prog : ev->comm));
		set_str(&pr->package, NULL);
		set_str(&pr->version, NULL);
		set_str(&pr->hook, NULL);
		set_str(&pr->srcdir, NULL);
		pr->pkg = -1;
		sync_info(pr);
		return;
	}
	/* Anything else under pip, a build or a tool is a tool; it keeps the
	 * package and hook it inherited. */
	if (pr->pkg >= 0 && e->pkgs[pr->pkg].processes[pr->info.role])
		e->pkgs[pr->pkg].processes[pr->info.role]--;
	pr->info.role = ROLE_TOOL;
	if (pr->pkg >= 0)
		e->pkgs[pr->pkg].processes[ROLE_TOOL]++;
	set_str(&pr->label, base_name(prog ? prog : ev->comm));
	sync_info(pr);
}

void proctree_event(struct engine *e, const struct trace_event *ev, struct proc *pr)
{
	const char *k = ev->kind;

	if (!k)
		return;
	if (!strcmp(k, "fork")) {
		struct proc *child;

		if (ev->thread || !ev->child_hpid || ev->child_hpid == ev->hpid)
			return;
		child = proc_new(e, ev->child_hpid);
		child->info.pid = ev->child_pid;
		inherit(e, child, pr);
		child->info.hppid = pr->info.hpid;
		child->info.execd = false;
		sync_info(child);
	} else if (!strcmp(k, "exec") && !ev->has_ret) {
		on_exec(e, pr, ev);
	} else if (!strcmp(k, "exit") && !ev->thread) {
		pr->info.exited = true;
	}
}

/* "package" notes from a recorded trace: what the live run read. */
void proctree_apply_note(struct engine *e, const cJSON *note)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(note, "kind");
	const cJSON *hpid = cJSON_GetObjectItemCaseSensitive(note, "hpid");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(note, "package");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(note, "version");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(note, "from");
	struct proc *pr;
	int k;

	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "package") || !cJSON_IsNumber(hpid) ||
	    !cJSON_IsString(name))
		return;
	pr = proc_get(e, (uint32_t)hpid->valuedouble);
	if (!pr || pr->info.role != ROLE_BUILD)
		return;
	set_str(&pr->package, strcmp(name->valuestring, "(unknown)") ? name->valuestring : NULL);
	set_str(&pr->version, cJSON_IsString(ver) ? ver->valuestring : NULL);
	k = pkg_intern(e, pr->package, pr->version, pr->srcdir);
	if (k != pr->pkg) {
		struct pkg *old = pr->pkg >= 0 ? &e->pkgs[pr->pkg] : NULL;

		/* The events counted under the guess move with the process. */
		if (old) {
			e->pkgs[k].events += pr->events;
			old->events -= pr->events < old->events ? pr->events : old->events;
		}
		move_to_pkg(e, pr, k);
		pkg_add_hook(&e->pkgs[k], pr->hook);
	}
	if (!e->pkgs[k].srcdir && pr->srcdir)
		e->pkgs[k].srcdir = xstrdup(pr->srcdir);
	if (cJSON_IsString(src)) {
		free(e->pkgs[k].source);
		e->pkgs[k].source = xstrdup(src->valuestring);
	}
	sync_info(pr);
}

/* ---- names learned from what a build writes ------------------------------------------ */

/* "<name>.egg-info" or "<name>-<version>.dist-info" in path: setuptools'
 * egg_info and every backend's metadata hook write one.  For builds that
 * nothing else named (a replay without notes, a tree read too late). */
static bool meta_from_written(const char *path, struct pkg_meta *m)
{
	const char *s = path;

	m->name[0] = m->version[0] = '\0';
	m->source = "metadata written";
	while (s && *s) {
		const char *start = *s == '/' ? s + 1 : s, *end = strchr(start, '/');
		size_t n = end ? (size_t)(end - start) : strlen(start);

		if (n > 9 && !strncmp(start + n - 9, ".egg-info", 9)) {
			copy_trim(m->name, sizeof(m->name), start, n - 9);
			return m->name[0] != '\0';
		}
		if (n > 10 && !strncmp(start + n - 10, ".dist-info", 10)) {
			const char *dash = memchr(start, '-', n - 10);

			if (!dash)
				return false;
			copy_trim(m->name, sizeof(m->name), start, (size_t)(dash - start));
			copy_trim(m->version, sizeof(m->version), dash + 1, (size_t)(start + n - 10 - dash - 1));
			return m->name[0] != '\0';
		}
		s = end;
	}
	return false;
}

void proctree_learn_name(struct engine *e, struct proc *pr, const struct trace_event *ev)
{
	struct pkg_meta m;
	struct pkg *k;
	int idx = pr->pkg;

	if (idx < 0 || strcmp(e->pkgs[idx].name, "(unknown)") || !ev->abs || !ev->kind)
		return;
	if (strcmp(ev->kind, "mkdir") &&
	    !(strcmp(ev->kind, "open") == 0 && (trace_open_bits(ev->flags) & (TOB_CREAT | TOB_WRONLY))))
		return;
	if (!meta_from_written(ev->abs, &m))
		return;
	k = &e->pkgs[idx];
	free(k->name);
	k->name = xstrdup(m.name);
	free(k->version);
	k->version = m.version[0] ? xstrdup(m.version) : NULL;
	free(k->source);
	k->source = xstrdup(m.source);
	/* Everyone of that build, and what they were blamed for, gets the name. */
	for (size_t i = 0; i < e->procs_cap; i++) {
		struct proc *p = e->procs[i];

		if (p && p->pkg == idx) {
			set_str(&p->package, k->name);
			set_str(&p->version, k->version);
			sync_info(p);
		}
	}
	for (size_t i = 0; i < e->n_viols; i++) {
		if (e->viols[i].pkg != idx)
			continue;
		free(e->viols[i].package);
		e->viols[i].package = xstrdup(k->name);
		free(e->viols[i].version);
		e->viols[i].version = k->version ? xstrdup(k->version) : NULL;
	}
}

/* ---- chains ------------------------------------------------------------------------ */

static const char *label_of(const struct proc *pr)
{
	if (pr->label)
		return pr->label;
	if (pr->info.role == ROLE_BUILD && pr->hook)
		return pr->hook;
	return pr->comm ? pr->comm : "?";
}

char *proctree_chain(const struct engine *e, const struct proc *pr, uint32_t **pids_out, size_t *n_out)
{
	const struct proc *path[64];
	size_t n = 0, len = 0;
	char *s;
	uint32_t *pids;

	/* Up to the jailed command; a loop (pid reuse) stops at the bound. */
	for (const struct proc *p = pr; p && n < ARRAY_SIZE(path); ) {
		path[n++] = p;
		if (p->info.role == ROLE_NONE || !p->info.hppid || p->info.hppid == p->info.hpid)
			break;
		p = proc_get((struct engine *)e, p->info.hppid);
		if (p && p->info.role == ROLE_NONE)
			break;
	}
	pids = xcalloc(n ? n : 1, sizeof(*pids));
	for (size_t i = 0; i < n; i++)
		pids[i] = path[n - 1 - i]->info.pid;
	s = xcalloc(1, 1);
	for (size_t i = n; i-- > 0;) {
		const struct proc *p = path[i];
		const char *lab = label_of(p);
		/* A child that only forked repeats its parent's label: say it once. */
		if (i + 1 < n && !p->info.execd && !strcmp(lab, label_of(path[i + 1])))
			continue;
		s = xrealloc(s, len + strlen(lab) + 8);
		len += (size_t)sprintf(s + len, "%s%s", len ? " → " : "", lab);
	}
	*pids_out = pids;
	*n_out = n;
	return s;
}

/* ---- who wrote a path ------------------------------------------------------------ */

static uint64_t path_hash(const char *p, size_t len)
{
	return fnv1a(FNV1A_INIT, p, len);
}

static struct writer *writer_find(const struct engine *e, const char *p, size_t len, uint64_t h)
{
	if (!e->wbuckets_n)
		return NULL;
	for (struct writer *w = e->wbuckets[h & (e->wbuckets_n - 1)]; w; w = w->chain)
		if (w->hash == h && w->len == len && !memcmp(w->path, p, len))
			return w;
	return NULL;
}

static void age_unlink(struct engine *e, struct writer *w)
{
	if (w->older)
		w->older->newer = w->newer;
	else
		e->woldest = w->newer;
	if (w->newer)
		w->newer->older = w->older;
	else
		e->wnewest = w->older;
	w->older = w->newer = NULL;
}

static void age_append(struct engine *e, struct writer *w)
{
	w->older = e->wnewest;
	w->newer = NULL;
	if (e->wnewest)
		e->wnewest->newer = w;
	else
		e->woldest = w;
	e->wnewest = w;
}

/* Forget the oldest entry: the table is full. */
static void writer_evict_oldest(struct engine *e)
{
	struct writer *w = e->woldest, **pp;

	if (!w)
		return;
	age_unlink(e, w);
	for (pp = &e->wbuckets[w->hash & (e->wbuckets_n - 1)]; *pp != w; pp = &(*pp)->chain)
		;
	*pp = w->chain;
	e->n_writers--;
	e->writer_bytes -= w->len;
	if (!e->writers_evicted++)
		debugx(1, "engine: more than %zu written paths (or %u bytes of them): forgetting the oldest",
		       e->writers_max, ENGINE_WRITERS_MAX_BYTES);
	free(w);
}

static void writer_grow(struct engine *e)
{
	size_t n = e->wbuckets_n ? e->wbuckets_n * 2 : 1024;
	struct writer **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < e->wbuckets_n; i++) {
		struct writer *w = e->wbuckets[i], *next;

		for (; w; w = next) {
			next = w->chain;
			w->chain = b[w->hash & (n - 1)];
			b[w->hash & (n - 1)] = w;
		}
	}
	free(e->wbuckets);
	e->wbuckets = b;
	e->wbuckets_n = n;
}

static void writer_set(struct engine *e, const char *path, uint32_t hpid, bool renamed)
{
	size_t len;
	uint64_t h;
	struct writer *w;

	if (!path || path[0] != '/' || !hpid)
		return;
	len = strlen(path);
	h = path_hash(path, len);
	w = writer_find(e, path, len, h);
	if (w) {
		/* Written again: now the newest. */
		age_unlink(e, w);
		age_append(e, w);
		w->hpid = hpid;
		w->renamed = renamed;
		return;
	}
	while (e->n_writers && (e->n_writers >= e->writers_max ||
				e->writer_bytes + len > ENGINE_WRITERS_MAX_BYTES))
		writer_evict_oldest(e);
	if (e->n_writers + 1 > e->wbuckets_n)
		writer_grow(e);
	w = xmalloc(sizeof(*w) + len + 1);
	w->hash = h;
	w->hpid = hpid;
	w->renamed = renamed;
	w->len = len;
	memcpy(w->path, path, len + 1);
	w->chain = e->wbuckets[h & (e->wbuckets_n - 1)];
	e->wbuckets[h & (e->wbuckets_n - 1)] = w;
	age_append(e, w);
	e->n_writers++;
	e->writer_bytes += len;
}

/* The path an fd-or-path event names: abs, and the file really reached
 * when that is another name (a symlink on the way). */
static void writer_set_both(struct engine *e, const struct trace_event *ev)
{
	writer_set(e, ev->abs, ev->hpid, false);
	if (ev->file && (!ev->abs || strcmp(ev->file, ev->abs)))
		writer_set(e, ev->file, ev->hpid, false);
}

void writers_event(struct engine *e, const struct trace_event *ev)
{
	const char *k = ev->kind;

	/* Only calls that happened: a refused or failed call changed nothing. */
	if (!k || ev->refused || (ev->has_ret && ev->ret < 0))
		return;
	if (!strcmp(k, "open")) {
		if (trace_open_bits(ev->flags) & TOB_WRITES)
			writer_set_both(e, ev);
	} else if (!strcmp(k, "mkdir") || !strcmp(k, "mknod") || !strcmp(k, "symlink") ||
		   !strcmp(k, "unlink") || !strcmp(k, "rmdir")) {
		writer_set(e, ev->abs, ev->hpid, false);
	} else if (!strcmp(k, "truncate")) {
		writer_set_both(e, ev);
	} else if (!strcmp(k, "link")) {
		writer_set(e, ev->abs2, ev->hpid, false);
	} else if (!strcmp(k, "rename")) {
		/* The old name is gone (a removal), the new one is what was moved. */
		writer_set(e, ev->abs, ev->hpid, false);
		writer_set(e, ev->abs2, ev->hpid, true);
	}
}

uint32_t engine_writer_of(const struct engine *e, const char *abs_path)
{
	size_t len;
	struct writer *w;

	if (!e || !abs_path || abs_path[0] != '/')
		return 0;
	len = strlen(abs_path);
	w = writer_find(e, abs_path, len, path_hash(abs_path, len));
	if (w)
		return w->hpid;
	/* No write under this name: it may have come inside a directory that
	 * was written elsewhere and renamed into place.  The nearest ancestor
	 * with an entry says; only a rename makes it the answer. */
	while (len > 1) {
		while (len > 0 && abs_path[len - 1] != '/')
			len--;
		if (len > 1)
			len--;  /* drop the '/' */
		if (len <= 1)
			break;
		w = writer_find(e, abs_path, len, path_hash(abs_path, len));
		if (w)
			return w->renamed ? w->hpid : 0;
	}
	return 0;
}

void writers_free(struct engine *e)
{
	struct writer *w = e->woldest, *next;

	for (; w; w = next) {
		next = w->newer;
		free(w);
	}
	free(e->wbuckets);
	e->wbuckets = NULL;
	e->wbuckets_n = 0;
	e->woldest = e->wnewest = NULL;
	e->n_writers = e->writer_bytes = 0;
}
