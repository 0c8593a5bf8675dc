/* The jail's environment: the invoker's, scrubbed to an allowlist. */
#ifndef PIPJAIL_ENVIRON_H
#define PIPJAIL_ENVIRON_H

#include <stdbool.h>
#include <stddef.h>

/* Is NAME (without "=value") passed into the jail by default? */
bool env_allowed(const char *name, const char *const *keep, size_t n_keep);

/* Build the jail's environment from envp: allowed variables, then HOME,
 * USER, LOGNAME, TMPDIR set for the jail, then the --setenv values.
 * Returns a NULL-terminated vector; *n gets its length. */
char **env_build(char *const *envp, const char *const *keep, size_t n_keep,
		 const char *const *set, size_t n_set, const char *home, const char *user,
		 size_t *n);

#endif
