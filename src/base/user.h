/* The invoking user, and doing things with their rights, never pipjail's:
 * pipjail may run as root or with file capabilities, and a path the user
 * names (a trace, a report, a profile, a directory to stage in) must not
 * reach what the user could not reach.  Each *_as_user step runs in a
 * short-lived child that has taken the user's identity and dropped every
 * capability, so permission checks, symlinks and all happen exactly as for
 * the user.  Runs on the supervisor's side, before or after the jail. */
#ifndef PIPJAIL_BASE_USER_H
#define PIPJAIL_BASE_USER_H

#include <stdbool.h>
#include <sys/types.h>

/* The user the command runs as: the invoker (SUDO_UID when root ran sudo). */
struct jail_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
	char *name;
	char *home;                      /* from the password database */
};

/* The invoker: the real uid; when root ran pipjail through sudo, the sudo
 * user.  Dies with a message when the user has no passwd entry. */
void user_find_invoker(struct jail_user *u);
void user_free(struct jail_user *u);

/* Take u's identity (groups, gid, uid) and drop every capability, in the
 * calling process: for a child that is about to act for the user.
 * 0, or -1 with errno. */
int user_become(const struct jail_user *u);

/* Nothing to become: root acting for root, or a process that already is u
 * and holds no capability (a plain user's pipjail, or one that gave its
 * file capabilities up).  The *_as_user calls then act directly. */
bool user_is_self(const struct jail_user *u);

/* open(2) as the user.  Returns an fd or -1 with errno set. */
int open_as_user(const struct jail_user *u, const char *path, int flags, mode_t mode);
/* mkdir(2) as the user.  0 or -1 with errno. */
int mkdir_as_user(const struct jail_user *u, const char *path, mode_t mode);
/* Run argv as the user with env, in cwd (NULL: here), stdout to /dev/null
 * when quiet; its exit status (128+N when killed by signal N), or -1. */
int run_as_user(const struct jail_user *u, char *const *argv, char *const *env, bool quiet,
		const char *cwd);

/* fn(ctx) in a child that took the user's rights (directly when
 * user_is_self); fn returns 0 or an errno value, and so does this (the
 * value is cut to 8 bits on the way back). */
int call_as_user(const struct jail_user *u, int (*fn)(void *ctx), void *ctx);
/* A whole file, read with the user's rights, NUL-terminated, at most max
 * bytes (more is cut); NULL (errno) when it cannot be opened. */
char *read_file_as_user(const struct jail_user *u, const char *path, size_t max, size_t *len);

#endif
