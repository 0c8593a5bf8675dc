/* The staged install around pip: the target environment is an overlay in
 * the jail (src/mounts.c) whose upper layer is a staging directory outside
 * it (src/stage.c).  After pip, and while the jail still stands, a fresh
 * interpreter of the staged environment imports what was installed (role
 * import): many payloads run at import or at start-up, not in setup.py.
 * Then every staged file is held against the RECORDs, and the stage is
 * committed only when the whole run was clean. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "run.h"
#include "stage.h"
#include "util.h"

/* The role-import marker: src/proctree.c recognises it in the argv. */
#define IMPORT_CHECK_CODE                                                            \
	"# pipjail-import-check\n"                                                   \
	"import importlib, sys\n"                                                    \
	"for m in sys.argv[1:]:\n"                                                   \
	"    try:\n"                                                                 \
	"        importlib.import_module(m)\n"                                       \
	"    except BaseException as e:\n"                                           \
	"        print('pipjail: import check: %s: %s: %s' % (m, type(e).__name__, e),\n" \
	"              file=sys.stderr)\n"

void install_prepare(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	char err[1024];
	char **env = cfg->env;
	size_t n = 0;

	if (!cfg->target_env)
		return;
	if (stage_prepare(&r->stage, cfg->target_env, &cfg->user, err, sizeof(err)) < 0)
		die("staging %s: %s", cfg->target_env, err);
	cfg->stage_target = xstrdup(stage_target(r->stage));
	cfg->stage_upper = xstrdup(stage_upper(r->stage));
	cfg->stage_work = xstrdup(stage_work(r->stage));
	/* Imports of the target's own packages (pip itself, in a venv) must
	 * not leave bytecode that no RECORD names. */
	while (env[n])
		n++;
	cfg->env = xrealloc(env, (n + 2) * sizeof(char *));
	cfg->env[n] = xstrdup("PYTHONDONTWRITEBYTECODE=1");
	cfg->env[n + 1] = NULL;
	debugx(1, "staging %s in %s", cfg->stage_target, stage_dir(r->stage));
}

/* A top-level module name from a site-packages entry, or NULL. */
static char *module_of(const char *name, bool is_dir)
{
	const char *dot = strchr(name, '.');

	if (name[0] == '_' && name[1] == '_')       /* __pycache__, __editable__* */
		return NULL;
	if (is_dir)
		return dot ? NULL : xstrdup(name); /* *.dist-info, *.egg-info, *.data */
	if (!dot)
		return NULL;
	if (strcmp(dot, ".py") == 0 || strncmp(dot, ".cpython", 8) == 0 || strcmp(dot, ".so") == 0 ||
	    strncmp(dot, ".abi3", 5) == 0)
		return xasprintf("%.*s", (int)(dot - name), name);
	return NULL;
}

/* What this install added at the top of site-packages, read from the
 * upper layer: the modules the import check imports. */
static size_t added_modules(struct run *r, char ***mods)
{
	autofree char *pattern = xasprintf("%s/lib/python3*/site-packages", stage_upper(r->stage));
	glob_t g = { 0 };
	size_t n = 0;

	*mods = NULL;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		DIR *d = opendir(g.gl_pathv[i]);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char *m;

			/* A whiteout (character device 0:0) is a removal, not a module. */
			if (e->d_name[0] == '.' || e->d_type == DT_CHR)
				continue;
			m = module_of(e->d_name, e->d_type == DT_DIR);
			if (!m)
				continue;
			*mods = xrealloc(*mods, (n + 1) * sizeof(char *));
			(*mods)[n++] = m;
		}
		if (d)
			closedir(d);
	}
	globfree(&g);
	return n;
}

char **install_import_argv(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	autofree char *python = NULL;
	char **mods = NULL, **argv;
	size_t n;

	if (!r->stage || !cfg->import_check || r->command_code != 0 || engine_killed(r->engine))
		return NULL;
	python = xasprintf("%s/bin/python", cfg->stage_target);
	if (access(python, X_OK) < 0) {
		debugx(1, "import check skipped: %s is not a virtual environment", cfg->stage_target);
		return NULL;
	}
	n = added_modules(r, &mods);
	if (n == 0) {
		free(mods);
		return NULL;
	}
	/* -I: no user site, no cwd on sys.path (the project's own modules must
	 * not stand in for the installed ones); -B: no bytecode. */
	argv = xcalloc(n + 6, sizeof(char *));
	argv[0] = xstrdup(python);
	argv[1] = xstrdup("-I");
	argv[2] = xstrdup("-B");
	argv[3] = xstrdup("-c");
	argv[4] = xstrdup(IMPORT_CHECK_CODE);
	memcpy(argv + 5, mods, n * sizeof(char *));
	free(mods);
	debugx(1, "import check: %zu modules", n);
	return argv;
}

void install_check(struct run *r)
{
	char err[1024];

	if (!r->stage)
		return;
	if (stage_scan(r->stage, err, sizeof(err)) < 0) {
		struct violation v = { .rule = "staging", .kind = "staging", .evidence = err,
				       .detail = "the staged install could not be read",
				       .action = ACTION_REPORT, .t_mono_ns = now_ns() };

		engine_report(r->engine, &v);
		return;
	}
	stage_check_engine(r->stage, r->engine, NULL);
}

/* Commit only a clean, complete, successful run; otherwise the real
 * environment stays exactly as it was.  Signals wait until the commit's
 * journal is done: an interrupted commit is what `pipjail recover` is for,
 * but there is no reason to cause one. */
void install_settle(struct run *r, bool clean)
{
	struct jail_config *cfg = r->cfg;
	sigset_t all, old;
	char err[1024];

	if (!r->stage)
		return;
	if (cfg->dry_run) {
		stage_report_text(r->stage, stderr, NULL);
		warnx_("--dry-run: nothing was changed in %s", cfg->stage_target);
	} else if (!clean) {
		warnx_("the install was not committed: %s is unchanged", cfg->stage_target);
	} else {
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		if (stage_commit(r->stage, err, sizeof(err)) < 0)
			warnx_("committing the install into %s failed: %s", cfg->stage_target, err);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	stage_discard(r->stage);
	r->stage = NULL;
}
