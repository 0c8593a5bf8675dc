/* Baselines: findings a team has reviewed and accepts, so that pipjail can
 * be adopted on an existing project and fail only on new findings
 * (--baseline FILE, --write-baseline FILE; docs/ci.md).
 *
 * A finding is keyed by (package, rule, evidence hash): the package's name
 * normalised as PEP 503 says ("" for pip itself), the rule id, and the
 * SHA-256 of the evidence after normalisation, which removes what changes
 * from run to run (decoy token values, temp directory suffixes, pids) and
 * what changes from machine to machine (the home, project and venv paths).
 * The version is written for readers but not matched: a baseline survives
 * an upgrade that does the same thing. */
#ifndef PIPJAIL_BASELINE_H
#define PIPJAIL_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "decide/engine.h"

#define BASELINE_FORMAT         "pipjail-baseline"
#define BASELINE_FORMAT_VERSION 1
#define BASELINE_MAX_BYTES      (8u << 20)

/* What normalisation replaces (any field may be NULL/0). */
struct baseline_env {
	const char *home, *cwd, *venv;    /* -> $HOME, $CWD, $ENV */
	const char *const *tokens;        /* decoy values -> <decoy WHERE> */
	const char *const *wheres;        /* where each token is ("$GITHUB_TOKEN") */
	size_t n_tokens;
};

/* The evidence as a baseline compares it (malloc'd):
 *   1. each decoy token value        -> "<decoy WHERE>"
 *   2. the venv, project and home paths, where a path starts
 *                                    -> "$ENV", "$CWD", "$HOME" (longest first)
 *   3. in each path component: pip's temp dirs "pip-<kind>-XXXXXXXX" ->
 *      "pip-<kind>-*", Python's "tmpXXXXXXXX" -> "tmp*", pip's source trees
 *      "<name>_<32 hex>" -> "<name>_*"
 *   4. "/proc/<digits>" -> "/proc/<pid>", "pid <digits>" -> "pid <pid>" */
char *baseline_normalize(const char *evidence, const struct baseline_env *env);

/* The same with the run's values: the engine's decoys, the profile's
 * HOME, CWD and ENV. */
char *baseline_normalize_for(const struct engine *e, const char *evidence);

/* The key of one finding. */
struct baseline_key {
	char *package;            /* PEP 503 name, "" for pip */
	char *evidence;           /* normalised */
	char hash[65];            /* SHA-256 of evidence, lowercase hex */
};
void baseline_key_of(const struct engine *e, const struct violation_record *v,
		     struct baseline_key *k);
void baseline_key_free(struct baseline_key *k);

struct baseline;

/* Parse a baseline file's text; NULL and one line in err (naming name). */
struct baseline *baseline_parse(const char *text, size_t len, const char *name, char *err,
				size_t errlen);
/* Read it from fd (opened by the caller with the user's rights). */
struct baseline *baseline_read_fd(int fd, const char *name, char *err, size_t errlen);
void baseline_free(struct baseline *b);
size_t baseline_size(const struct baseline *b);

/* Does the baseline accept any finding of this rule? */
bool baseline_has_rule(const struct baseline *b, const char *rule);

/* engine_baseline_fn: ctx is the struct baseline. */
bool baseline_match(const struct engine *e, const struct violation_record *v, void *ctx);

/* Write every finding of the run (baselined or not) as a baseline to fd,
 * from its start (truncated first).  Sorted, one entry per key, no times:
 * the same run writes the same file.  0, or -1 with errno. */
int baseline_write_fd(const struct engine *e, int fd);

#endif
