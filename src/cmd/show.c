/* What a run shows in the jail besides what the user named with --ro/--rw:
 *
 *   - the current directory: for pip, read-only below a throwaway writable
 *     layer (pip builds a local tree in place: `pip install .`, `-e .`),
 *     writable when it is pip's output directory (`pip wheel`, `pip
 *     download` without -w/-d); for another command, read-only;
 *   - what pip's command line and configuration name: requirements and
 *     constraints files and those they include, local archives, local
 *     source trees and editable sources (below a throwaway layer: pip
 *     builds them in place), --find-links directories (read-only), pip's
 *     output directories (-w, -d, --report, --log: writable for pip alone);
 *   - the target environment's interpreter installation (pyvenv.cfg's home,
 *     the real path of bin/python: a pyenv, conda, uv or asdf Python in the
 *     home), read-only;
 *   - the toolchains PATH points into (~/.local/bin, ~/.cargo/bin, ...) and
 *     CARGO_HOME, RUSTUP_HOME: read-only, cargo's and rustup's homes below a
 *     throwaway layer for their caches and locks;
 *   - decoys over the secret-looking files at the top of each directory
 *     shown (src/jail/decoys.c).
 *
 * Only what the jail would not show otherwise (the home, /tmp, /var/tmp,
 * /run, ... are empty there) is shown, and never a place where secrets are
 * kept (decoys_secret_place): a path of pip's command line in one is
 * refused (exit 125), a toolchain in one is left out.  Paths are resolved
 * here, as root; the trees are opened with the user's rights before the
 * jail is built (src/run/supervisor.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "cmd/show.h"
#include "pip/pip.h"

struct show {
	struct jail_config *cfg;
	const struct run_opts *opt;
	const char *cwd;            /* the invoker's directory on the host */
	const char *command;        /* pip's command (install, wheel, ...), or NULL */
	bool output_given;          /* -w/-d named pip's output directory */
	bool tree_in_cwd;           /* a local source tree pip builds lies in the cwd */
	/* The target environment's interpreter installations (pyvenv.cfg's
	 * home, the real path of bin/python), found before anything is shown:
	 * no throwaway layer may lie in one, and each is shown read-only even
	 * inside a layer (what pip and every build run must be the host's). */
	char *interp[2];
};

/* How show_path shows a path. */
enum {
	SP_NAMED = 1,     /* pip's command line names it: a bad one ends the run (125) */
	SP_PROTECT = 2,   /* read-only even inside a throwaway layer (the interpreter, the
	                   * toolchains' programs): a build may write the layer, and what
	                   * it wrote there must never be run in place of the host's */
};

/* System trees: never below a throwaway layer, whoever owns them (a root
 * invoker owns /usr).  The host shows them read-only to every process. */
static const char *const system_trees[] = {
	"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot",
};

/* May real (a directory) be shown below a throwaway writable layer?  Not
 * when it lies in a system tree or in the environment's interpreter
 * installation: builds could then put a changed standard library or
 * program where pip and the other builds load theirs.  The decision rests
 * on paths resolved (realpath, as root) before the jail starts, not on
 * anything a package can change. */
static bool layer_ok(const struct show *s, const char *real)
{
	for (size_t i = 0; i < ARRAY_SIZE(system_trees); i++)
		if (path_is_under(real, system_trees[i]))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(s->interp); i++)
		if (s->interp[i] && path_is_under(real, s->interp[i]))
			return false;
	return true;
}

static bool exists(const char *path, struct stat *st)
{
	return stat(path, st) == 0;
}

/* path (absolute, or relative to base) made absolute and clean. */
static char *absolute(const char *base, const char *path)
{
	char out[PATH_MAX];

	if (path_clean_abs(out, sizeof(out), base, path) < 0)
		return NULL;
	return xstrdup(out);
}

/* A path pip's command line names, in a place where secrets are kept: the
 * run is refused before anything starts. */
static void refuse_secret(const struct show *s, const char *what, const char *path)
{
	char real[PATH_MAX];
	const char *place;

	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	if ((place = decoys_secret_place(s->cfg->user.home, real)) ||
	    (place = decoys_secret_place(s->cfg->user.home, path)))
		die("%s %s: %s is in %s, where secrets are kept: pipjail does not show it in the jail; "
		    "move the file out of there", what, path, real, place);
}

/* Show path (which exists) as `how` for `why`, unless the jail shows it
 * already in a way that serves. */
static void show_path(struct show *s, const char *why, const char *path, enum jail_show how,
		      int flags)
{
	char real[PATH_MAX], err[PATH_MAX + 256];
	const struct jail_bind *b;
	bool named = flags & SP_NAMED;
	struct stat st;

	if (!realpath(path, real) || !exists(real, &st))
		return;
	if (named)
		refuse_secret(s, why, path);
	/* what the user cannot reach is not shown (another user's home on
	 * root's PATH under sudo): the jail's processes run as the user */
	{
		autoclose int fd = open_as_user(&s->cfg->user, real, O_PATH | O_CLOEXEC, 0);

		if (fd < 0) {
			debugx(1, "not shown: %s (%s): %s", real, why, strerror(errno));
			return;
		}
	}
	if (how == SHOW_LAYER && !S_ISDIR(st.st_mode))
		how = SHOW_RO;
	if (how == SHOW_LAYER && !layer_ok(s, real)) {
		debugx(1, "%s (%s) lies in a system tree or the interpreter's installation: shown "
		       "read-only, not below a throwaway layer", real, why);
		how = SHOW_RO;
	}
	b = jail_config_shown(s->cfg, real);
	switch (how) {
	case SHOW_RO:
		/* shown already (read-only, or writable by the user's choice),
		 * or visible anyway; SP_PROTECT: a bind of its own over a
		 * throwaway layer that holds it */
		if (b ? !((flags & SP_PROTECT) && b->layer && strcmp(b->path, real)) :
			!jail_path_hidden(s->cfg, real))
			return;
		break;
	case SHOW_LAYER:
		if (b && (b->layer || (b->writable && !b->pip_only)))
			return;
		break;
	case SHOW_RW:
	case SHOW_PIP_OUTPUT:
		if (b && b->writable && (!b->pip_only || how == SHOW_PIP_OUTPUT) &&
		    (b->is_dir || !strcmp(b->path, real)))
			return;
		break;
	}
	if (jail_config_show(s->cfg, real, how, why, err, sizeof(err)) < 0) {
		if (named)
			die("%s %s: %s", why, path, err);
		debugx(1, "not shown: %s (%s): %s", real, why, err);
	}
}

/* ---- the current directory ---------------------------------------------------- */

static void show_cwd(struct show *s, bool write_cwd)
{
	/* These are fresh and empty in the jail; binding the host's would show
	 * every other user's temp files and sockets.  Start in the jail's own. */
	static const char *const jail_owned_dirs[] = { "/tmp", "/var/tmp", "/run", "/dev/shm", "/home" };
	struct jail_config *cfg = s->cfg;
	char err[PATH_MAX + 256];
	enum jail_show how = SHOW_RO;
	const char *why = "the current directory";

	for (size_t i = 0; i < ARRAY_SIZE(jail_owned_dirs); i++) {
		if (strcmp(s->cwd, jail_owned_dirs[i]) == 0) {
			if (write_cwd)
				die("--write-cwd: %s is the jail's own, fresh directory; run pipjail from a "
				    "project directory", s->cwd);
			return;
		}
	}
	/* The home directory (or an ancestor of it) would bring the real
	 * secrets back into view: start in the jail's decoy home instead. */
	if (path_is_under(cfg->user.home, s->cwd)) {
		if (write_cwd)
			die("--write-cwd: the current directory %s holds your home directory; "
			    "run pipjail from a project directory", s->cwd);
		if (strcmp(s->cwd, "/") != 0)
			warnx_("the current directory %s holds your home directory: it is not shown in "
			       "the jail, the command starts in the jail's home", s->cwd);
		free(cfg->cwd);
		cfg->cwd = xstrdup(cfg->user.home);
		return;
	}
	if (write_cwd) {
		jail_config_bind(cfg, "--write-cwd", s->cwd, true);
		return;
	}
	if (s->opt->is_pip && s->command && !s->output_given &&
	    (!strcmp(s->command, "wheel") || !strcmp(s->command, "download"))) {
		/* pip's output directory: what pip writes there must reach the
		 * host; builds too when they build a tree of it in place */
		how = s->tree_in_cwd ? SHOW_RW : SHOW_PIP_OUTPUT;
		why = "the current directory: pip's output directory";
	} else if (s->opt->is_pip) {
		how = layer_ok(s, s->cwd) ? SHOW_LAYER : SHOW_RO;
	}
	if (jail_config_show(cfg, s->cwd, how, why, err, sizeof(err)) < 0)
		die("the current directory: %s", err);
}

/* ---- what pip's command line names -------------------------------------------- */

/* A requirement (a line of pip's, or of a requirements file): a local
 * source tree (below a layer: pip builds it in place) or an archive. */
static void requirement(struct show *s, const char *why, const char *req)
{
	autofree char *path = pip_requirement_path(req);
	autofree char *abs = path ? absolute(s->cwd, path) : NULL;

	if (abs)
		show_path(s, why, abs, SHOW_LAYER, SP_NAMED);
}

/* The requirements and constraints files and what they name. */
static int on_req_file(void *ctx, const char *file, bool constraint)
{
	struct show *s = ctx;

	show_path(s, constraint ? "a constraints file" : "a requirements file", file, SHOW_RO,
		  SP_NAMED);
	return 0;
}

static int on_req_line(void *ctx, const struct pip_req_line *l)
{
	struct show *s = ctx;

	if (l->requirement)
		requirement(s, l->editable ? "an editable requirement" : "a requirement",
			    l->requirement);
	return 0;
}

static int open_user(const char *path, void *ctx)
{
	struct show *s = ctx;

	return open_as_user(&s->cfg->user, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
}

/* A find-links location: each word of value (a list in a variable or a
 * pip.conf); a relative one against the requirements file that names it
 * (where is "FILE:LINE -f"), else the current directory. */
static int on_index_setting(void *ctx, const struct pip_index_setting *set)
{
	struct show *s = ctx;
	autofree char *copy = NULL;
	char *save = NULL;

	if (set->opt != PIP_OPT_FIND_LINKS || !set->value)
		return 0;
	copy = xstrdup(set->value);
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		autofree char *path = !strncasecmp(w, "file:", 5) ? pip_file_url_path(w) :
				      strstr(w, "://") ? NULL : xstrdup(w);
		autofree char *abs = NULL;
		struct stat st;

		if (!path)
			continue;
		/* "FILE:LINE -f": a requirements file's line (pip.conf's say
		 * "FILE:LINE [section] key", relative to the current directory) */
		if (path[0] != '/' && set->where[0] == '/' && strchr(set->where, ':') &&
		    !strstr(set->where, " [")) {
			autofree char *dir = xasprintf("%.*s", (int)strcspn(set->where, ":"), set->where);
			char *slash = strrchr(dir, '/');

			*slash = '\0';
			abs = absolute(dir[0] ? dir : "/", path);
			if (abs && !exists(abs, &st)) {
				free(abs);
				abs = NULL;
			}
		}
		if (!abs)
			abs = absolute(s->cwd, path);
		if (abs)
			show_path(s, "--find-links", abs, SHOW_RO, SP_NAMED);
	}
	return 0;
}

/* A directory pip writes its products into: created (as the user) when it
 * is missing, as pip would, so that it can be shown. */
static void output_dir(struct show *s, const char *why, const char *value)
{
	autofree char *abs = absolute(s->cwd, value);
	struct stat st;

	if (!abs)
		return;
	refuse_secret(s, why, abs);
	if (!exists(abs, &st)) {
		/* each missing directory from the nearest existing one down */
		for (char *p = strchr(abs + 1, '/');; p = strchr(p + 1, '/')) {
			if (p)
				*p = '\0';
			if (!exists(abs, &st) && mkdir_as_user(&s->cfg->user, abs, 0777) < 0)
				die_errno("%s %s: creating %s", why, value, abs);
			if (!p)
				break;
			*p = '/';
		}
	}
	show_path(s, why, abs, SHOW_PIP_OUTPUT, SP_NAMED);
}

/* A file pip writes (--report, --log): created empty (as the user) when it
 * is missing, so that it can be shown. */
static void output_file(struct show *s, const char *why, const char *value)
{
	autofree char *abs = absolute(s->cwd, value);
	struct stat st;

	if (!abs || !strcmp(value, "-"))
		return;
	refuse_secret(s, why, abs);
	if (!exists(abs, &st)) {
		autoclose int fd = open_as_user(&s->cfg->user, abs, O_WRONLY | O_CREAT | O_CLOEXEC |
						O_NOFOLLOW, 0666);

		if (fd < 0)
			return;   /* pip says why */
	}
	show_path(s, why, abs, SHOW_PIP_OUTPUT, SP_NAMED);
}

static bool is_option(const struct pip_arg *a, const char *name)
{
	size_t n = strlen(a->name);

	/* optparse takes a unique abbreviation: "--rep" is --report */
	return n > 3 && !strncmp(a->name, name, n);
}

/* pip's command, its output directory, and whether a local tree it builds
 * lies in the current directory: first, as the current directory's way
 * of being shown depends on them. */
static void scan_command(struct show *s, const char *const *argv)
{
	size_t start = pip_argv_start(argv);
	struct pip_args it;
	struct pip_arg a;

	pip_args_init(&it, start ? argv + start : NULL, false);
	while (pip_args_next(&it, &a)) {
		autofree char *path = NULL, *abs = NULL;

		if (a.kind == PIP_ARG_OPTION && a.opt == PIP_OPT_OUTPUT_DIR && a.value)
			s->output_given = true;
		if (a.kind == PIP_ARG_REQUIREMENT || (a.opt == PIP_OPT_EDITABLE && a.value))
			path = pip_requirement_path(a.value);
		if (path && (abs = absolute(s->cwd, path)) && path_is_under(abs, s->cwd))
			s->tree_in_cwd = true;
	}
	s->command = it.command;
}

static void show_pip_paths(struct show *s, const char *const *argv)
{
	struct jail_config *cfg = s->cfg;
	struct pip_req_reader reader = {
		.open_file = open_user, .open_ctx = s, .envp = cfg->env,
		.on_file = on_req_file, .on_line = on_req_line, .ctx = s,
	};
	/* pip in the jail reads no pip.conf of the home (the decoy home has
	 * none): only the system's, $PIP_CONFIG_FILE's and the environment's */
	struct pip_config_src src = {
		.argv = cfg->argv, .envp = cfg->env, .home = NULL, .cwd = s->cwd,
		.open_file = open_user, .ctx = s,
	};
	size_t start = pip_argv_start(argv);
	struct pip_args it;
	struct pip_arg a;

	pip_args_init(&it, start ? argv + start : NULL, false);
	while (pip_args_next(&it, &a)) {
		if (a.kind == PIP_ARG_REQUIREMENT) {
			requirement(s, "a requirement", a.value);
			continue;
		}
		if (a.kind != PIP_ARG_OPTION || !a.value)
			continue;
		if (a.opt == PIP_OPT_REQUIREMENT || a.opt == PIP_OPT_CONSTRAINT) {
			autofree char *path = !strncasecmp(a.value, "file:", 5) ?
					      pip_file_url_path(a.value) : xstrdup(a.value);

			if (path)
				pip_requirements_read(&reader, path, s->cwd,
						      a.opt == PIP_OPT_CONSTRAINT);
		} else if (a.opt == PIP_OPT_EDITABLE) {
			requirement(s, "-e", a.value);
		} else if (a.opt == PIP_OPT_OUTPUT_DIR) {
			output_dir(s, a.name, a.value);
		} else if (is_option(&a, "--report") || is_option(&a, "--log") ||
			   is_option(&a, "--log-file")) {
			output_file(s, a.name, a.value);
		}
	}
	pip_requirements_done(&reader);
	if (s->command && !s->output_given &&
	    (!strcmp(s->command, "wheel") || !strcmp(s->command, "download")))
		debugx(1, "pip's output directory: the current directory %s", s->cwd);
	pip_index_settings(&src, on_index_setting, s);
}

/* ---- the interpreter and the toolchains ---------------------------------------- */

/* The installation an interpreter belongs to: PREFIX of PREFIX/bin/x. */
static char *prefix_of(const char *bin_file)
{
	autofree char *dir = xstrdup(bin_file);
	char *slash = strrchr(dir, '/');

	if (!slash)
		return NULL;
	*slash = '\0';
	slash = strrchr(dir, '/');
	if (!slash || strcmp(slash, "/bin") != 0)
		return NULL;
	*slash = '\0';
	return xstrdup(dir[0] ? dir : "/");
}

/* pyvenv.cfg's `home = DIR` (the bin directory of the base interpreter). */
static char *venv_home(struct show *s, const char *env)
{
	autofree char *cfgfile = xasprintf("%s/pyvenv.cfg", env);
	size_t len = 0;
	autofree char *text = read_file_as_user(&s->cfg->user, cfgfile, 64 * 1024, &len);
	char *save = NULL;

	for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *k = line + strspn(line, " \t"), *eq = strchr(k, '='), *v, *end;

		if (!eq || strncmp(k, "home", 4) || (k[4] != ' ' && k[4] != '\t' && k[4] != '='))
			continue;
		v = eq + 1 + strspn(eq + 1, " \t");
		end = v + strlen(v);
		while (end > v && strchr(" \t\r", end[-1]))
			*--end = '\0';
		return v[0] == '/' ? xstrdup(v) : NULL;
	}
	return NULL;
}

/* The installations the target environment's interpreter comes from
 * (s->interp), resolved: first, as no throwaway layer may lie in them. */
static void find_interpreter(struct show *s)
{
	const char *env = s->opt->target_env;
	autofree char *home = NULL, *python = NULL, *home_prefix = NULL, *real_prefix = NULL;
	char real[PATH_MAX];
	size_t n = 0;

	if (!env)
		return;
	home = venv_home(s, env);
	if (home) {
		autofree char *fake = xasprintf("%s/python", home);

		home_prefix = prefix_of(fake);
	}
	python = xasprintf("%s/bin/python", env);
	if (realpath(python, real))
		real_prefix = prefix_of(real);
	for (int i = 0; i < 2; i++) {
		const char *p = i ? real_prefix : home_prefix;

		if (!p || !realpath(p, real) || !strcmp(real, "/") ||
		    (n && !strcmp(s->interp[0], real)))
			continue;
		s->interp[n++] = xstrdup(real);
	}
}

/* The interpreter's installations, read-only (a bind of their own inside
 * a throwaway layer, e.g. a Python built into the project directory). */
static void show_interpreter(struct show *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->interp); i++)
		if (s->interp[i])
			show_path(s, "the environment's interpreter", s->interp[i], SHOW_RO,
				  SP_PROTECT);
}

/* envp's value of name, "" counting as unset. */
static const char *env_value(char *const *envp, const char *name)
{
	const char *v = pip_env_get(envp, name);

	return v && v[0] == '/' ? v : NULL;
}

static void show_toolchains(struct show *s)
{
	struct jail_config *cfg = s->cfg;
	const char *path = pip_env_get(cfg->env, "PATH");
	const char *cargo_env = env_value(cfg->env, "CARGO_HOME");
	const char *rustup_env = env_value(cfg->env, "RUSTUP_HOME");
	autofree char *cargo = cargo_env ? absolute("/", cargo_env) :
			       xasprintf("%s/.cargo", cfg->user.home);
	autofree char *rustup = rustup_env ? absolute("/", rustup_env) :
				xasprintf("%s/.rustup", cfg->user.home);
	autofree char *copy = xstrdup(path ? path : "");
	autofree char *cargo_bin = xasprintf("%s/bin", cargo);
	bool rust = cargo_env || rustup_env;
	char *save = NULL;
	struct stat st;

	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		autofree char *abs = dir[0] == '/' ? absolute("/", dir) : NULL;

		const struct jail_bind *b;

		if (!abs || !exists(abs, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (path_is_under(abs, cargo_bin)) {
			rust = true;
			continue;
		}
		/* hidden in the jail, or inside a throwaway layer (a bin/ of
		 * the current directory): the host's programs, read-only */
		b = jail_config_shown(cfg, abs);
		if (!jail_path_hidden(cfg, abs) && !(b && b->layer))
			continue;
		show_path(s, "PATH", abs, SHOW_RO, SP_PROTECT);
	}
	if (!rust)
		return;
	/* rustup's proxies and cargo write locks and caches in both homes:
	 * shown below a throwaway layer; the programs in them (cargo's bin/,
	 * rustup's toolchains/) stay the host's, read-only binds over the
	 * layer, so that no build can change the compiler the next build, or
	 * pip's `rustc --version`, runs */
	if (exists(cargo, &st) && S_ISDIR(st.st_mode)) {
		show_path(s, cargo_env ? "CARGO_HOME" : "PATH (cargo's home)", cargo, SHOW_LAYER, 0);
		show_path(s, "cargo's programs", cargo_bin, SHOW_RO, SP_PROTECT);
	}
	if (exists(rustup, &st) && S_ISDIR(st.st_mode)) {
		autofree char *toolchains = xasprintf("%s/toolchains", rustup);

		show_path(s, rustup_env ? "RUSTUP_HOME" : "rustup's home", rustup, SHOW_LAYER, 0);
		show_path(s, "rustup's toolchains", toolchains, SHOW_RO, SP_PROTECT);
	}
}

void show_for_run(struct jail_config *cfg, const struct run_opts *opt, const char *real_cwd,
		  bool write_cwd)
{
	struct show s = { .cfg = cfg, .opt = opt, .cwd = real_cwd };
	const char *const *argv = (const char *const *)cfg->argv;

	find_interpreter(&s);
	if (opt->is_pip)
		scan_command(&s, argv);
	show_cwd(&s, write_cwd);
	if (opt->is_pip)
		show_pip_paths(&s, argv);
	show_interpreter(&s);
	show_toolchains(&s);
	jail_config_scan_decoys(cfg);
	if (cfg->decoys.n_dir || cfg->decoys.n_masked)
		debugx(1, "decoys: %zu secret-looking file(s) of the directories shown replaced",
		       cfg->decoys.n_dir + cfg->decoys.n_masked);
	for (size_t i = 0; i < ARRAY_SIZE(s.interp); i++)
		free(s.interp[i]);
}
