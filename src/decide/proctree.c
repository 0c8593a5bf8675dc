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
#include "pip/pip.h"

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
	free(pr->foreign_why);
	free(pr);
}

static void table_put(struct engine *e, struct proc *pr)
{
	size_t i;

	for (i = slot_of(e, pr->info.hpid); e->procs[i]; i = (i + 1) & (e->procs_cap - 1)) {
		if (e->procs[i]->info.hpid == pr->info.hpid) {
			/* the pid used again (hpid 0 too, which proc_get never
			 * returns: an event from a malformed trace) */
			if (e->procs[i] != pr)
				proc_free(e->procs[i]);
			e->procs[i] = pr;
			return;
		}
	}
	e->procs[i] = pr;
	e->procs_n++;
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
	struct proc *pr = xcalloc(1, sizeof(*pr));

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
	pr->info.hpid = hpid;
	pr->pkg = -1;
	table_put(e, pr);  /* frees the process that had hpid before */
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
	/* a fork runs the same code */
	child->foreign = parent->foreign;
	set_str(&child->foreign_why, parent->foreign_why);
	child->user_cmd = parent->user_cmd;
	child->probe = parent->probe;
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
	 * take what its parent has.  Once the command runs, a process of no
	 * known parent is pip only when the kernel says so (its trust is
	 * inherited at fork in the kernel, whatever the ring buffer lost);
	 * otherwise it is held to a tool's rules, never ignored. */
	pr = proc_new(e, ev->hpid);
	pr->info.pid = ev->pid;
	parent = proc_get(e, ev->hppid);
	if (parent && parent != pr)
		inherit(e, pr, parent);
	/* an orphan reparented to the init would inherit "none" */
	if (e->top_seen && pr->info.role == ROLE_NONE)
		pr->info.role = ev->kernel_trusted ? ROLE_PIP : ROLE_TOOL;
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

/* PEP 503: one project whatever its spelling ("python_example" from its
 * setup.py, "python-example" from the dist-info of the import check). */
static bool same_project(const char *a, const char *b)
{
	autofree char *na = pip_normalize_name(a);
	autofree char *nb = pip_normalize_name(b);

	return !strcmp(na, nb);
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
		if (same_project(e->pkgs[i].name, name) && str_eq(e->pkgs[i].version, version))
			return (int)i;
	/* A version learned later for a package first seen without one. */
	for (size_t i = 0; i < e->n_pkgs; i++) {
		if (same_project(e->pkgs[i].name, name) && !e->pkgs[i].version && version) {
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

/* ---- a build's metadata, read in the jail ------------------------------------------ */

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
	buf = xmalloc(PIP_META_MAX_BYTES + 1);
	n = read_all(fd, buf, PIP_META_MAX_BYTES);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The first of the tree's metadata files that names the project. */
static int meta_live(uint32_t hpid, const char *dir, struct pip_meta *m)
{
	static const struct {
		const char *file;
		int (*parse)(const char *, struct pip_meta *);
	} order[] = {
		{ "PKG-INFO", pip_meta_from_pkginfo },
		{ "pyproject.toml", pip_meta_from_pyproject },
		{ "setup.cfg", pip_meta_from_setupcfg },
		{ "setup.py", pip_meta_from_setuppy },
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

static const char *const hooks[] = {
	"get_requires_for_build_wheel", "prepare_metadata_for_build_wheel", "build_wheel",
	"build_editable", "get_requires_for_build_editable", "prepare_metadata_for_build_editable",
	"build_sdist", "get_requires_for_build_sdist",
};

enum cls { CLS_OTHER, CLS_PIP, CLS_BUILD };

/* "setup.py CMD": the first word from argv[first] on that is not an option. */
static enum cls setup_py_hook(const char *const *argv, size_t argc, size_t first, char *hook,
			      size_t hooklen)
{
	size_t j;

	for (j = first; j < argc && argv[j][0] == '-'; j++)
		;
	snprintf(hook, hooklen, "setup.py %.40s", j < argc ? argv[j] : "");
	return CLS_BUILD;
}

/* A build hook run by an interpreter: pyproject_hooks' _in_process.py
 * HOOK, setuptools' "python -c <shim naming setup.py> CMD", or "python
 * setup.py CMD". */
static enum cls build_hook(const struct trace_event *ev, char *hook, size_t hooklen)
{
	const char *const *argv = ev->argv;
	size_t argc = 0;

	while (argv && argv[argc])
		argc++;
	if (!argc || (!is_python(argv[0]) && !is_python(ev->abs) && !is_python(ev->file)))
		return CLS_OTHER;
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
		if (!strcmp(a, "-m"))
			return CLS_OTHER;
		if (!strcmp(a, "-c") && i + 1 < argc)
			return strstr(argv[i + 1], "setup.py") ? setup_py_hook(argv, argc, i + 2, hook, hooklen)
							       : CLS_OTHER;
		if (a[0] == '-') {
			/* interpreter options with a value */
			if ((!strcmp(a, "-W") || !strcmp(a, "-X")) && i + 1 < argc)
				i++;
			continue;
		}
		/* the script */
		if (!strcmp(base_name(a), "setup.py"))
			return setup_py_hook(argv, argc, i + 1, hook, hooklen);
		return CLS_OTHER;
	}
	return CLS_OTHER;
}

/* What an exec runs: pip (the one rule, src/pip/command.c, which the
 * kernel follows too), a build hook (with its name in hook), or other. */
/* What an exec runs: pip itself only when the kernel says so (its trust
 * follows the exec of pip's own entry points by pip, decided in the
 * kernel from anchors no package can change: bpf/helpers/trust.bpf.h;
 * user space never makes a process pip by its name or its parent), else a
 * build hook (by its argv: a label, never a trust), else anything. */
static enum cls classify(const struct trace_event *ev, char *hook, size_t hooklen)
{
	hook[0] = '\0';
	if (ev->kernel_trusted)
		return CLS_PIP;
	return build_hook(ev, hook, hooklen);
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
	struct pip_meta m = { .source = "unknown" };
	bool found = false;
	int k;

	set_str(&pr->hook, hook);
	set_str(&pr->srcdir, ev->cwd);
	if (ev->cwd && e->live)
		found = meta_live(ev->hpid, ev->cwd, &m) == 0;
	if (!found && ev->cwd)
		found = pip_meta_from_dirname(ev->cwd, &m) == 0;
	if (!found)
		found = pip_meta_from_argv((const char *const *)e->argv, &m) == 0;
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
/* The start-up probe's -c code starts with this one (src/run/install.c):
 * role import too, its processes marked (proc->probe). */
#define PROBE_MARKER "# pipjail-startup-probe"

static const char *marker_arg(const struct trace_event *ev, const char *marker)
{
	for (size_t i = 0; ev->argv && ev->argv[i]; i++)
		if (strncmp(ev->argv[i], marker, strlen(marker)) == 0)
			return ev->argv[i];
	return NULL;
}

static const char *import_marker(const struct trace_event *ev)
{
	const char *m = marker_arg(ev, IMPORT_MARKER);

	return m ? m : marker_arg(ev, PROBE_MARKER);
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
	if (parent_role == ROLE_NONE && e->top_seen && !import_marker(ev) &&
	    e->next_top_role == ROLE_NONE && !ev->kernel_trusted) {
		/* A process of no known parent (its fork record was lost) after
		 * the command started: never the command, never pip. */
		parent_role = ROLE_TOOL;
	}
	if (parent_role == ROLE_NONE && (e->next_top_role != ROLE_NONE || import_marker(ev))) {
		/* A later command of init's, announced by the supervisor (live) or
		 * recognised by its marker (replay): the import check of one
		 * distribution, whose name and version the marker carries. */
		const char *mark = marker_arg(ev, IMPORT_MARKER);
		char name[128] = "", version[64] = "";

		pr->info.role = e->next_top_role != ROLE_NONE ? e->next_top_role : ROLE_IMPORT;
		e->next_top_role = ROLE_NONE;
		/* Only a command of init's carries it: package code cannot start
		 * a process without a parent, nor unmark one it forks. */
		pr->probe = pr->info.role == ROLE_IMPORT && marker_arg(ev, PROBE_MARKER) != NULL;
		if (mark)
			sscanf(mark, IMPORT_MARKER " %127s %63s", name, version);
		set_str(&pr->label, pr->probe ? "startup-probe" :
				    pr->info.role == ROLE_IMPORT ? "import-check" : base_name(prog ? prog : ev->comm));
		set_str(&pr->package, name[0] && strcmp(name, "-") ? name : NULL);
		set_str(&pr->version, version[0] && strcmp(version, "-") ? version : NULL);
		set_str(&pr->hook, pr->probe ? "startup-probe" : pr->info.role == ROLE_IMPORT ? "import" : NULL);
		set_str(&pr->srcdir, NULL);
		pr->pkg = -1;
		if (pr->package)
			move_to_pkg(e, pr, pkg_intern(e, pr->package, pr->version, NULL));
		sync_info(pr);
		return;
	}
	if (parent_role == ROLE_NONE || (parent_role == ROLE_PIP && (c == CLS_PIP || pr->user_cmd))) {
		/* The jailed command, pip running pip (build dependencies), or
		 * what the user's own command that is not pip runs (ls, a venv's
		 * ensurepip): not package code, which runs only in builds and
		 * what they and pip start. */
		/* (by name: this only chooses between two sets of rules for what
		 * the user typed; trust stays the kernel's) */
		if (parent_role == ROLE_NONE)
			pr->user_cmd = !pip_argv_is_pip(ev->argv);
		else if (c == CLS_PIP || pip_argv_is_pip(ev->argv))
			pr->user_cmd = false;
		e->top_seen = true;
		pr->probe = false;
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

void proctree_learn_name(struct engine *e, struct proc *pr, const struct trace_event *ev)
{
	struct pip_meta m;
	struct pkg *k;
	int idx = pr->pkg;

	if (idx < 0 || strcmp(e->pkgs[idx].name, "(unknown)") || !ev->abs || !ev->kind)
		return;
	if (strcmp(ev->kind, "mkdir") &&
	    !(strcmp(ev->kind, "open") == 0 && (trace_open_bits(ev->flags) & (TOB_CREAT | TOB_WRONLY))))
		return;
	if (pip_meta_from_written(ev->abs, &m) < 0)
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
