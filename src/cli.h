#ifndef PIPJAIL_CLI_H
#define PIPJAIL_CLI_H

#include <stdio.h>

#include "jail.h"

/* Parse "pipjail [OPTIONS] [--] COMMAND [ARG...]" into cfg.  Bad input
 * prints one line naming what was wrong and exits 125. */
void cli_parse_run(int argc, char **argv, char **envp, struct jail_config *cfg);
void cli_usage(FILE *out);
void jail_config_free(struct jail_config *cfg);

#endif
