/* pipjail: run pip (or any command) in a jail, trace what it does. */
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "cli.h"
#include "commands.h"
#include "jail.h"
#include "util.h"

/* Root, or the file capabilities `make install` grants (scripts/setcap.sh).
 * Those are permitted-only (+p): a file with the effective bit would not
 * even start on a host whose bounding set lacks one of them.  So raise
 * into the effective set what was permitted, and check for CAP_SYS_ADMIN. */
static bool privileged(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (!caps)
		return false;
	for (cap_value_t c = 0; cap_valid(c); c++) {
		cap_flag_value_t p = CAP_CLEAR;

		cap_get_flag(caps, c, CAP_PERMITTED, &p);
		if (p == CAP_SET)
			cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET);
	}
	cap_set_proc(caps);
	cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v);
	cap_free(caps);
	return v == CAP_SET;
}

int main(int argc, char **argv, char **envp)
{
	struct jail_config cfg = { 0 };
	int code;

	if (argc > 1 && strcmp(argv[1], "doctor") == 0)
		return cmd_doctor(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "trace-check") == 0) {
		commands_drop_privileges(); /* it reads a file the user names */
		return cmd_trace_check(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "profile") == 0)
		return cmd_profile(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "recover") == 0) {
		if (!privileged())
			die("pipjail recover needs root: it moves files in your environment that a "
			    "pipjail run staged as root");
		return cmd_recover(argc - 1, argv + 1);
	}

	if (argc > 1 && strcmp(argv[1], "analyze") == 0) {
		if (!privileged())
			die("pipjail analyze needs root to build the jail: run it with sudo");
		return cmd_analyze(argc - 1, argv + 1);
	}

	cli_parse_run(argc, argv, envp, &cfg);
	if (!privileged())
		die("pipjail needs root to build the jail: run it with sudo, or install it with "
		    "'make install', which gives it the capabilities it needs");
	code = jail_run(&cfg);
	jail_config_free(&cfg);
	return code;
}
