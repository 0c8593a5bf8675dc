/* `pipjail trace-check FILE`: validate a trace and print its summary. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "observe/monitor.h"
#include "base/base.h"


int cmd_trace_check(int argc, char **argv)
{
	char err[512];

	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: pipjail trace-check FILE\n"
			"Check that FILE is a complete pipjail trace (JSON Lines: header, events, summary)\n"
			"and print its summary.  Exit status 0 when valid, %d otherwise.\n",
			EXIT_PIPJAIL_ERROR);
		return argc == 2 ? 0 : EXIT_PIPJAIL_ERROR;
	}
	if (trace_check_file(argv[1], stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "pipjail: trace-check: %s: %s\n", argv[1], err);
		return EXIT_PIPJAIL_ERROR;
	}
	return 0;
}
