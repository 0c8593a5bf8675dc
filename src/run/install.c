/* The staged install around pip: the target environment is an overlay in
 * the jail (src/jail/mounts.c) whose upper layer is a staging directory
 * outside it (src/stage/).  After pip, and while the jail still stands, the
 * environment's interpreter (as it was before the run) starts once for
 * each distribution the install added and imports it (role import): many
 * payloads run at import or at start-up, not in setup.py.  Then the
 * bytecode check (bytecode.c), then every staged file is held against the
 * RECORDs, and the stage is committed only when the whole run was clean. */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decide/engine.h"
#include "pip/pip.h"
#include "run/internal.h"
#include "stage/stage.h"
#include "base/base.h"

/* The import check of one distribution.  The first line is the marker by
 * which src/decide/proctree.c gives the process role import and the
 * distribution (live and in replay); the name and version follow it.
 *
 * The interpreter is started with -S and site.main() is called here, after
 * sys.executable is set to the environment's bin/python: a start of the
 * environment's interpreter, as site.py makes it (pyvenv.cfg, every site
 * directory, every .pth, sitecustomize), run by the interpreter binary
 * resolved before the run, never by a file the run wrote.  argv: the
 * environment's bin/python, the number N of .pth files whose code runs in
 * another distribution's check (their directories are still added), those
 * N paths, then the modules to import. */
#define IMPORT_CHECK_CODE                                                                   \
	"import sys\n"                                                                      \
	"a = sys.argv\n"                                                                    \
	"sys.executable = a[1]\n"                                                           \
	"n = int(a[2])\n"                                                                   \
	"skip, mods = set(a[3:3 + n]), a[3 + n:]\n"                                         \
	"import os, site\n"                                                                 \
	"def paths_only(sitedir, name, known_paths):\n"                                     \
	"    full = os.path.join(sitedir, name)\n"                                          \
	"    if full not in skip:\n"                                                        \
	"        return addpackage(sitedir, name, known_paths)\n"                           \
	"    try:\n"                                                                        \
	"        f = open(full, 'rb')\n"                                                    \
	"    except OSError:\n"                                                             \
	"        return known_paths\n"                                                      \
	"    with f:\n"                                                                     \
	"        text = f.read().decode(errors='surrogateescape')\n"                        \
	"    for line in text.replace('\\r\\n', '\\n').replace('\\r', '\\n').split('\\n'):\n" \
	"        if line.startswith(('#', 'import ', 'import\\t')) or not line.strip():\n"  \
	"            continue\n"                                                            \
	"        d, dc = site.makepath(sitedir, line.rstrip())\n"                           \
	"        if dc not in known_paths and os.path.exists(d):\n"                         \
	"            sys.path.append(d)\n"                                                  \
	"            known_paths.add(dc)\n"                                                 \
	"    return known_paths\n"                                                          \
	"addpackage = site.addpackage\n"                                                    \
	"if skip:\n"                                                                        \
	"    site.addpackage = paths_only\n"                                                \
	"site.main()\n"                                                                     \
	"site.addpackage = addpackage\n"                                                    \
	"import importlib\n"                                                                \
	"for m in mods:\n"                                                                  \
	"    try:\n"                                                                        \
	"        importlib.import_module(m)\n"                                              \
	"    except BaseException as e:\n"                                                  \
	"        print('pipjail: import check: %s: %s: %s' % (m, type(e).__name__, e),\n"  \
	"              file=sys.stderr)\n"

/* The start-up probe: the environment's interpreter started as the user's
 * later Python and pip start (site.main() as in the import check: every
 * site directory, every .pth, Debian's sitecustomize), with the
 * environment's bin/ first on sys.path as in every console script that pip
 * writes there (bin/pip among them: a script's own directory comes before
 * the standard library), then the hook pip offers at every install: the
 * platform tags of its vendored packaging, which imports _manylinux when
 * one is found.  Last, every name of the standard library (its list, and
 * the modules of its directories, _sysconfigdata_* among them) that is not
 * built in or frozen is looked up on that sys.path as an import would, and
 * the file found is opened when it lies outside the standard library's
 * own directories, and so is every other name its top-level modules
 * import (copy and pickle try `org`, platform `java`).  And every name of
 * the environment's own site directories (not the system's that a venv
 * with --system-site-packages also sees: a venv's six before Debian's is
 * what such a venv is for) is looked up the same way: the
 * file found is opened when it is not that directory's own (a package in
 * a directory a .pth line adds, regular, beats a namespace package there;
 * bin/NAME.py beats site-packages/NAME).  So: a module of this
 * run in bin/ that a script's `import
 * re` would load, or one that fills in a module Debian leaves out (_gdbm
 * without python3-gdbm, winreg that mimetypes tries) and runs when the
 * standard library imports it.  Not pip's whole command line: pip's own
 * code imports honest distributions by name when they are there (its
 * rich imports attrs' attr), so what pip imports optionally is no finding
 * (docs/staging.md, Limits).  The marker gives its processes role import
 * and marks them (src/decide/proctree.c): the engine remembers what they
 * open, and the staging check holds every file of this run to that
 * (src/stage/check.c).  Nothing it prints or returns is believed; only the
 * kernel's trace of its opens counts.  argv: the environment's
 * bin/python. */
#define PROBE_CODE                                                                          \
	"# pipjail-startup-probe\n"                                                         \
	"import os, sys\n"                                                                  \
	"os.nice(10)  # behind the import checks and the supervisor, which kills\n"        \
	"sys.executable = sys.argv[1]\n"                                                    \
	"import site\n"                                                                     \
	"site.main()\n"                                                                     \
	"sys.path.insert(0, os.path.dirname(sys.argv[1]))\n"                                \
	"failed = False\n"                                                                  \
	"try:\n"                                                                            \
	"    from pip._vendor.packaging import tags\n"                                      \
	"    list(tags.sys_tags())\n"                                                       \
	"except BaseException as e:\n"                                                     \
	"    # no pip in the environment: nothing of pip's to start\n"                     \
	"    failed = not (type(e) is ModuleNotFoundError and e.name == 'pip')\n"           \
	"    if failed:\n"                                                                  \
	"        print('pipjail: start-up probe: %s: %s' % (type(e).__name__, e),\n"        \
	"              file=sys.stderr)\n"                                                   \
	"import sysconfig\n"                                                                \
	"from importlib.machinery import FrozenImporter, PathFinder\n"                      \
	"base = {'base': sys.base_prefix, 'platbase': sys.base_exec_prefix,\n"              \
	"        'installed_base': sys.base_prefix, 'installed_platbase': sys.base_exec_prefix}\n" \
	"std = tuple({os.path.realpath(sysconfig.get_path(k, vars=base)) + os.sep\n"        \
	"             for k in ('stdlib', 'platstdlib')})\n"                                 \
	"sp = tuple(os.path.realpath(d) + os.sep\n"                                          \
	"           for d in site.getsitepackages() + [site.getusersitepackages()])\n"      \
	"import re\n"                                                                       \
	"imp = re.compile(rb'^[ \\t]*(?:import[ \\t]+([A-Za-z_]\\w*)(?:[ \\t]*$|[ \\t]*[,;#]|'\n" \
	"                 rb'[ \\t]+as[ \\t])|from[ \\t]+([A-Za-z_]\\w*)[\\w.]*[ \\t]+import[ \\t])',\n" \
	"                 re.M)\n"                                                          \
	"names = set(getattr(sys, 'stdlib_module_names', ()))\n"                            \
	"for d in std:\n"                                                                   \
	"    for sub in ('', 'lib-dynload'):\n"                                             \
	"        try:\n"                                                                    \
	"            names.update(e.split('.')[0] for e in os.listdir(os.path.join(d, sub)))\n" \
	"        except OSError:\n"                                                         \
	"            pass\n"                                                                \
	"    for e in os.listdir(d) if os.path.isdir(d) else ():\n"                         \
	"        if e.endswith('.py'):\n"                                                   \
	"            try:\n"                                                                \
	"                with open(os.path.join(d, e), 'rb') as f:\n"                       \
	"                    names.update((a or b).decode() for a, b in imp.findall(f.read()))\n" \
	"            except OSError:\n"                                                     \
	"                pass\n"                                                            \
	"for m in sorted(n for n in names if n.isidentifier()):\n"                          \
	"    if m in sys.builtin_module_names or FrozenImporter.find_spec(m):\n"            \
	"        continue\n"                                                                \
	"    try:\n"                                                                        \
	"        o = PathFinder.find_spec(m, sys.path).origin\n"                            \
	"        r = o and os.path.realpath(o)\n"                                           \
	"        if r and (not r.startswith(std) or r.startswith(sp)):\n"                   \
	"            open(o, 'rb').close()\n"                                               \
	"    except Exception:\n"                                                           \
	"        pass\n"                                                                    \
	"# the environment's own site directories, not the system's a venv may see\n"      \
	"for d in (x for x in sp if x.startswith(os.path.realpath(sys.prefix) + os.sep)):\n" \
	"    try:\n"                                                                        \
	"        entries = os.listdir(d)\n"                                                 \
	"    except OSError:\n"                                                             \
	"        continue\n"                                                                \
	"    for m in sorted({e.split('.')[0] for e in entries} - names):\n"                \
	"        try:\n"                                                                    \
	"            o = m.isidentifier() and PathFinder.find_spec(m, sys.path).origin\n"   \
	"            p = o and os.path.relpath(os.path.realpath(o), d).split(os.sep)\n"     \
	"            if p and (len(p) > 2 or p[0].split('.')[0] != m):\n"                   \
	"                open(o, 'rb').close()\n"                                           \
	"        except Exception:\n"                                                       \
	"            pass\n"                                                                \
	"sys.exit(3 if failed else 0)\n"

/* One distribution's import check: its name, version, modules and .pth files. */
struct import_job {
	char name[128], version[64];
	char **mods;
	size_t n;
	char **pths;           /* absolute, as the jail sees them */
	size_t n_pths;
};

/* The run-time side of a staged install. */
struct install {
	char *python;          /* the interpreter, resolved before the run (host path) */
	char *env_python;      /* <target>/bin/python when the target is a venv, else NULL */
	bool editable;         /* pip installs something editable (-e) */
	char ***cmds;          /* the import check's commands */
	char **cmd_names, **cmd_versions;   /* each command's distribution */
	size_t n_cmds, next_cmd;
	bool imports_made, pyc_asked, probe_asked;
	char **probe_cmd;
	struct pyc_check *pyc;
	size_t at_once;                       /* the most checks that ran at once */
	uint64_t t_imports, t_probe, t_pyc;   /* when each phase started (-v timing) */
	uint64_t probe_ns;                    /* how long the probe ran */
};

static int open_user(const char *path, void *ctx)
{
	struct run *r = ctx;

	return open_as_user(&r->cfg->user, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
}

void install_prepare(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	struct pip_config_src src = {
		.argv = cfg->argv, .envp = cfg->env, .home = cfg->user.home, .cwd = cfg->cwd,
		.open_file = open_user, .ctx = r,
	};
	struct install *in;
	char err[1024], real[PATH_MAX];
	char **env = cfg->env;
	size_t n = 0;

	if (!r->opt->target_env)
		return;
	if (stage_prepare(&r->stage, r->opt->target_env, &cfg->user, err, sizeof(err)) < 0)
		die("staging %s: %s", r->opt->target_env, err);
	cfg->stage_target = xstrdup(stage_target(r->stage));
	cfg->stage_upper = xstrdup(stage_upper(r->stage));
	cfg->stage_work = xstrdup(stage_work(r->stage));
	r->inst = in = xcalloc(1, sizeof(*in));
	/* The environment's interpreter as it is now, before anything ran:
	 * the host's view of the target is the lower layer, whatever the
	 * jail writes.  A venv's bin/python is a symlink out of it (or a copy
	 * in it, which stage_touched() tells apart later); otherwise the
	 * interpreter that runs pip. */
	{
		autofree char *py = xasprintf("%s/bin/python", cfg->stage_target);

		if (access(py, X_OK) == 0 && realpath(py, real)) {
			in->python = xstrdup(real);
			in->env_python = steal_pointer(&py);
		} else {
			in->python = pip_interpreter_of_command(cfg->argv[0]);
		}
	}
	in->editable = r->opt->is_pip && pip_installs_editable(&src);
	debugx(1, "staging: interpreter %s%s%s", in->python ? in->python : "(none)",
	       in->env_python ? " as " : "", in->env_python ? in->env_python : "");
	/* Imports of the target's own packages (pip itself, in a venv) must
	 * not leave bytecode that no RECORD names. */
	while (env[n])
		n++;
	cfg->env = xrealloc(env, (n + 2) * sizeof(char *));
	cfg->env[n] = xstrdup("PYTHONDONTWRITEBYTECODE=1");
	cfg->env[n + 1] = NULL;
	debugx(1, "staging %s in %s", cfg->stage_target, stage_dir(r->stage));
}

/* A top-level module name from a site-packages entry, or NULL: any
 * identifier, those starting with "_" too (an editable install's finder
 * is "__editable___<name>_finder"), but __pycache__. */
static char *module_of(const char *name, bool is_dir)
{
	const char *dot = strchr(name, '.');
	size_t len = dot ? (size_t)(dot - name) : strlen(name);

	if (!strcmp(name, "__pycache__") || len == 0 || (name[0] >= '0' && name[0] <= '9'))
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return NULL;
	if (is_dir)
		return dot ? NULL : xstrdup(name); /* *.dist-info, *.egg-info, *.data */
	if (!dot)
		return NULL;
	if (strcmp(dot, ".py") == 0 || strncmp(dot, ".cpython", 8) == 0 || strcmp(dot, ".so") == 0 ||
	    strncmp(dot, ".abi3", 5) == 0)
		return xasprintf("%.*s", (int)len, name);
	return NULL;
}

static void add_str(char ***v, size_t *n, char *s)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*v)[i], s) == 0) {
			free(s);
			return;
		}
	}
	*v = xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = s;
}

/* The distribution's name and version, from its METADATA or PKG-INFO
 * headers (src/pip/metadata.c); "-" stays for what is not there. */
static void read_meta(int dirfd, const char *file, struct import_job *j)
{
	struct pip_meta m;

	if (pip_meta_read_at(dirfd, file, &m) < 0)
		return;
	snprintf(j->name, sizeof(j->name), "%s", m.name);
	if (m.version[0])
		snprintf(j->version, sizeof(j->version), "%s", m.version);
}

/* The modules and .pth files a new *.dist-info declares (its RECORD's
 * top-level entries) or a new *.egg-info lists (top_level.txt, and
 * installed-files.txt for the .pth files).  site: the site directory as
 * the jail sees it. */
static void dist_modules(int sitefd, const char *site, const char *dir, struct import_job *j)
{
	autoclose int dfd = openat(sitefd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	bool egg = strstr(dir, ".egg-info") != NULL;
	struct record rec = { 0 }, files = { 0 };
	char err[256];

	if (dfd < 0)
		return;
	read_meta(dfd, egg ? "PKG-INFO" : "METADATA", j);
	if ((egg ? record_read_lines_at(dfd, "top_level.txt", &rec, err, sizeof(err))
		 : record_read_at(dfd, "RECORD", &rec, err, sizeof(err))) < 0)
		rec.n = 0;
	if (egg && record_read_lines_at(dfd, "installed-files.txt", &files, err, sizeof(err)) < 0)
		files.n = 0;
	for (size_t i = 0; i < rec.n; i++) {
		const char *p = rec.e[i].path, *slash = strchr(p, '/');
		autofree char *first = slash ? xasprintf("%.*s", (int)(slash - p), p) : xstrdup(p);
		char *m = p[0] == '/' || strstr(p, "..") ? NULL : module_of(first, slash != NULL || egg);

		if (m)
			add_str(&j->mods, &j->n, m);
		if (!egg && !slash && p[0] != '/' && strlen(p) > 4 && !strcmp(p + strlen(p) - 4, ".pth"))
			add_str(&j->pths, &j->n_pths, xasprintf("%s/%s", site, p));
	}
	for (size_t i = 0; i < files.n; i++) {
		const char *p = files.e[i].path;

		if (!strncmp(p, "../", 3) && !strchr(p + 3, '/') && strlen(p) > 7 &&
		    !strcmp(p + strlen(p) - 4, ".pth"))
			add_str(&j->pths, &j->n_pths, xasprintf("%s/%s", site, p + 3));
	}
	record_free(&rec);
	record_free(&files);
}

/* Every distribution this install added, from the upper layer's
 * site-packages: one import job each, even one without a module (its
 * .pth files run at the start). */
static size_t import_jobs(struct run *r, struct import_job **jobs)
{
	autofree char *pattern = xasprintf("%s/lib/python3*/site-packages", stage_upper(r->stage));
	size_t ulen = strlen(stage_upper(r->stage));
	glob_t g = { 0 };
	size_t n = 0;

	*jobs = NULL;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		autofree char *site = xasprintf("%s%s", stage_target(r->stage), g.gl_pathv[i] + ulen);
		DIR *d = opendir(g.gl_pathv[i]);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			struct import_job j = { .name = "-", .version = "-" };

			if (e->d_type != DT_DIR || (!strstr(e->d_name, ".dist-info") &&
						   !strstr(e->d_name, ".egg-info")))
				continue;
			dist_modules(dirfd(d), site, e->d_name, &j);
			*jobs = xrealloc(*jobs, (n + 1) * sizeof(**jobs));
			(*jobs)[n++] = j;
		}
		if (d)
			closedir(d);
	}
	globfree(&g);
	return n;
}

/* The command of job k: every other job's .pth files are read for their
 * directories only, so that what a .pth runs lands on its own
 * distribution's check. */
static char **job_argv(const struct install *in, struct import_job *jobs, size_t n, size_t k)
{
	struct import_job *j = &jobs[k];
	size_t n_skip = 0, a = 0;
	char **argv;

	for (size_t i = 0; i < n; i++)
		if (i != k)
			n_skip += jobs[i].n_pths;
	argv = xcalloc(9 + n_skip + j->n, sizeof(char *));
	/* -I: no user site, no cwd on sys.path (the project's own modules must
	 * not stand in for the installed ones); -B: no bytecode; -S: site.main()
	 * comes once sys.executable names the environment. */
	argv[a++] = xstrdup(in->python);
	argv[a++] = xstrdup("-I");
	argv[a++] = xstrdup("-B");
	argv[a++] = xstrdup("-S");
	argv[a++] = xstrdup("-c");
	argv[a++] = xasprintf("# pipjail-import-check: %s %s\n%s", j->name, j->version, IMPORT_CHECK_CODE);
	argv[a++] = xstrdup(in->env_python);
	argv[a++] = xasprintf("%zu", n_skip);
	for (size_t i = 0; i < n; i++)
		for (size_t p = 0; i != k && p < jobs[i].n_pths; p++)
			argv[a++] = xstrdup(jobs[i].pths[p]);
	if (j->n)
		memcpy(argv + a, j->mods, j->n * sizeof(char *));
	return argv;
}

/* The import checks' commands; false when the checks cannot run (then
 * the start-up probe does not either). */
static bool import_commands(struct run *r)
{
	struct install *in = r->inst;
	struct import_job *jobs = NULL;
	size_t n;

	if (!r->opt->import_check || !in->env_python || !in->python)
		return false;
	/* A copy of the interpreter inside the environment that the run
	 * replaced (or hid) is not run: the staging check reports the change. */
	if (stage_touched(r->stage, in->python)) {
		warnx_("the import check did not run: the run changed the environment's interpreter %s",
		       in->python);
		return false;
	}
	n = import_jobs(r, &jobs);
	in->cmds = xcalloc(n + 1, sizeof(char **));
	in->cmd_names = xcalloc(n + 1, sizeof(char *));
	in->cmd_versions = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		in->cmds[i] = job_argv(in, jobs, n, i);
		in->cmd_names[i] = xstrdup(jobs[i].name);
		in->cmd_versions[i] = xstrdup(jobs[i].version);
	}
	in->n_cmds = n;
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].mods);
		for (size_t p = 0; p < jobs[i].n_pths; p++)
			free(jobs[i].pths[p]);
		free(jobs[i].pths);
	}
	free(jobs);
	debugx(1, "import check: %zu distributions", n);
	return true;
}

/* An import check that did not end as its code ends (exit 0): it could not
 * start (the interpreter would not execute), it crashed, or the package
 * ended it (os._exit, a signal).  Its distribution was not, or not wholly,
 * imported: never "clean". */
static void import_check_failed(struct run *r, const char *name, const char *version, int code)
{
	autofree char *ev = NULL;
	struct violation v = { .rule = "import-check", .kind = "staging",
			       .detail = "the import check of this distribution did not complete, so what its "
					 "modules and .pth files do at import is unknown",
			       .action = ACTION_REPORT, .t_mono_ns = now_ns(),
			       .package = name, .version = version };

	if (code > 128 && code < 128 + 65)
		ev = xasprintf("the import check of %s %s was ended by signal %d", name, version, code - 128);
	else
		ev = xasprintf("the import check of %s %s exited %d%s", name, version, code,
			       code == 126 || code == 127 ? " (the interpreter could not be started)" : "");
	v.evidence = ev;
	warnx_("%s", ev);
	engine_report(r->engine, &v);
}

/* The start-up probe's command (it runs when the import checks do). */
static char **probe_command(struct run *r)
{
	struct install *in = r->inst;
	char **argv;

	argv = xcalloc(8, sizeof(char *));
	argv[0] = xstrdup(in->python);
	argv[1] = xstrdup("-I");
	argv[2] = xstrdup("-B");
	argv[3] = xstrdup("-S");
	argv[4] = xstrdup("-c");
	argv[5] = xstrdup(PROBE_CODE);
	argv[6] = xstrdup(in->env_python);
	return argv;
}

/* A start-up probe that did not end as its code ends: a start of the
 * environment's Python that package code ended (os._exit, a signal) or
 * that crashed.  What it would have opened after that is unknown. */
static void probe_failed(struct run *r, int code)
{
	autofree char *ev = xasprintf("the start-up probe of %s exited %d", stage_target(r->stage), code);
	struct violation v = { .rule = "import-check", .kind = "staging", .evidence = ev,
			       .detail = "the start-up probe (the environment's Python and pip started on the "
					 "staged install) did not complete, so what they run at start is unknown",
			       .action = ACTION_REPORT, .t_mono_ns = now_ns() };

	warnx_("%s", ev);
	engine_report(r->engine, &v);
}

/* The ids of init's answers (struct jail_done): 0 is the jailed command,
 * 1..n the import check of distribution n-1. */
enum { ID_PROBE = 0x70000000, ID_PYC };

/* The bytecode check's command, once no other check runs (it must see the
 * environment as they left it), or NULL. */
static char **pyc_command(struct run *r)
{
	struct install *in = r->inst;

	in->pyc_asked = true;
	in->t_pyc = now_ns();
	/* make bench reads this line */
	debugx(1, "timing: import check %.1f ms (%zu distributions and the start-up probe, %zu at once)",
	       (in->t_pyc - in->t_imports) / 1e6, in->n_cmds, in->at_once);
	if (in->probe_cmd)
		debugx(1, "timing: start-up probe %.1f ms (%zu files opened)", in->probe_ns / 1e6,
		       engine_probe_count(r->engine));
	if (!in->python) {
		debugx(1, "bytecode check skipped: no interpreter is known for %s", stage_target(r->stage));
		return NULL;
	}
	if (stage_touched(r->stage, in->python)) {
		in->pyc = NULL;   /* the staging check reports the interpreter */
		return NULL;
	}
	return pyc_check_command(r, r->stage, in->python, &in->pyc);
}

char **install_next_command(struct run *r, size_t running, uint32_t *id)
{
	struct install *in = r->inst;

	if (!r->stage || !in || r->command_code != 0 || engine_killed(r->engine))
		return NULL;
	/* A Ctrl-C (or TERM) while the checks run reaches the checks'
	 * processes too: what they had not imported yet is unknown, so no
	 * check is left to vouch for the install.  The run ends as an
	 * interrupted one. */
	if (r->interrupts > 0 && in->imports_made) {
		r->checks_cut = true;
		return NULL;
	}
	if (!in->imports_made) {
		in->imports_made = true;
		in->t_imports = now_ns();
		if (import_commands(r))
			in->probe_cmd = probe_command(r);
	}
	if (running + 1 > in->at_once)
		in->at_once = running + 1;
	/* the probe first: it is the longest (pip's imports) */
	if (in->probe_cmd && !in->probe_asked) {
		in->probe_asked = true;
		in->t_probe = now_ns();
		*id = ID_PROBE;
		return in->probe_cmd;
	}
	if (in->next_cmd < in->n_cmds) {
		*id = 1 + (uint32_t)in->next_cmd;
		return in->cmds[in->next_cmd++];
	}
	if (running > 0 || in->pyc_asked)
		return NULL;
	*id = ID_PYC;
	return pyc_command(r);
}

void install_command_done(struct run *r, uint32_t id, int code)
{
	struct install *in = r->inst;

	/* an interrupted check ended by the signal: the run is cut short
	 * (install_next_command), nothing of it is judged */
	if (!in || r->interrupts > 0)
		return;
	if (id == ID_PYC) {
		if (in->pyc)
			pyc_check_collect(r, r->stage, in->pyc, code);
		debugx(1, "timing: bytecode check %.1f ms", (now_ns() - in->t_pyc) / 1e6);
	} else if (id == ID_PROBE) {
		in->probe_ns = now_ns() - in->t_probe;
		if (code != 0)
			probe_failed(r, code);
	} else if (id >= 1 && id <= in->n_cmds && code != 0) {
		import_check_failed(r, in->cmd_names[id - 1], in->cmd_versions[id - 1], code);
	}
}

void install_check(struct run *r)
{
	uint64_t t0 = now_ns();
	char err[1024];

	if (!r->stage)
		return;
	/* Ctrl-C stopped pip: nothing will be committed, and what pip left
	 * half-written (a RECORD's temp file) is not a package's doing.  (A
	 * Ctrl-C that came after pip finished changes nothing: checked and
	 * committed as usual.) */
	if (r->interrupts && (r->command_code != 0 || r->checks_cut)) {
		warnx_("interrupted: nothing is committed; the staged files were not checked");
		return;
	}
	if (stage_scan(r->stage, err, sizeof(err)) < 0) {
		struct violation v = { .rule = "staging", .kind = "staging", .evidence = err,
				       .detail = "the staged install could not be read",
				       .action = ACTION_REPORT, .t_mono_ns = now_ns() };

		engine_report(r->engine, &v);
		return;
	}
	{
		struct stage_check_opts o = { .editable = r->inst && r->inst->editable };
		struct install_hooks ih = { .pyc = r->inst ? r->inst->pyc : NULL };

		/* Bytecode is held to the check's verdicts once the check was set
		 * up; a run that failed or was killed commits nothing anyway. */
		ih.check_pyc = r->inst && r->inst->pyc_asked && r->inst->python && !engine_killed(r->engine);
		/* A probe that failed is a finding of its own; what it opened
		 * before still counts. */
		ih.probe = r->inst && r->inst->probe_cmd && !engine_killed(r->engine);
		install_check_stage(r->stage, r->engine, &o, &ih);
	}
	debugx(1, "timing: staging scan+check %.1f ms (%zu files)", (now_ns() - t0) / 1e6,
	       stage_result(r->stage)->n_files);
}

/* A finding of the staging check becomes a violation of the run,
 * attributed to the process that last wrote the file. */
static void on_finding(void *ctx, const struct stage_finding *f)
{
	const struct install_hooks *ih = ctx;
	struct violation v = { .rule = f->rule, .kind = "staging", .evidence = f->evidence,
			       .detail = f->reason, .hpid = f->writer, .package = f->package,
			       .version = f->version, .action = ACTION_REPORT, .t_mono_ns = now_ns() };

	engine_report(ih->engine, &v);
}

static uint32_t writer_of(void *ctx, const char *abs_path)
{
	const struct install_hooks *ih = ctx;

	return engine_writer_of(ih->engine, abs_path);
}

/* pip, or what it started outside any build; unknown writers count as
 * pip's (the engine forgets the oldest writes of a huge run). */
static bool is_installer(void *ctx, uint32_t hpid)
{
	const struct install_hooks *ih = ctx;
	const struct proc_info *p = hpid ? engine_proc(ih->engine, hpid) : NULL;

	return !p || p->role == ROLE_PIP || p->role == ROLE_NONE;
}

static bool probe_opened(void *ctx, const char *abs_path)
{
	const struct install_hooks *ih = ctx;

	return engine_probe_opened(ih->engine, abs_path);
}

static bool find_token(void *ctx, const unsigned char *data, size_t n, char *what, size_t len)
{
	const struct install_hooks *ih = ctx;
	const char *how = NULL, *where = NULL;
	int i = engine_find_decoy(ih->engine, data, n, false, &how);

	if (i < 0)
		return false;
	engine_decoy(ih->engine, (size_t)i, &where);
	snprintf(what, len, "the decoy token of %s (%s)", where ? where : "?", how ? how : "as is");
	return true;
}

static char *pyc_check(void *ctx, const char *rel, const uint8_t *digest)
{
	const struct install_hooks *ih = ctx;

	if (!ih->pyc)
		return xstrdup("a .pyc that was not checked against its source (the check could not run)");
	return pyc_check_verdict(ih->pyc, rel, digest);
}

int install_check_stage(struct stage *s, struct engine *e, const struct stage_check_opts *o,
			struct install_hooks *ih)
{
	struct install_hooks none = { 0 };
	struct stage_hooks h = { .report = on_finding, .writer_of = writer_of,
				 .is_installer = is_installer, .find_token = find_token };

	if (!ih)
		ih = &none;
	ih->engine = e;
	h.ctx = ih;
	if (ih->check_pyc)
		h.pyc_check = pyc_check;
	if (ih->probe)
		h.probe_opened = probe_opened;
	return stage_check(s, o, &h);
}

/* Commit only a clean, complete, successful run; otherwise the real
 * environment stays exactly as it was.  Signals wait until the commit's
 * journal is done: an interrupted commit is what `pipjail recover` is for,
 * but there is no reason to cause one. */
int install_settle(struct run *r, bool clean)
{
	int ret = 0;

	struct jail_config *cfg = r->cfg;
	sigset_t all, old;
	char err[1024];

	if (!r->stage)
		return 0;
	if (r->opt->dry_run) {
		stage_report_text(r->stage, stderr, NULL);
		warnx_("--dry-run: nothing was changed in %s", cfg->stage_target);
	} else if (!clean) {
		warnx_("the install was not committed: %s is unchanged", cfg->stage_target);
	} else {
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		if (stage_commit(r->stage, err, sizeof(err)) < 0) {
			warnx_("committing the install into %s failed: %s", cfg->stage_target, err);
			ret = -1;
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	stage_discard(r->stage);
	r->stage = NULL;
	return ret;
}

void install_free(struct run *r)
{
	struct install *in = r->inst;

	if (!in)
		return;
	for (size_t i = 0; i < in->n_cmds; i++) {
		for (size_t k = 0; in->cmds[i][k]; k++)
			free(in->cmds[i][k]);
		free(in->cmds[i]);
		free(in->cmd_names[i]);
		free(in->cmd_versions[i]);
	}
	for (size_t k = 0; in->probe_cmd && in->probe_cmd[k]; k++)
		free(in->probe_cmd[k]);
	free(in->probe_cmd);
	free(in->cmds);
	free(in->cmd_names);
	free(in->cmd_versions);
	pyc_check_free(in->pyc);
	free(in->python);
	free(in->env_python);
	free(in);
	r->inst = NULL;
}
