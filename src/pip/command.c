/* Is an exec pip?  The one rule (pip.h), in user space: cmd/ asks it of the
 * jailed command (pip gets its index through the proxy), decide/ of every
 * exec (a process stays pip only when it runs pip again).  The kernel's
 * copy is pj_argv_is_pip in bpf/monitor.bpf.c; both run the cases of
 * tests/unit/pip/is_pip_cases.txt. */
#include <string.h>

#include "pip/pip.h"

static const char *base_of(const char *word)
{
	const char *slash = strrchr(word, '/');

	return slash ? slash + 1 : word;
}

bool pip_name_is_pip(const char *word)
{
	const char *b = base_of(word);
	size_t n = strlen(b);

	if (n < 3 || strncmp(b, "pip", 3) != 0 || n > 3 + PIP_NAME_MAX_SUFFIX)
		return false;
	for (size_t i = 3; i < n; i++)
		if (b[i] != '.' && (b[i] < '0' || b[i] > '9'))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

bool pip_argv_is_pip(const char *const *argv)
{
	size_t seen = 0, used = 0;

	/* The arguments whose NUL lies within the kernel's window. */
	while (argv && argv[seen] && seen < 3) {
		used += strlen(argv[seen]) + 1;
		if (used > PIP_ARGV_SCAN)
			break;
		seen++;
	}
	if (seen < 1)
		return false;
	if (pip_name_is_pip(argv[0]))
		return true;
	if (seen < 2)
		return false;
	if (pip_name_is_pip(argv[1]) || ends_with(argv[1], "__pip-runner__.py"))
		return true;
	return seen >= 3 && !strcmp(argv[1], "-m") && !strcmp(argv[2], "pip");
}

size_t pip_argv_start(const char *const *argv)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		if (pip_name_is_pip(argv[i]) || ends_with(argv[i], "__pip-runner__.py"))
			return i + 1;
		if (!strcmp(argv[i], "-m") && argv[i + 1] && !strcmp(argv[i + 1], "pip"))
			return i + 2;
	}
	return 0;
}
