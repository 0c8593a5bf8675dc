/* Which environment pip installs into, and where its cache is: read from
 * the command line and the files of the host, on the supervisor's side
 * before the jail exists. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pip/pip.h"

/* The environment pip will install into: a venv whose bin/ holds the
 * command, or $VIRTUAL_ENV.  It is writable in the jail (until staging
 * lands, see DESIGN.md). */
static char *venv_of_dir(const char *bindir)
{
	autofree char *cfgfile = NULL;
	char *root = xstrdup(bindir);
	char *slash = strrchr(root, '/');

	if (!slash || strcmp(slash, "/bin") != 0) {
		free(root);
		return NULL;
	}
	*slash = '\0';
	cfgfile = xasprintf("%s/pyvenv.cfg", root);
	if (root[0] == '\0' || access(cfgfile, F_OK) < 0) {
		free(root);
		return NULL;
	}
	return root;
}

static char *find_in_path(const char *cmd, const char *path)
{
	autofree char *copy = xstrdup(path ? path : "/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", *dir ? dir : ".", cmd);

		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

/* The venv of the directory holding path ("/v/bin/pip" -> "/v"), or NULL. */
static char *venv_of_program(const char *path)
{
	autofree char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	char real[PATH_MAX];

	if (!slash || slash == dir)
		return NULL;
	*slash = '\0';
	return realpath(dir, real) ? venv_of_dir(real) : NULL;
}

/* The interpreter a script's #! line names (absolute), into line; false:
 * none. */
static bool shebang_of(const char *script, char *line, size_t len)
{
	FILE *f = fopen(script, "re");
	char *end;

	if (!f)
		return false;
	if (!fgets(line, (int)len, f) || strncmp(line, "#!", 2) != 0) {
		fclose(f);
		return false;
	}
	fclose(f);
	end = line + 2 + strcspn(line + 2, " \t\n");
	*end = '\0';
	memmove(line, line + 2, strlen(line + 2) + 1);
	return line[0] == '/';
}

/* pip installs into the environment of the interpreter that runs it: for a
 * script (bin/pip), the one its #! line names, which is not always the
 * venv the script sits in (a copied venv keeps the old #!). */
static char *venv_of_interpreter(const char *script)
{
	char line[PATH_MAX + 3];

	return shebang_of(script, line, sizeof(line)) ? venv_of_program(line) : NULL;
}

char *pip_env_of_command(const char *cmd)
{
	autofree char *exe = strchr(cmd, '/') ? xstrdup(cmd) : find_in_path(cmd, getenv("PATH"));
	char *venv = NULL;
	const char *ve;

	if (exe) {
		venv = venv_of_interpreter(exe);
		if (!venv)
			venv = venv_of_program(exe);
	}
	ve = getenv("VIRTUAL_ENV");
	if (!venv && ve && *ve) {
		autofree char *bin = xasprintf("%s/bin", ve);
		char real[PATH_MAX];

		if (realpath(bin, real))
			venv = venv_of_dir(real);
	}
	return venv;
}

/* The interpreter that runs cmd: cmd itself when it is a python, else
 * the one its #! line names; resolved (realpath), or NULL. */
char *pip_interpreter_of_command(const char *cmd)
{
	autofree char *exe = strchr(cmd, '/') ? xstrdup(cmd) : find_in_path(cmd, getenv("PATH"));
	char line[PATH_MAX + 3], real[PATH_MAX];
	const char *base;

	if (!exe)
		return NULL;
	base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	if (!strncmp(base, "python", 6))
		return realpath(exe, real) ? xstrdup(real) : NULL;
	return shebang_of(exe, line, sizeof(line)) && realpath(line, real) ? xstrdup(real) : NULL;
}

/* The user's pip cache, when there is one the user owns.  Taken from the
 * password database's home, never from PIP_CACHE_DIR: pipjail's init opens
 * it as root, and a variable could name someone else's directory. */
char *pip_cache_dir(const struct jail_user *u)
{
	char *path = xasprintf("%s/.cache/pip", u->home);
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == u->uid)
		return path;
	free(path);
	return NULL;
}

/* pip's own --target/-t, --prefix, --root and --user name where it
 * installs; they win over the venv of the interpreter. */
char *pip_target_option(const char *const *argv, const char *home)
{
	size_t start = pip_argv_start(argv);
	struct pip_args it;
	struct pip_arg a;

	pip_args_init(&it, start ? argv + start : NULL, false);
	while (pip_args_next(&it, &a)) {
		if (a.opt == PIP_OPT_USER)
			return xasprintf("%s/.local", home);
		if (a.opt != PIP_OPT_TARGET && a.opt != PIP_OPT_PREFIX && a.opt != PIP_OPT_ROOT)
			continue;
		if (!a.value)
			return NULL;    /* pip says the value is missing */
		if (access(a.value, F_OK) < 0)
			die("%s %s: the directory does not exist; create it first so that "
			    "pipjail can stage the install into it", a.name, a.value);
		return xstrdup(a.value);
	}
	return NULL;
}
