/* The anchors of trust (role pip) and of the environment guard, on the
 * supervisor's side, once the jail is built and before the command runs:
 *   - the environment's interpreters and the command's own interpreter,
 *     by (device, inode) as the jail sees them;
 *   - pip's entry points: <env>/bin/pip*, and pip's runner of build
 *     dependencies (__pip-runner__.py) of each interpreter's installation,
 *     as absolute paths, the way pip passes them;
 *   - pip's helper programs: git and the programs of its exec path;
 *   - the trees a process that is not pip may write (for the preload
 *     library's Landlock layer), and the environment's overlay (device and
 *     path) for the kernel's second wall.
 * Everything is looked up inside the jail (/proc/<init>/root, resolved with
 * RESOLVE_IN_ROOT): the jail's view is what its processes will exec.  No
 * package code has run yet, and from now on no process that is not pip can
 * change these files (the guard), so what is registered here stays true.
 * The anchors go to the kernel (monitor_set_anchors) and, with the preload
 * library, into the jail's /run/pipjail (root's: the user cannot replace
 * them). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base/base.h"
#include "observe/monitor.h"
#include "pip/pip.h"
#include "run/internal.h"

/* What is collected, before it is handed out. */
struct collect {
	int root;                                   /* the jail's root, O_PATH */
	struct stat interps[PIP_ANCHOR_INTERPS], tools[PIP_ANCHOR_TOOLS];
	size_t n_interps, n_tools;
	char *entries[PIP_ANCHOR_ENTRIES];
	size_t n_entries;
	const char *build_wheel;                    /* add_build_wheel's, or NULL */
};

static int open_in_jail(int root, const char *path, int flags, mode_t mode)
{
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC, .mode = mode,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

	return (int)syscall(SYS_openat2, root, path[0] == '/' ? path + 1 : path, &how, sizeof(how));
}

static bool stat_in_jail(int root, const char *path, struct stat *st)
{
	autoclose int fd = open_in_jail(root, path, O_PATH, 0);

	return fd >= 0 && fstat(fd, st) == 0;
}

static bool have_file(const struct stat *v, size_t n, const struct stat *st)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].st_dev == st->st_dev && v[i].st_ino == st->st_ino)
			return true;
	return false;
}

static void add_file(struct collect *c, bool tool, const char *path)
{
	struct stat st;
	struct stat *v = tool ? c->tools : c->interps;
	size_t *n = tool ? &c->n_tools : &c->n_interps;
	size_t max = tool ? PIP_ANCHOR_TOOLS : PIP_ANCHOR_INTERPS;

	if (!stat_in_jail(c->root, path, &st) || !S_ISREG(st.st_mode) || have_file(v, *n, &st))
		return;
	if (*n >= max) {
		debugx(1, "anchors: more than %zu %s; %s left out", max, tool ? "helper programs" :
		       "interpreters", path);
		return;
	}
	v[(*n)++] = st;
	debugx(2, "anchors: %s %s", tool ? "pip's helper" : "interpreter", path);
}

static void add_entry(struct collect *c, const char *path)
{
	struct stat st;

	if (!stat_in_jail(c->root, path, &st) || !S_ISREG(st.st_mode) ||
	    c->n_entries >= PIP_ANCHOR_ENTRIES || strlen(path) >= MONITOR_ENTRY_MAX)
		return;
	for (size_t i = 0; i < c->n_entries; i++)
		if (!strcmp(c->entries[i], path))
			return;
	c->entries[c->n_entries++] = xstrdup(path);
}

/* The final target of path's last component, as the jail names it (the
 * venv's bin/python -> /usr/bin/python3 -> python3.11); a malloc'd copy of
 * path when it is no symlink. */
static char *last_link_target(int root, const char *path)
{
	char *cur = xstrdup(path);

	for (int hop = 0; hop < 16; hop++) {
		autoclose int dir = -1;
		char target[4096];
		const char *slash = strrchr(cur, '/');
		autofree char *parent = xasprintf("%.*s", slash ? (int)(slash - cur) : 0, cur);
		ssize_t n;

		dir = open_in_jail(root, parent[0] ? parent : "/", O_PATH | O_DIRECTORY, 0);
		n = dir >= 0 ? readlinkat(dir, slash ? slash + 1 : cur, target, sizeof(target) - 1) : -1;
		if (n <= 0)
			break;
		target[n] = '\0';
		free(cur);
		cur = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", parent, target);
	}
	return cur;
}

/* pip's runner in the installation of an interpreter at prefix/bin/x:
 * prefix/lib/python3*\/{site,dist}-packages/pip/__pip-runner__.py. */
static void add_runners(struct collect *c, const char *prefix)
{
	autoclose int lib = -1;
	autofree char *libdir = xasprintf("%s/lib", prefix);
	DIR *d;
	struct dirent *e;

	lib = open_in_jail(c->root, libdir, O_RDONLY | O_DIRECTORY, 0);
	if (lib < 0 || !(d = fdopendir(steal_fd(&lib))))
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "python3", 7) != 0)
			continue;
		for (int k = 0; k < 2; k++) {
			autofree char *p = xasprintf("%s/%s/%s/pip/__pip-runner__.py", libdir, e->d_name,
						     k ? "dist-packages" : "site-packages");

			add_entry(c, p);
		}
	}
	closedir(d);
}

/* An interpreter (path as named) and the runner of its installation. */
static void add_interpreter(struct collect *c, const char *path)
{
	autofree char *real = last_link_target(c->root, path);
	char *slash;

	add_file(c, false, path);
	/* prefix/bin/python3.11 -> prefix */
	if ((slash = strrchr(real, '/')))
		*slash = '\0';
	if ((slash = strrchr(real, '/')))
		*slash = '\0';
	add_runners(c, real[0] ? real : "/");
}

/* The names in dir that pass test (python*, pip*) as dir/name. */
static void each_name(struct collect *c, const char *dir, bool (*test)(const char *),
		      void (*add)(struct collect *, const char *))
{
	autoclose int fd = open_in_jail(c->root, dir, O_RDONLY | O_DIRECTORY, 0);
	DIR *d;
	struct dirent *e;

	if (fd < 0 || !(d = fdopendir(steal_fd(&fd))))
		return;
	while ((e = readdir(d))) {
		if (test(e->d_name)) {
			autofree char *p = xasprintf("%s/%s", dir, e->d_name);

			add(c, p);
		}
	}
	closedir(d);
}

static bool is_python_name(const char *n)
{
	return !strcmp(n, "python") || (!strncmp(n, "python3", 7) && strspn(n + 7, ".0123456789") ==
					strlen(n + 7));
}

static bool any_name(const char *n)
{
	return n[0] != '.';
}

static void add_tool(struct collect *c, const char *path)
{
	add_file(c, true, path);
}

/* The command's PATH (the jail's environment, or the default). */
static const char *jail_path(const struct run *r)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin";

	for (size_t i = 0; r->cfg->env && r->cfg->env[i]; i++)
		if (!strncmp(r->cfg->env[i], "PATH=", 5))
			path = r->cfg->env[i] + 5;
	return path;
}

/* The next directory of a PATH list at *p (malloc'd; "" for an empty
 * entry), *p moved past it; NULL at the end. */
static char *next_path_dir(const char **p)
{
	size_t n;
	char *dir;

	if (!**p)
		return NULL;
	n = strcspn(*p, ":");
	dir = xasprintf("%.*s", (int)n, *p);
	*p += n;
	if (**p == ':')
		(*p)++;
	return dir;
}

/* A program of the command's PATH, as the jail finds it; NULL: none. */
static char *find_in_jail_path(const struct run *r, int root, const char *name)
{
	const char *p = jail_path(r);
	char *dir;
	struct stat st;

	while ((dir = next_path_dir(&p))) {
		autofree char *cand = xasprintf("%s/%s", dir, name);

		free(dir);
		if (cand[0] == '/' && stat_in_jail(root, cand, &st) && S_ISREG(st.st_mode))
			return steal_pointer(&cand);
	}
	return NULL;
}

/* The interpreter a #! line names (in line, cut in place), or NULL. */
static char *shebang_interpreter(char *line, ssize_t n)
{
	char *p;

	if (n < 3 || line[0] != '#' || line[1] != '!')
		return NULL;
	line[n] = '\0';
	p = line + 2 + strspn(line + 2, " \t");
	p[strcspn(p, " \t\r\n")] = '\0';
	return p[0] == '/' ? p : NULL;
}

/* The interpreter of the command (itself, or its #! line). */
static void add_command(struct collect *c, const struct run *r)
{
	const char *a0 = r->cfg->argv[0];
	autofree char *path = strchr(a0, '/') ? (a0[0] == '/' ? xstrdup(a0) :
				xasprintf("%s/%s", r->cfg->cwd, a0)) : find_in_jail_path(r, c->root, a0);
	autoclose int fd = -1;
	char line[512], *interp;
	ssize_t n;

	if (!path)
		return;
	fd = open_in_jail(c->root, path, O_RDONLY | O_NONBLOCK, 0);
	n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
	if ((interp = shebang_interpreter(line, n)))
		add_interpreter(c, interp);
	else if (is_python_name(strrchr(path, '/') + 1))
		add_interpreter(c, path);
}

/* An interpreter of the command's PATH that only root can change: the
 * user's command may start pip through it ("sh -c 'python3 -m pip ...'").
 * Why this cannot be forged: the file is registered by dev:inode now,
 * before any package code runs, and only when root owns it and neither
 * its group nor others may write it; package code runs as the user
 * without capabilities, so it can neither change that file nor make
 * another file carry its inode.  Trust still needs a trusted parent and
 * "-m pip" or an entry point in argv (trust.bpf.h), so a build that runs
 * the same interpreter stays untrusted. */
static void add_root_interpreter(struct collect *c, const char *path)
{
	struct stat st;

	if (stat_in_jail(c->root, path, &st) && S_ISREG(st.st_mode) && st.st_uid == 0 &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)))
		add_interpreter(c, path);
}

/* The root-owned interpreters of every directory of the command's PATH. */
static void add_path_interpreters(struct collect *c, const struct run *r)
{
	const char *p = jail_path(r);
	char *dir;

	while ((dir = next_path_dir(&p))) {
		if (dir[0] == '/')
			each_name(c, dir, is_python_name, add_root_interpreter);
		free(dir);
	}
}

static void add_pip_script(struct collect *c, const char *path)
{
	add_entry(c, path);
}

static bool is_pip_script(const char *n)
{
	return pip_name_is_pip(n);
}

/* Where a process that is not pip may write (the preload library's layer):
 * the jail's scratch directories, the decoy home, the binds shown writable
 * (--rw, --write-cwd) and those shown below a throwaway layer (the current
 * directory, a source tree pip builds in place, a toolchain's caches: what
 * is written there is gone with the jail).  Not pip's output directories
 * (wheel -w, download -d): as pip's cache, no build may plant a file that
 * the user would install later. */
static size_t build_trees(const struct run *r, const char **rw, size_t max)
{
	const struct jail_config *cfg = r->cfg;
	static const char *const scratch[] = { "/tmp", "/var/tmp", "/dev/shm" };
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(scratch); i++)
		rw[n++] = scratch[i];
	rw[n++] = cfg->user.home;
	for (size_t i = 0; i < cfg->n_binds && n < max; i++)
		if ((cfg->binds[i].writable && !cfg->binds[i].pip_only) || cfg->binds[i].layer)
			rw[n++] = cfg->binds[i].path;
	return n;
}

/* Is there a `wheel` package (wheel/__init__.py) in prefix/python3*\/
 * {site,dist}-packages, as the jail sees it? */
static bool wheel_under(int root, const char *prefix)
{
	autoclose int fd = open_in_jail(root, prefix, O_RDONLY | O_DIRECTORY, 0);
	struct stat st;
	bool found = false;
	DIR *d;
	struct dirent *e;

	if (fd < 0 || !(d = fdopendir(steal_fd(&fd))))
		return false;
	while (!found && (e = readdir(d))) {
		if (strncmp(e->d_name, "python3", 7) != 0)
			continue;
		for (int k = 0; k < 2 && !found; k++) {
			autofree char *p = xasprintf("%s/%s/%s/wheel/__init__.py", prefix, e->d_name,
						     k ? "dist-packages" : "site-packages");

			found = stat_in_jail(root, p, &st) && S_ISREG(st.st_mode);
		}
	}
	closedir(d);
	return found;
}

/* Does the venv's pyvenv.cfg say include-system-site-packages = true? */
static bool venv_includes_system(int root, const char *env)
{
	autofree char *cfgp = xasprintf("%s/pyvenv.cfg", env);
	autoclose int fd = open_in_jail(root, cfgp, O_RDONLY | O_NONBLOCK, 0);
	char buf[4096];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *line = buf, *next; line; line = next) {
		char *eq;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line += strspn(line, " \t");
		if (strncmp(line, "include-system-site-packages", 28) != 0 || !(eq = strchr(line, '=')))
			continue;
		eq += strspn(eq + 1, " \t") + 1;
		return !strncasecmp(eq, "true", 4);
	}
	return false;
}

/* Can a build in the target environment import `wheel`?  Looked at in the
 * environment's site-packages, and in the system's when the environment
 * is no venv (or none is known) or a venv that includes them.  These are
 * files package code cannot change: nothing has run yet, the environment
 * is guarded, the system's trees are the host's, read-only in the jail. */
static bool env_has_wheel(int root, const char *env)
{
	autofree char *cfgp = env ? xasprintf("%s/pyvenv.cfg", env) : NULL;
	struct stat st;
	bool venv = cfgp && stat_in_jail(root, cfgp, &st);

	if (env) {
		autofree char *lib = xasprintf("%s/lib", env);

		if (wheel_under(root, lib))
			return true;
	}
	if (venv && !venv_includes_system(root, env))
		return false;
	return wheel_under(root, "/usr/lib") || wheel_under(root, "/usr/local/lib");
}

/* Only root can change path: root's, not writable by its group or others. */
static bool root_only(int root, const char *path, struct stat *st)
{
	return stat_in_jail(root, path, st) && st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

#define SYSTEM_WHEELS "/usr/share/python-wheels"

/* Every build must hand pip a wheel (PIP_USE_PEP517=1, src/jail/init.c);
 * setuptools' backend builds one only with the `wheel` package, which a
 * venv made by Debian's `python3 -m venv` lacks (plain pip would then have
 * run `setup.py install`, package code writing the environment).  Then
 * the PEP 517 hook runner gets Debian's wheel wheel after its PYTHONPATH
 * (the preload library, build_pythonpath): a zip Python imports from, whose
 * dist-info carries the `bdist_wheel` command.  Why that file is trusted:
 * it is root's and neither it nor a directory above it may be written by
 * anyone else (checked here, before any package code runs); the jail shows
 * it read-only, outside every tree a build may write.  Returns whether a
 * build can get `wheel` (from the environment, or this file). */
static bool add_build_wheel(int root, const char *env, const char **whl, bool *env_lacks)
{
	static const char *const dirs[] = { ".", "/usr", "/usr/share", SYSTEM_WHEELS };  /* . is / */
	autoclose int fd = -1;
	char best[256] = "";
	struct stat st;
	DIR *d;
	struct dirent *e;

	*whl = NULL;
	*env_lacks = !env_has_wheel(root, env);
	if (!*env_lacks)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (!root_only(root, dirs[i], &st) || !S_ISDIR(st.st_mode))
			return false;
	fd = open_in_jail(root, SYSTEM_WHEELS, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0 || !(d = fdopendir(steal_fd(&fd))))
		return false;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		autofree char *p = xasprintf("%s/%s", SYSTEM_WHEELS, e->d_name);

		if (strncmp(e->d_name, "wheel-", 6) != 0 || n < 10 || n >= sizeof(best) ||
		    strcmp(e->d_name + n - 4, ".whl") != 0 || strchr(e->d_name, '\n') ||
		    !root_only(root, p, &st) || !S_ISREG(st.st_mode))
			continue;
		/* the newest, by name (wheel-0.38.4-py3-none-any.whl) */
		if (strverscmp(e->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(d);
	if (!best[0])
		return false;
	*whl = xasprintf("%s/%s", SYSTEM_WHEELS, best);
	return true;
}

/* Write a file of the jail's /run/pipjail (root's, read-only for all). */
static void write_in_jail(int root, const char *path, const void *buf, size_t len)
{
	autoclose int fd = open_in_jail(root, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0444);

	if (fd < 0 || write_all(fd, buf, len) < 0)
		die_errno("writing %s in the jail", path);
}

static void write_anchors(const struct run *r, const struct collect *c)
{
	struct pip_anchors a = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (size_t i = 0; i < c->n_interps; i++)
		a.interps[a.n_interps++] = (struct pip_file){ c->interps[i].st_dev, c->interps[i].st_ino };
	for (size_t i = 0; i < c->n_tools; i++)
		a.tools[a.n_tools++] = (struct pip_file){ c->tools[i].st_dev, c->tools[i].st_ino };
	for (size_t i = 0; i < c->n_entries; i++)
		a.entries[a.n_entries++] = c->entries[i];
	a.n_rw = build_trees(r, a.rw, PIP_ANCHOR_RW);
	a.build_path = c->build_wheel;
	if (!f || pip_anchors_write(&a, f) < 0 || fclose(f) != 0)
		die("the anchors of trust could not be written (a path holds a newline?)");
	write_in_jail(c->root, JAIL_ANCHORS, text, len);
	free(text);
}

void anchors_arm(struct run *r)
{
	autofree char *rootp = xasprintf("/proc/%d/root", (int)r->init);
	struct collect c = { .root = open(rootp, O_PATH | O_DIRECTORY | O_CLOEXEC) };
	const char *env = r->opt->target_env;
	struct stat env_st;
	autofree char *git = NULL;

	if (c.root < 0)
		die_errno("%s", rootp);
	if (env) {
		autofree char *bin = xasprintf("%s/bin", env);

		each_name(&c, bin, is_python_name, add_interpreter);
		each_name(&c, bin, is_pip_script, add_pip_script);
		add_runners(&c, env);
	}
	add_command(&c, r);
	add_path_interpreters(&c, r);
	if ((git = find_in_jail_path(r, c.root, "git"))) {
		add_tool(&c, git);
		each_name(&c, "/usr/lib/git-core", any_name, add_tool);
	}
	if (r->mon) {
		struct monitor_anchors ma = {
			.interps = c.interps, .n_interps = c.n_interps, .tools = c.tools,
			.n_tools = c.n_tools, .entries = (const char *const *)c.entries,
			.n_entries = c.n_entries,
		};

		if (env && stat_in_jail(c.root, env, &env_st)) {
			ma.env_dev = env_st.st_dev;
			ma.env_path = env;
		}
		if (monitor_set_anchors(r->mon, &ma) < 0)
			die_errno("registering the anchors of trust with the monitor");
	}
	r->builds_lack_wheel = !add_build_wheel(c.root, env, &c.build_wheel, &r->env_lacks_wheel);
	if (c.build_wheel)
		debugx(1, "anchors: the environment has no `wheel`: PEP 517 builds get %s",
		       c.build_wheel);
	else if (r->builds_lack_wheel)
		debugx(1, "anchors: the environment has no `wheel`, and no %s/wheel-*.whl to give "
		       "builds", SYSTEM_WHEELS);
	write_in_jail(c.root, JAIL_PRELOAD, pj_preload_so, (size_t)(pj_preload_so_end - pj_preload_so));
	write_anchors(r, &c);
	debugx(1, "anchors: %zu interpreter(s), %zu entry point(s), %zu helper program(s) of pip",
	       c.n_interps, c.n_entries, c.n_tools);
	for (size_t i = 0; i < c.n_entries; i++)
		free(c.entries[i]);
	free((char *)c.build_wheel);
	close(c.root);
}
