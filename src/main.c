/* pipjail: run pip (or any command) in a jail, trace what it does. */
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "cli.h"
#include "commands.h"
#include "jail.h"
#include "util.h"

/* Root, or the file capabilities `make install` grants (scripts/setcap.sh). */
static bool privileged(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (caps) {
		cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	return v == CAP_SET;
}

int main(int argc, char **argv, char **envp)
{
	struct jail_config cfg = { 0 };

	if (argc > 1 && strcmp(argv[1], "doctor") == 0)
		return cmd_doctor(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "trace-check") == 0)
		return cmd_trace_check(argc - 1, argv + 1);

	cli_parse_run(argc, argv, envp, &cfg);
	if (!privileged())
		die("pipjail needs root to build the jail: run it with sudo, or install it with "
		    "'make install', which gives it the capabilities it needs");
	return jail_run(&cfg);
}
