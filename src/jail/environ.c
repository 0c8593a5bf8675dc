#include "jail/environ.h"

#include <string.h>

#include "base/base.h"

/* Variables a build legitimately reads.  Everything else (tokens, cloud
 * credentials, SSH agent sockets, CI secrets) stays outside. */
static const char *const allowed_names[] = {
	"PATH", "LANG", "LANGUAGE", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR",
	"COLUMNS", "LINES", "TZ", "SOURCE_DATE_EPOCH", "VIRTUAL_ENV", "PYTHONHASHSEED",
	"PYTHONDONTWRITEBYTECODE", "PYTHONUTF8", "PYTHONIOENCODING",
	"CC", "CXX", "CPP", "LD", "AR", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS",
	"MAKEFLAGS", "PKG_CONFIG_PATH", "CMAKE_GENERATOR", "SETUPTOOLS_SCM_PRETEND_VERSION",
	/* where rustup and cargo keep their toolchains and caches (src/cmd/show.c
	 * shows them below a throwaway layer) */
	"CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN",
};
static const char *const allowed_prefixes[] = { "LC_", "PIP_" };
/* Set by pipjail itself; an inherited value is dropped. */
static const char *const jail_owned[] = { "HOME", "USER", "LOGNAME", "TMPDIR" };

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

static size_t name_len(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq ? (size_t)(eq - s) : strlen(s);
}

bool env_allowed(const char *name, const char *const *keep, size_t n_keep)
{
	size_t len = name_len(name);

	for (size_t i = 0; i < ARRAY_SIZE(jail_owned); i++)
		if (name_is(name, len, jail_owned[i]))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(allowed_names); i++)
		if (name_is(name, len, allowed_names[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(allowed_prefixes); i++)
		if (strncmp(name, allowed_prefixes[i], strlen(allowed_prefixes[i])) == 0)
			return true;
	for (size_t i = 0; i < n_keep; i++)
		if (name_is(name, len, keep[i]))
			return true;
	return false;
}

static void env_push(char ***env, size_t *n, char *entry)
{
	size_t len = name_len(entry);

	/* A later value replaces an earlier one of the same name. */
	for (size_t i = 0; i < *n; i++) {
		if (name_len((*env)[i]) == len && strncmp((*env)[i], entry, len) == 0) {
			free((*env)[i]);
			(*env)[i] = entry;
			return;
		}
	}
	*env = xrealloc(*env, (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = entry;
	(*env)[*n] = NULL;
}

char **env_build(char *const *envp, const char *const *keep, size_t n_keep,
		 const char *const *set, size_t n_set, const char *home, const char *user,
		 size_t *n)
{
	char **env = xcalloc(1, sizeof(char *));

	*n = 0;
	for (size_t i = 0; envp && envp[i]; i++)
		if (strchr(envp[i], '=') && env_allowed(envp[i], keep, n_keep))
			env_push(&env, n, xstrdup(envp[i]));
	env_push(&env, n, xasprintf("HOME=%s", home));
	env_push(&env, n, xasprintf("USER=%s", user));
	env_push(&env, n, xasprintf("LOGNAME=%s", user));
	env_push(&env, n, xstrdup("TMPDIR=/tmp"));
	for (size_t i = 0; i < n_set; i++)
		env_push(&env, n, xstrdup(set[i]));
	/* Without PATH, execvp would fall back to a libc default: say it here. */
	for (size_t i = 0; i < *n; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			return env;
	env_push(&env, n, xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	return env;
}
