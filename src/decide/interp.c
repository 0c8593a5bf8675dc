/* Interpreters and the code they load.  One real tool needs an exception
 * to the decoy rule: Debian's meson reads ~/.netrc at every `meson setup`
 * (mesonbuild/wrap/wrap.py: Resolver.load_netrc(), run by project() in
 * the top meson.build, before anything else the build asks of it).  meson
 * is a Python script, and Python runs whatever its environment points it
 * at: PYTHONPATH (a sitecustomize.py), the user site's .pth files and
 * usercustomize.py (the jail's $HOME is writable), PYTHONSTARTUP,
 * LD_PRELOAD for the loader...  So the exception is not given to a name: it
 * holds for a process only while everything that ran in it is the
 * system's:
 *   - it exec'd /usr/bin/meson (the host's file, read-only in the jail: its
 *     #! line names /usr/bin/python3) and the kernel ran a /usr/bin/python3*
 *     interpreter for it;
 *   - its environment at that exec (the kernel's copy of it, taken before
 *     any of its code ran) sets no variable that makes the interpreter or
 *     the loader run code from elsewhere (interp_env_loads_code);
 *   - every code file it read since (.py, .pyc, .pth, .so, a zip...),
 *     and before the decoy, was reached by the kernel's own path walk
 *     under /usr or /etc (the host's read-only system).
 * What it reads after the decoy is not held against it: with a clean
 * environment and no user site, the only places a system Python looks for
 * code are read-only (sys.path[0] is /usr/bin), and meson copies project
 * files (a configure_file() of a .py) that are data to it.  A token that
 * leaves it later is caught where it leaves (an exec's argv or
 * environment, the network, the staged files).  Any other reader of
 * ~/.netrc (a build, a tool, meson from a build environment, whose code the
 * build can rewrite) is a violation as before; pip reads it for its
 * index's password. */
#include "decide/engine_priv.h"

#include <string.h>

#include "base/base.h"

/* Variables that change what Python or the dynamic loader runs, or where
 * they look for it.  Everything PYTHON* that is not known to be harmless
 * counts; so does every LD_* and GCONV_PATH (loader and iconv modules). */
bool interp_env_loads_code(const char *entry)
{
	static const char *const harmless[] = {
		"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONHASHSEED", "PYTHONIOENCODING",
		"PYTHONUTF8", "PYTHONNOUSERSITE", "PYTHONFAULTHANDLER", "PYTHONCOERCECLOCALE",
		"PYTHONOPTIMIZE", "PYTHONDEVMODE", "PYTHONMALLOC", "PYTHONMALLOCSTATS",
		"PYTHONTRACEMALLOC", "PYTHONVERBOSE", "PYTHONDEBUG", "PYTHONSAFEPATH",
		"PYTHONNODEBUGRANGES", "PYTHONINTMAXSTRDIGITS", "PYTHONWARNDEFAULTENCODING",
		"PYTHONLEGACYWINDOWSSTDIO",
	};
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);

	if (n >= 3 && !strncmp(entry, "LD_", 3))
		return true;
	if (n == 10 && !strncmp(entry, "GCONV_PATH", 10))
		return true;
	if (n < 6 || strncmp(entry, "PYTHON", 6))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(harmless); i++)
		if (strlen(harmless[i]) == n && !strncmp(entry, harmless[i], n))
			return false;
	return true;
}

/* A file an interpreter or the loader runs code from, by its name. */
static bool is_code_file(const char *path)
{
	static const char *const exts[] = { ".py", ".pyc", ".pyo", ".pyw", ".pyz", ".pth", ".so",
					    ".zip", ".egg", ".whl" };
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (strstr(path, "/__pycache__/") || strstr(base, ".so."))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t k = strlen(exts[i]);

		if (n > k && !strcmp(base + n - k, exts[i]))
			return true;
	}
	return false;
}

static bool is_system(const char *reached)
{
	return !strncmp(reached, "/usr/", 5) || !strncmp(reached, "/etc/", 5);
}

static void set_foreign(struct proc *pr, const char *why)
{
	if (pr->foreign)
		return;
	pr->foreign = true;
	free(pr->foreign_why);
	pr->foreign_why = xstrdup(why);
}

void interp_exec(struct proc *pr, const struct trace_event *ev)
{
	pr->foreign = false;
	free(pr->foreign_why);
	pr->foreign_why = NULL;
	if (!ev->env) {
		set_foreign(pr, "its environment is not known");
		return;
	}
	for (size_t i = 0; ev->env[i]; i++) {
		if (interp_env_loads_code(ev->env[i])) {
			const char *eq = strchr(ev->env[i], '=');
			autofree char *why = xasprintf("its environment sets %.*s", eq ? (int)(eq - ev->env[i]) : 64,
						       ev->env[i]);

			set_foreign(pr, why);
			return;
		}
	}
}

void interp_read(struct proc *pr, const struct trace_event *ev, const char *reached)
{
	const char *f = reached ? reached : ev->file ? ev->file : ev->abs;
	autofree char *why = NULL;

	if (!f || pr->foreign || (ev->has_ret && ev->ret < 0) || !is_code_file(f) ||
	    (reached && is_system(reached)))
		return;
	why = xasprintf("it loaded %s", f);
	set_foreign(pr, why);
}

static bool is_system_meson(const struct proc *pr)
{
	return pr->prog && (!strcmp(pr->prog, "/usr/bin/meson") || !strcmp(pr->prog, "/bin/meson")) &&
	       pr->exe && !strncmp(pr->exe, "/usr/bin/python3", 16);
}

bool interp_may_read_decoy(const char *where, const struct proc *pr, enum role role, bool is_read)
{
	if (strcmp(where, "~/.netrc") != 0)
		return false;
	/* pip itself (the kernel's trust made it ROLE_PIP), not the programs of
	 * a user's command that is not pip, which have pip's rules otherwise */
	if (role == ROLE_PIP && pr->info.role == ROLE_PIP && !pr->user_cmd)
		return true;
	return is_read && !pr->foreign && is_system_meson(pr);
}

const char *interp_why_not(const struct proc *pr, const char *where)
{
	if (strcmp(where, "~/.netrc") || !is_system_meson(pr))
		return NULL;
	return pr->foreign_why;
}
