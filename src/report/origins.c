/* Where each package came from: requirement lines and command-line
 * archives, read with src/pip/'s command-line scanner and requirements
 * reader, shown relative to the repository. */
#include "report/origins.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pip/pip.h"
#include "base/base.h"

struct reqline {
	char *file;               /* as shown */
	unsigned line;
	char *name;               /* PEP 503 */
};

struct origins {
	char *base;
	char **shown;             /* the requirements files read, as shown, in order */
	size_t n_files;
	struct reqline *lines;
	size_t n_lines;
	struct reqline *artifacts;    /* sdists/wheels on the command line (line 0) */
	size_t n_artifacts;
};

/* path (absolute, or relative to dir), cleaned; NULL when it cannot be. */
static char *absolute(const char *dir, const char *path)
{
	char out[PATH_MAX];

	return path_clean_abs(out, sizeof(out), dir, path) == 0 ? xstrdup(out) : NULL;
}

static char *shown_path(const struct origins *o, const char *path)
{
	size_t n = strlen(o->base);

	if (path[0] != '/')
		return xstrdup(path);
	if (!strcmp(o->base, "/"))
		return xstrdup(path + 1);
	if (!strncmp(path, o->base, n) && path[n] == '/')
		return xstrdup(path + n + 1);
	return xstrdup(path);
}

static void add_line(struct reqline **v, size_t *n, const char *file, unsigned line,
		     const char *name)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = (struct reqline){ .file = xstrdup(file), .line = line,
					 .name = pip_normalize_name(name) };
}

/* A requirements file (not a constraints file) as it is read. */
static int on_file(void *ctx, const char *file, bool constraint)
{
	struct origins *o = ctx;

	if (constraint)
		return 0;
	o->shown = xrealloc(o->shown, (o->n_files + 1) * sizeof(*o->shown));
	o->shown[o->n_files++] = shown_path(o, file);
	return 0;
}

/* A requirement line names a project: where it came from. */
static int on_line(void *ctx, const struct pip_req_line *l)
{
	struct origins *o = ctx;
	struct pip_meta m;

	if (l->requirement && !l->constraint && pip_requirement_meta(l->requirement, &m)) {
		autofree char *shown = shown_path(o, l->file);

		add_line(&o->lines, &o->n_lines, shown, l->line, m.name);
	}
	return 0;
}

static char *base_dir(const char *cwd)
{
	static const char *const vars[] = { "GITHUB_WORKSPACE", "CI_PROJECT_DIR" };
	char *b;

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);

		if (v && v[0] == '/' && (b = absolute(NULL, v)))
			return b;
	}
	b = cwd && cwd[0] == '/' ? absolute(NULL, cwd) : NULL;
	return b ? b : xstrdup("/");
}

/* An sdist or wheel named on the command line. */
static void add_artifact(struct origins *o, const char *dir, const char *arg)
{
	struct pip_meta m;
	autofree char *abs = NULL, *shown = NULL;

	if (!pip_archive_meta(arg, &m))
		return;
	if (strstr(arg, "://"))
		shown = xstrdup(arg);
	else if ((abs = absolute(dir, arg)))
		shown = shown_path(o, abs);
	else
		return;
	add_line(&o->artifacts, &o->n_artifacts, shown, 0, m.name);
}

struct origins *origins_new(const char *const *argv, const char *cwd, origins_open_fn open_fn,
			    void *ctx)
{
	struct origins *o = xcalloc(1, sizeof(*o));
	const char *dir = cwd && cwd[0] == '/' ? cwd : "/";
	struct pip_req_reader reader = {
		.open_file = open_fn, .open_ctx = ctx, .on_file = on_file, .on_line = on_line, .ctx = o,
	};
	size_t start = pip_argv_start(argv);
	struct pip_args it;
	struct pip_arg a;
	bool install = false;

	o->base = base_dir(cwd);
	/* only pip's own arguments, after "install" */
	pip_args_init(&it, start ? argv + start : NULL, false);
	while (pip_args_next(&it, &a)) {
		if (a.kind == PIP_ARG_COMMAND)
			install = !strcmp(a.value, "install");
		else if (install && a.opt == PIP_OPT_REQUIREMENT && a.value && open_fn)
			pip_requirements_read(&reader, a.value, dir, false);
		else if (install && a.kind == PIP_ARG_REQUIREMENT)
			add_artifact(o, dir, a.value);
	}
	pip_requirements_done(&reader);
	return o;
}

static int no_open(const char *path, void *ctx)
{
	(void)path;
	(void)ctx;
	errno = ENOENT;
	return -1;
}

struct origins *origins_from_text(const char *file, const char *text)
{
	struct origins *o = xcalloc(1, sizeof(*o));
	struct pip_req_reader reader = { .open_file = no_open, .on_line = on_line, .ctx = o };

	o->base = xstrdup("/");
	on_file(o, file, false);
	pip_requirements_parse(&reader, file, text, strlen(text), false);
	pip_requirements_done(&reader);
	return o;
}

static void free_lines(struct reqline *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].name);
	}
	free(v);
}

void origins_free(struct origins *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_files; i++)
		free(o->shown[i]);
	free(o->shown);
	free_lines(o->lines, o->n_lines);
	free_lines(o->artifacts, o->n_artifacts);
	free(o->base);
	free(o);
}

const char *origins_base(const struct origins *o)
{
	return o->base;
}

bool origins_locate(const struct origins *o, const char *package, struct origin *loc)
{
	autofree char *norm = package ? pip_normalize_name(package) : NULL;

	memset(loc, 0, sizeof(*loc));
	if (!o)
		return false;
	for (size_t i = 0; norm && i < o->n_lines; i++) {
		if (!strcmp(o->lines[i].name, norm)) {
			loc->file = o->lines[i].file;
			loc->line = o->lines[i].line;
			loc->requirement = true;
			return true;
		}
	}
	for (size_t i = 0; norm && i < o->n_artifacts; i++) {
		if (!strcmp(o->artifacts[i].name, norm)) {
			loc->file = o->artifacts[i].file;
			return true;
		}
	}
	if (o->n_files) {
		loc->file = o->shown[0];
		loc->transitive = norm != NULL;
		return true;
	}
	return false;
}
