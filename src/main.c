/* pipjail: run pip (or any command) in a jail, trace what it does.  main
 * only picks the subcommand (src/cmd/). */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cmd/cmd.h"

int main(int argc, char **argv, char **envp)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "doctor") == 0)
		return cmd_doctor(argc - 1, argv + 1);
	if (strcmp(sub, "trace-check") == 0) {
		cmd_drop_privileges(); /* it reads a file the user names */
		return cmd_trace_check(argc - 1, argv + 1);
	}
	if (strcmp(sub, "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(sub, "profile") == 0)
		return cmd_profile(argc - 1, argv + 1);
	if (strcmp(sub, "recover") == 0) {
		if (!cmd_privileged())
			die("pipjail recover needs root: it moves files in your environment that a "
			    "pipjail run staged as root");
		return cmd_recover(argc - 1, argv + 1);
	}
	if (strcmp(sub, "analyze") == 0) /* checks its privileges itself (--merge needs none) */
		return cmd_analyze(argc - 1, argv + 1);
	return cmd_run(argc, argv, envp);
}
