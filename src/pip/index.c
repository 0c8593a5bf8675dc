/* Where pip looks for packages: every index setting pip will see, from its
 * configuration files, its environment, its command line and the
 * requirements files that command line names.  net/ turns them into the
 * hosts the egress proxy lets pip reach. */
#include <string.h>

#include "pip/pip.h"

struct gather {
	const struct pip_config_src *src;
	int (*on_setting)(void *ctx, const struct pip_index_setting *s);
	void *ctx;
};

static bool index_opt(enum pip_opt opt)
{
	return opt == PIP_OPT_INDEX_URL || opt == PIP_OPT_EXTRA_INDEX_URL ||
	       opt == PIP_OPT_FIND_LINKS || opt == PIP_OPT_NO_INDEX;
}

static int emit(struct gather *g, enum pip_opt opt, const char *value, const char *where)
{
	struct pip_index_setting s = { .opt = opt, .value = value, .where = where };

	return g->on_setting(g->ctx, &s);
}

/* [global], [install], [download], [wheel]: the sections pip install,
 * download and wheel read. */
static int on_config_item(void *ctx, const struct pip_config_item *it)
{
	static const char *const sections[] = { "global", "install", "download", "wheel" };
	enum pip_opt opt = pip_option_by_name(it->key);
	autofree char *where = NULL;
	bool read = false;

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		read |= !strcmp(it->section, sections[i]);
	if (!read || !index_opt(opt))
		return 0;
	where = xasprintf("%s:%u [%s] %s", it->file, it->line, it->section, pip_option_name(opt));
	return emit(ctx, opt, it->value, where);
}

static int from_env(struct gather *g)
{
	static const struct { const char *name; enum pip_opt opt; } vars[] = {
		{ "PIP_INDEX_URL", PIP_OPT_INDEX_URL }, { "PIP_EXTRA_INDEX_URL", PIP_OPT_EXTRA_INDEX_URL },
		{ "PIP_FIND_LINKS", PIP_OPT_FIND_LINKS }, { "PIP_NO_INDEX", PIP_OPT_NO_INDEX },
	};
	int rc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vars) && !rc; i++) {
		const char *v = pip_env_get(g->src->envp, vars[i].name);

		if (v)
			rc = emit(g, vars[i].opt, v, vars[i].name);
	}
	return rc;
}

/* The options of words (a command line after pip, or a requirements file
 * line); prefix names the file and line. */
static int from_words(struct gather *g, const char *const *words, bool command_seen,
		      const char *prefix, struct pip_req_reader *reader)
{
	struct pip_args it;
	struct pip_arg a;
	int rc = 0;

	pip_args_init(&it, words, command_seen);
	while (!rc && pip_args_next(&it, &a)) {
		if (a.kind != PIP_ARG_OPTION)
			continue;
		if (reader && (a.opt == PIP_OPT_REQUIREMENT || a.opt == PIP_OPT_CONSTRAINT) && a.value) {
			rc = pip_requirements_read(reader, a.value, g->src->cwd, a.opt == PIP_OPT_CONSTRAINT);
		} else if (index_opt(a.opt) && (a.value || a.opt == PIP_OPT_NO_INDEX)) {
			autofree char *where = prefix ? xasprintf("%s %s", prefix, a.name) : NULL;

			/* --no-index is a flag, whatever follows an '=' */
			rc = emit(g, a.opt, a.opt == PIP_OPT_NO_INDEX ? NULL : a.value,
				  where ? where : a.name);
		}
	}
	return rc;
}

/* An options line of a requirements file (pip applies no option of a
 * requirement line but its own --hash and the like). */
static int on_req_line(void *ctx, const struct pip_req_line *l)
{
	autofree char *where = NULL;

	if (l->requirement)
		return 0;
	where = xasprintf("%s:%u", l->file, l->line);
	return from_words(ctx, l->words, true, where, NULL);
}

int pip_index_settings(const struct pip_config_src *src,
		       int (*on_setting)(void *ctx, const struct pip_index_setting *s), void *ctx)
{
	struct gather g = { .src = src, .on_setting = on_setting, .ctx = ctx };
	struct pip_req_reader reader = {
		.open_file = src->open_file, .open_ctx = src->ctx, .envp = src->envp,
		.on_line = on_req_line, .ctx = &g,
	};
	const char *const *argv = (const char *const *)src->argv;
	size_t start = pip_argv_start(argv);
	int rc;

	rc = pip_config_read(src, on_config_item, &g);
	if (!rc)
		rc = from_env(&g);
	if (!rc && start)
		rc = from_words(&g, argv + start, false, NULL, &reader);
	pip_requirements_done(&reader);
	return rc;
}

/* ---- editable installs ---- */

static int on_req_editable(void *ctx, const struct pip_req_line *l)
{
	(void)ctx;
	return l->editable && !l->constraint ? 1 : 0;
}

bool pip_installs_editable(const struct pip_config_src *src)
{
	struct pip_req_reader reader = {
		.open_file = src->open_file, .open_ctx = src->ctx, .envp = src->envp,
		.on_line = on_req_editable,
	};
	const char *const *argv = (const char *const *)src->argv;
	size_t start = pip_argv_start(argv);
	struct pip_args it;
	struct pip_arg a;
	int rc = 0;

	if (!start)
		return false;
	pip_args_init(&it, argv + start, false);
	while (!rc && pip_args_next(&it, &a)) {
		if (a.kind != PIP_ARG_OPTION || !a.value)
			continue;
		if (a.opt == PIP_OPT_EDITABLE)
			rc = 1;
		else if (a.opt == PIP_OPT_REQUIREMENT)
			rc = pip_requirements_read(&reader, a.value, src->cwd, false);
	}
	pip_requirements_done(&reader);
	return rc == 1;
}
