/* The jail: what to run and how it is confined.  Filled in by the command
 * line (src/cli.c), carried out by the supervisor (src/supervisor.c) and the
 * jail's init (src/init.c). */
#ifndef PIPJAIL_JAIL_H
#define PIPJAIL_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "decoys.h"

struct jail_limits {
	unsigned long long max_procs;    /* processes in the jail */
	unsigned long long max_mem_mb;   /* address space per process, and the jail's memory */
	unsigned long long max_fsize_mb; /* largest file the command may write */
	unsigned long long max_nofile;   /* open files per process */
	unsigned long long cpu_s;        /* CPU seconds per process, 0: unlimited */
};

/* The user the command runs as: the invoker (SUDO_UID when root ran sudo). */
struct jail_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
	char *name;
	char *home;                      /* from the password database */
};

/* A host path shown in the jail at the same place. */
struct jail_bind {
	char *path;                      /* absolute, symlinks resolved */
	bool writable;
	bool is_dir;
	int fd;                          /* detached copy of its mount tree (open_tree) */
};

/* The egress proxy's port inside the jail's own net namespace: each jail
 * has its own loopback, so a fixed port never collides. */
#define PIPJAIL_PROXY_PORT 3128

enum net_mode {
	NET_NONE,                        /* only lo, no proxy */
	NET_INDEX,                       /* only lo, and the egress proxy to the index */
	NET_HOST,                        /* the host's network (unsafe; still traced) */
	NET_SINKHOLE,                    /* only lo, every destination local, captured
	                                  * (pipjail analyze: src/sinkhole.c) */
};

struct jail_config {
	char **argv;                     /* the command */
	bool is_pip;                     /* the command is pip (pip, pip3, python -m pip) */
	char *cwd;                       /* where it starts (the invoker's cwd) */
	struct jail_user user;
	struct jail_bind *binds;
	size_t n_binds;
	char **env;                      /* the scrubbed environment, NULL-terminated */
	struct jail_limits limits;
	unsigned long long timeout_s;    /* 0: none */
	char *trace_path;
	char *report_path;               /* --report FILE.json */
	char *sarif_path;                /* --sarif FILE (src/sarif.c) */
	char *baseline_path;             /* --baseline FILE (src/baseline.c) */
	char *write_baseline_path;       /* --write-baseline FILE */
	char *profile_name;              /* --profile NAME|PATH, NULL: project's or default */
	bool audit;                      /* --audit: record, never kill */
	bool dry_run;                    /* --dry-run: check, never commit */
	bool import_check;               /* import what was installed, before commit */
	enum net_mode net;
	const char **allow_hosts;        /* --allow-host HOST[:PORT] */
	size_t n_allow_hosts;
	unsigned long long buffer_mb;
	bool write_cwd;
	struct decoys decoys;
	/* Fresh for each run: a package must not recognise the sandbox by a
	 * fixed hostname or machine id. */
	char hostname[32];
	char machine_id[33];
	/* Where pip installs: the venv of the command, $VIRTUAL_ENV, or pip's
	 * --target/--prefix/--root/--user directory; NULL: none found. */
	char *target_env;
	/* Staged install (src/stage.c): the target environment is shown as an
	 * overlay whose upper layer is outside the jail; NULL target: none. */
	char *stage_target;
	char *stage_upper;
	char *stage_work;
	/* The user's pip cache, shown read-only below a throwaway layer, so a
	 * build cannot poison later installs through it; NULL: none. */
	char *pip_cache;
	/* pipjail analyze (src/analyze.c): the command sends its seccomp
	 * user-notification listener over notify_sock (SCM_RIGHTS) when
	 * notify is set; fast_time answers the sleeps at once; fake_user
	 * replaces the invoker's name in the jail's /etc/passwd and /etc/group. */
	bool notify;
	bool fast_time;
	bool sink_proxy;                 /* the egress proxy too, for pip's index */
	int notify_sock;
	char *fake_user;
};

/* src/supervisor.c: run cfg->argv in the jail; returns pipjail's exit code. */
int jail_run(struct jail_config *cfg);

/* src/init.c: the jail's PID 1, driven by the supervisor over ctl (a
 * SOCK_SEQPACKET socket): "G" to build the jail (answered "M" once built),
 * then "R"+argv to run a
 * command (answered with its exit code as an int), "X" or EOF to end.
 * Never returns. */
void jail_init(const struct jail_config *cfg, int ctl) __attribute__((noreturn));

/* src/mounts.c: build the jail's filesystem view and pivot into it. */
int mounts_setup(const struct jail_config *cfg, char *err, size_t errlen);

/* src/caps.c: become the invoking user with no capabilities, no_new_privs set. */
int identity_drop(const struct jail_user *u, char *err, size_t errlen);

/* src/limits.c: every limit but the address space ... */
int limits_apply(const struct jail_limits *l, uid_t uid, char *err, size_t errlen);
/* ... which comes last, just before exec: after it, this (possibly
 * sanitizer-instrumented) process can map no more memory. */
int limits_apply_memory(const struct jail_limits *l, char *err, size_t errlen);

#endif
