/* The door of src/pip/: everything pipjail knows about pip.  Include this,
 * not the headers below it. */
#ifndef PIPJAIL_PIP_H
#define PIPJAIL_PIP_H

#include <stdbool.h>

#include "base/base.h"
#include "pip/record.h"

/* command.c: pip, pip3, pip3.11, or python -m pip (as the user typed it). */
bool pip_command_is_pip(char *const *argv);

/* env.c: the environment pip installs into when run as cmd (a path, or a
 * name looked up in $PATH): the venv of the interpreter its #! line names,
 * else the venv its directory belongs to, else $VIRTUAL_ENV; NULL: none.
 * malloc'd. */
char *pip_env_of_command(const char *cmd);
/* pip's own --target/-t, --prefix, --root and --user (home/.local) name
 * where it installs; they win over the venv.  NULL: none given.  Dies when
 * a named directory does not exist. */
char *pip_target_option(char *const *argv, const char *home);
/* The user's pip cache (~/.cache/pip of the password database's home, when
 * the user owns it), or NULL.  Never from PIP_CACHE_DIR: pipjail's init
 * opens it as root, and a variable could name someone else's directory. */
char *pip_cache_dir(const struct jail_user *u);

#endif
