/* The door of src/run/: one run of a command in the jail.  The caller (a
 * subcommand of src/cmd/) fills a struct jail_config (what crosses into the
 * jail) and a struct run_opts (what the supervisor alone uses), then calls
 * jail_run().  Everything between the clone and the verdict is inside:
 * src/run/internal.h. */
#ifndef PIPJAIL_RUN_H
#define PIPJAIL_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "jail/jail.h"

struct run_opts {
	bool is_pip;                     /* the command is pip (src/pip/: pip_argv_is_pip) */
	unsigned long long timeout_s;    /* 0: none */
	unsigned long long buffer_mb;    /* the monitor's ring buffer */
	const char *trace_path;          /* --trace FILE */
	const char *report_path;         /* --report FILE.json */
	const char *sarif_path;          /* --sarif FILE (src/report/sarif.c) */
	const char *baseline_path;       /* --baseline FILE (src/report/baseline.c) */
	const char *write_baseline_path; /* --write-baseline FILE */
	const char *profile_name;        /* --profile NAME|PATH, NULL: project's or default */
	bool audit;                      /* --audit: record, never kill */
	bool dry_run;                    /* --dry-run: check, never commit */
	bool import_check;               /* import what was installed, before commit */
	const char **allow_hosts;        /* --allow-host HOST[:PORT] */
	size_t n_allow_hosts;
	/* Where pip installs: the venv of the command, $VIRTUAL_ENV, or pip's
	 * --target/--prefix/--root/--user directory; NULL: none found. */
	const char *target_env;
	/* pipjail analyze: the egress proxy too, for pip's index (with the
	 * sinkhole), and the folder the sinkhole's payloads go to (or NULL). */
	bool sink_proxy;
	const char *sink_out;
};

/* The defaults of a run: import check on, a 16 MiB ring buffer. */
void run_opts_init(struct run_opts *o);

/* Run jail->argv in the jail; returns pipjail's exit code.  jail->binds
 * get their mount-tree fds here; the caller frees jail afterwards. */
int jail_run(struct jail_config *jail, const struct run_opts *opt);

#endif
