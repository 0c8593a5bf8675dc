#ifndef PIPJAIL_CLI_H
#define PIPJAIL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "jail.h"

/* Parse "pipjail [OPTIONS] [--] COMMAND [ARG...]" into cfg.  Bad input
 * prints one line naming what was wrong and exits 125. */
void cli_parse_run(int argc, char **argv, char **envp, struct jail_config *cfg);
void cli_usage(FILE *out);
void jail_config_free(struct jail_config *cfg);

/* The pieces of cli_parse_run that src/analyze.c shares: the defaults and
 * the invoking user; a --ro/--rw bind (checked the same way); a fresh
 * hostname and machine id. */
void cli_config_base(struct jail_config *cfg);
void cli_config_bind(struct jail_config *cfg, const char *opt, const char *path, bool writable);
void cli_config_identity(struct jail_config *cfg);

#endif
