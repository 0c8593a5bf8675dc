/* What a run of `pipjail [OPTIONS] COMMAND` shows in the jail besides what
 * the user named with --ro/--rw (src/cmd/show.c), decided on the
 * supervisor's side from the command line and the host's files, read with
 * the user's rights; mounted by the jail's init (src/jail/mounts.c). */
#ifndef PIPJAIL_CMD_SHOW_H
#define PIPJAIL_CMD_SHOW_H

#include <stdbool.h>

#include "jail/jail.h"
#include "run/run.h"

/* The current directory, the paths pip's command line and configuration
 * name, the target environment's interpreter installation, the toolchains
 * PATH, CARGO_HOME and RUSTUP_HOME point into, then the decoys over the
 * secret-looking files of every directory shown.  cfg->env is built
 * already; real_cwd is the invoker's directory on the host.  Dies (125)
 * on a path pip's command line names in a place where secrets are kept. */
void show_for_run(struct jail_config *cfg, const struct run_opts *opt, const char *real_cwd,
		  bool write_cwd);

#endif
