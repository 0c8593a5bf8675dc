#ifndef PIPJAIL_USEROPEN_H
#define PIPJAIL_USEROPEN_H

#include "jail.h"

/* open(2) with the invoking user's rights, never pipjail's: pipjail may run
 * as root or with file capabilities, and a path the user names (a trace, a
 * report, a profile) must not reach files the user could not open.  Returns
 * an fd or -1 with errno set. */
int open_as_user(const struct jail_user *u, const char *path, int flags, mode_t mode);

#endif
