/* The staged install around pip: the target environment is an overlay in
 * the jail (src/jail/mounts.c) whose upper layer is a staging directory
 * outside it (src/stage/).  After pip, and while the jail still stands, a fresh
 * interpreter of the staged environment imports what was installed (role
 * import): many payloads run at import or at start-up, not in setup.py.
 * Then every staged file is held against the RECORDs, and the stage is
 * committed only when the whole run was clean. */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "decide/engine.h"
#include "pip/pip.h"
#include "run/internal.h"
#include "stage/stage.h"
#include "base/base.h"

/* The import check of one distribution.  The first line is the marker by
 * which src/decide/proctree.c gives the process role import and the distribution
 * (live and in replay); the name and version follow it, then the code. */
#define IMPORT_CHECK_CODE                                                            \
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

	if (!r->opt->target_env)
		return;
	if (stage_prepare(&r->stage, r->opt->target_env, &cfg->user, err, sizeof(err)) < 0)
		die("staging %s: %s", r->opt->target_env, err);
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

/* One distribution's import check: its name, version and modules. */
struct import_job {
	char name[128], version[64];
	char **mods;
	size_t n;
};

static void job_add(struct import_job *j, char *mod)
{
	for (size_t i = 0; i < j->n; i++) {
		if (strcmp(j->mods[i], mod) == 0) {
			free(mod);
			return;
		}
	}
	j->mods = xrealloc(j->mods, (j->n + 1) * sizeof(char *));
	j->mods[j->n++] = mod;
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

/* The modules a new *.dist-info declares (its RECORD's top-level entries)
 * or a new *.egg-info lists (top_level.txt). */
static void dist_modules(int site, const char *dir, struct import_job *j)
{
	autoclose int dfd = openat(site, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	bool egg = strstr(dir, ".egg-info") != NULL;
	struct record rec = { 0 };
	char err[256];

	if (dfd < 0)
		return;
	read_meta(dfd, egg ? "PKG-INFO" : "METADATA", j);
	if ((egg ? record_read_lines_at(dfd, "top_level.txt", &rec, err, sizeof(err))
		 : record_read_at(dfd, "RECORD", &rec, err, sizeof(err))) < 0)
		return;
	for (size_t i = 0; i < rec.n; i++) {
		const char *p = rec.e[i].path, *slash = strchr(p, '/');
		autofree char *first = slash ? xasprintf("%.*s", (int)(slash - p), p) : xstrdup(p);
		char *m = p[0] == '/' || strstr(p, "..") ? NULL : module_of(first, slash != NULL || egg);

		if (m)
			job_add(j, m);
	}
	record_free(&rec);
}

/* Every distribution this install added, from the upper layer's
 * site-packages: one import job each. */
static size_t import_jobs(struct run *r, struct import_job **jobs)
{
	autofree char *pattern = xasprintf("%s/lib/python3*/site-packages", stage_upper(r->stage));
	glob_t g = { 0 };
	size_t n = 0;

	*jobs = NULL;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		DIR *d = opendir(g.gl_pathv[i]);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			struct import_job j = { .name = "-", .version = "-" };

			if (e->d_type != DT_DIR || (!strstr(e->d_name, ".dist-info") &&
						   !strstr(e->d_name, ".egg-info")))
				continue;
			dist_modules(dirfd(d), e->d_name, &j);
			if (j.n == 0)
				continue;
			*jobs = xrealloc(*jobs, (n + 1) * sizeof(**jobs));
			(*jobs)[n++] = j;
		}
		if (d)
			closedir(d);
	}
	globfree(&g);
	return n;
}

static char **job_argv(const char *python, struct import_job *j)
{
	char **argv = xcalloc(j->n + 6, sizeof(char *));

	/* -I: no user site, no cwd on sys.path (the project's own modules must
	 * not stand in for the installed ones); -B: no bytecode. */
	argv[0] = xstrdup(python);
	argv[1] = xstrdup("-I");
	argv[2] = xstrdup("-B");
	argv[3] = xstrdup("-c");
	argv[4] = xasprintf("# pipjail-import-check: %s %s\n%s", j->name, j->version, IMPORT_CHECK_CODE);
	memcpy(argv + 5, j->mods, j->n * sizeof(char *));
	free(j->mods);
	return argv;
}

size_t install_import_commands(struct run *r, char ****cmds)
{
	struct jail_config *cfg = r->cfg;
	autofree char *python = NULL;
	struct import_job *jobs = NULL;
	size_t n;

	*cmds = NULL;
	if (!r->stage || !r->opt->import_check || r->command_code != 0 || engine_killed(r->engine))
		return 0;
	python = xasprintf("%s/bin/python", cfg->stage_target);
	if (access(python, X_OK) < 0) {
		debugx(1, "import check skipped: %s is not a virtual environment", cfg->stage_target);
		return 0;
	}
	n = import_jobs(r, &jobs);
	*cmds = xcalloc(n + 1, sizeof(char **));
	for (size_t i = 0; i < n; i++)
		(*cmds)[i] = job_argv(python, &jobs[i]);
	free(jobs);
	debugx(1, "import check: %zu distributions", n);
	return n;
}

void install_check(struct run *r)
{
	char err[1024];

	if (!r->stage)
		return;
	/* Ctrl-C stopped pip: nothing will be committed, and what pip left
	 * half-written (a RECORD's temp file) is not a package's doing.  (A
	 * Ctrl-C that came after pip finished changes nothing: checked and
	 * committed as usual.) */
	if (r->interrupts && r->command_code != 0) {
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
	install_check_stage(r->stage, r->engine);
}

/* A finding of the staging check becomes a violation of the run,
 * attributed to the process that last wrote the file. */
static void on_finding(void *ctx, const struct stage_finding *f)
{
	struct violation v = { .rule = f->rule, .kind = "staging", .evidence = f->evidence,
			       .detail = f->reason, .hpid = f->writer, .package = f->package,
			       .version = f->version, .action = ACTION_REPORT, .t_mono_ns = now_ns() };

	engine_report(ctx, &v);
}

static uint32_t writer_of(void *ctx, const char *abs_path)
{
	return engine_writer_of(ctx, abs_path);
}

int install_check_stage(struct stage *s, struct engine *e)
{
	struct stage_hooks h = { .report = on_finding, .writer_of = writer_of, .ctx = e };

	return stage_check(s, NULL, &h);
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
