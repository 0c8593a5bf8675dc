/* The jail's door: what to run and how it is confined.  Filled in by the
 * command line (src/cmd/run.c) or pipjail analyze, carried out by the
 * supervisor (src/run/) and the jail's init (src/jail/init.c).
 *
 * Which side of the clone each step runs on:
 *   supervisor, before the clone: jail_config_*, cgroup_*, decoys_*, env_*
 *   the jail's init (PID 1, in the new namespaces, still root):
 *       jail_init (its own session; the pseudo-terminal on the stdio that
 *       was a terminal; every other inherited descriptor closed)
 *       -> mounts_setup -> limits_apply -> identity_drop
 *   the command's child of init, just before exec:
 *       setsid + the pseudo-terminal as controlling terminal,
 *       landlock_apply, seccomp_install, limits_apply_memory, every
 *       descriptor but 0-2 close-on-exec */
#ifndef PIPJAIL_JAIL_H
#define PIPJAIL_JAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"
#include "jail/cgroup.h"
#include "jail/decoys.h"
#include "jail/environ.h"
#include "jail/sandbox.h"

struct jail_limits {
	unsigned long long max_procs;    /* processes in the jail */
	unsigned long long max_mem_mb;   /* address space per process, and the jail's memory */
	unsigned long long max_fsize_mb; /* largest file the command may write */
	unsigned long long max_nofile;   /* open files per process */
	unsigned long long cpu_s;        /* CPU seconds per process, 0: unlimited */
};

/* A host path shown in the jail at the same place: read-only, writable, or
 * read-only below a throwaway writable layer (an overlay whose upper layer
 * is a tmpfs of the jail: what is written there is gone with the jail, the
 * host's tree is never changed). */
struct jail_bind {
	char *path;                      /* absolute, symlinks resolved */
	bool writable;                   /* writes reach the host */
	bool layer;                      /* a throwaway writable layer over it (a directory) */
	bool pip_only;                   /* writable for pip alone (its output directories):
	                                  * not a tree the preload library's Landlock layer
	                                  * lets builds write (src/run/anchors.c build_trees) */
	bool is_dir;
	const char *why;                 /* what asked for it: "--ro", "the current directory",
	                                  * "pip's -r", "PATH", "CARGO_HOME", ... (static) */
	int fd;                          /* detached copy of its mount tree (open_tree) */
};

/* A tree of the jail's view for pathname unix sockets (jail/sockview.c):
 * mirror is where the unix-socket guard sends the names below path (a tree
 * of the jail's own: one of its tmpfs mounts, a --rw bind; an alias is a
 * host symlink to one of them), NULL: not the jail's own (a read-only
 * bind, an overlay), refused. */
struct jail_unix_tree {
	char *path;
	char *mirror;
	bool alias;                      /* no mount of its own: names another's */
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

/* Everything the jail's init needs to build the jail and run the command:
 * this crosses the clone (src/jail/init.c reads it in the child).  What
 * only the supervisor uses (reports, profile, staging check, proxy rules)
 * is in struct run_opts (src/run/run.h). */
struct jail_config {
	char **argv;                     /* the command */
	char *cwd;                       /* where it starts (the invoker's cwd) */
	struct jail_user user;
	struct jail_bind *binds;
	size_t n_binds;
	char **env;                      /* the scrubbed environment, NULL-terminated */
	struct jail_limits limits;
	enum net_mode net;
	struct decoys decoys;
	/* Fresh for each run: a package must not recognise the sandbox by a
	 * fixed hostname or machine id. */
	char hostname[32];
	char machine_id[33];
	/* Staged install (src/stage/): the target environment is shown as an
	 * overlay whose upper layer is outside the jail; NULL target: none. */
	char *stage_target;
	char *stage_upper;
	char *stage_work;
	/* The user's pip cache, shown read-only below a throwaway layer, so a
	 * build cannot poison later installs through it; NULL: none. */
	char *pip_cache;
	/* pipjail analyze (src/cmd/analyze.c): the command sends its seccomp
	 * user-notification listener over notify_sock (SCM_RIGHTS) when
	 * notify is set; fast_time answers the sleeps at once; fake_user
	 * replaces the invoker's name in the jail's /etc/passwd and /etc/group. */
	bool notify;
	bool fast_time;
	int notify_sock;
	char *fake_user;
	/* The command's terminal (src/run/pty.c): the slave side of a
	 * pseudo-terminal the supervisor opened, which replaces each of
	 * stdin/stdout/stderr (bit 0, 1, 2 of tty_stdio) that was the user's
	 * terminal.  tty_stdio 0: none (no stdio was a terminal). */
	int tty_fd;
	unsigned int tty_stdio;
	/* Pathname unix sockets: the trees of the view (jail_unix_trees), and
	 * whether the supervisor found the kernel's unix-socket guard
	 * (observe/unixguard.h): then init mirrors the jail's own trees for
	 * it, else it hides known socket directories. */
	bool unix_guard;
	struct jail_unix_tree *unix_trees;
	size_t n_unix_trees;
};

/* Defaults (limits) and the invoking user. */
void jail_config_init(struct jail_config *cfg);
/* Show host path (resolved; refusing /, /proc, /sys, /dev and anything that
 * holds the user's home) at the same place in the jail; opt names the
 * option for the error message.  Dies on a bad path. */
void jail_config_bind(struct jail_config *cfg, const char *opt, const char *path, bool writable);
/* How a path is shown (struct jail_bind). */
enum jail_show { SHOW_RO, SHOW_RW, SHOW_LAYER, SHOW_PIP_OUTPUT };
/* Show path (absolute; resolved here) the way `how` says, for the reason
 * `why` (static).  A path that lies in or holds the user's home, a secret
 * place of it (~/.ssh, ...: decoys_secret_place) or /, /proc, /sys, /dev
 * is not shown: -1 with the reason in err.  A path shown already is shown
 * the wider way of the two.  0 when shown. */
int jail_config_show(struct jail_config *cfg, const char *path, enum jail_show how,
		     const char *why, char *err, size_t errlen);
/* The bind that shows path (the innermost), or NULL. */
const struct jail_bind *jail_config_shown(const struct jail_config *cfg, const char *path);
/* Is path (absolute, clean) out of view in the jail unless it is shown: under
 * the directories the jail replaces by an empty tmpfs (/home, /root, /tmp,
 * /var/tmp, /run, ...) or the user's home? */
bool jail_path_hidden(const struct jail_config *cfg, const char *path);
/* The secret-looking files at the top of every directory shown so far,
 * made decoys (decoys_scan_dir). */
void jail_config_scan_decoys(struct jail_config *cfg);
/* A fresh hostname and machine id. */
void jail_config_identity(struct jail_config *cfg);
void jail_config_free(struct jail_config *cfg);


/* The supervisor and the jail's init talk over a SOCK_SEQPACKET socket
 * (ctl), one message a packet, each starting with one of these bytes:
 *   supervisor -> init  JAIL_MSG_BUILD: build the jail
 *   init -> supervisor  JAIL_MSG_BUILT: built (the supervisor may look at
 *                       the jail's files now); EOF instead: it failed, and
 *                       init printed why
 *   supervisor -> init  JAIL_MSG_RUN + a uint32_t id + argv as
 *                       NUL-separated strings: start it (the command, then
 *                       the checks of a staged install, several at once);
 *                       init answers, when it ends, with a struct jail_done.
 *                       A command's leftovers (a daemon that double-forked)
 *                       are killed once no command runs, before the answer
 *                       of the last one to end.
 *   supervisor -> init  JAIL_MSG_END, or EOF: end the jail
 *   init -> supervisor  JAIL_MSG_LISTENER + an fd (SCM_RIGHTS): the seccomp
 *                       user-notification listener (pipjail analyze)
 */
enum jail_msg {
	JAIL_MSG_BUILD    = 'G',
	JAIL_MSG_BUILT    = 'M',
	JAIL_MSG_RUN      = 'R',
	JAIL_MSG_END      = 'X',
	JAIL_MSG_LISTENER = 'L',
};

/* init's answer to JAIL_MSG_RUN: which command ended, and its exit code
 * (128 + the signal that ended it). */
struct jail_done {
	uint32_t id;
	int32_t code;
};

/* How many commands init runs at once, at most. */
#define JAIL_MAX_RUNNING 16

/* src/jail/init.c: the jail's PID 1, in the new namespaces, driven by the
 * supervisor over ctl (enum jail_msg).  Never returns.  It closes every
 * descriptor it inherited but 0-2, ctl, notify_sock and the binds' trees
 * (close_inherited): a new descriptor that init needs must be named there. */
void jail_init(const struct jail_config *cfg, int ctl) __attribute__((noreturn));

/* src/mounts.c: build the jail's filesystem view and pivot into it. */
int mounts_setup(const struct jail_config *cfg, char *err, size_t errlen);
/* The host directories mounts_setup replaces by an empty tmpfs (when they
 * are real directories). */
const char *const *mounts_hidden_dirs(size_t *n);

/* jail/sockview.c, supervisor side: fill cfg->unix_trees from the binds,
 * the home and the overlays (after they are final, before the clone). */
void jail_unix_trees(struct jail_config *cfg);
void jail_unix_trees_free(struct jail_config *cfg);
/* init side, from mounts_setup before the pivot (root: where the new root
 * is mounted): the guard's mirrors, or the hiding without it. */
int sockview_mount(const struct jail_config *cfg, const char *root, char *err, size_t errlen);

/* src/caps.c: become the invoking user with no capabilities, no_new_privs set. */
int identity_drop(const struct jail_user *u, char *err, size_t errlen);

/* src/limits.c: every limit but the address space ... */
int limits_apply(const struct jail_limits *l, uid_t uid, char *err, size_t errlen);
/* ... which comes last, just before exec: after it, this (possibly
 * sanitizer-instrumented) process can map no more memory. */
int limits_apply_memory(const struct jail_limits *l, char *err, size_t errlen);

#endif
