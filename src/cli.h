#ifndef PIPJAIL_CLI_H
#define PIPJAIL_CLI_H

#include "jail.h"

/* Parse "pipjail [OPTIONS] [--] COMMAND [ARG...]" into cfg.  Bad input
 * prints one line naming what was wrong and exits 125. */
void cli_parse_run(int argc, char **argv, char **envp, struct jail_config *cfg);
void cli_usage(FILE *out);

#endif
