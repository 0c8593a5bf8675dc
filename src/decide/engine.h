/* The decision engine: gives each process of the jail a role and a package
 * (decide/proctree.c), holds every event against the profile of its role
 * (decide/match.c, decide/profile_*.c), and collects violations into the
 * verdict (decide/verdict.c) that the reports print (report/).  The same engine
 * runs live (fed by the monitor's on_event callback) and in `pipjail replay`
 * (fed by the trace reader), so both give the same verdict.
 *
 * Live use, in order (the supervisor):
 *   p = profile_load(name, &src, err, len)         -> exit 125 on NULL
 *   profile_set_defaults(p, home, cwd, venv); profile_set_var(p, "PROXY", port)
 *   e = engine_new(p, enforce)
 *   engine_set_live(e, true)                        (read package metadata via /proc)
 *   engine_set_command(e, argv)
 *   engine_add_decoy(e, where, token)  for each decoy
 *   engine_set_kill(e, kill_fn, ctx)
 *   engine_set_trace(e, trace_writer)               and monitor_opts.trace = NULL,
 *   monitor_opts.on_event = engine_on_event, .ctx = e   (the engine writes each
 *                                                    event, annotated, then judges it)
 *   ... run ...
 *   engine_set_outcome(e, &outcome)                 (lost events, command status)
 *   report_print(e, stderr, report_use_color(2)); report_write_json_fd(e, fd)
 *   exit(engine_exit_code(e, command_code))
 */
#ifndef PIPJAIL_ENGINE_H
#define PIPJAIL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "observe/monitor.h"

struct profile;
struct engine;

enum role {
	ROLE_NONE = 0,   /* not classified yet: the jail's own init, before the command */
	ROLE_PIP,        /* pip itself (or the jailed command when it is not pip) */
	ROLE_BUILD,      /* a PEP 517 hook via _in_process.py, or a legacy setup.py run */
	ROLE_TOOL,       /* a program started under a build (or under pip): gcc, git, sh, ... */
	ROLE_IMPORT,     /* the post-install import check */
	ROLE_COUNT,
};
const char *role_name(enum role r);
/* "pip" -> ROLE_PIP; ROLE_NONE when unknown. */
enum role role_from_name(const char *name);

/* What the engine knows of one process (keyed by host pid). */
struct proc_info {
	uint32_t hpid, pid, hppid;
	enum role role;
	const char *package;   /* "demo", NULL when unknown (and for pip) */
	const char *version;   /* "1.0", NULL when unknown */
	const char *hook;      /* "build_wheel", "setup.py egg_info", NULL */
	const char *srcdir;    /* the build's source tree (its cwd at the hook's exec) */
	const char *exe;
	const char *comm;
	bool execd;            /* it exec'd itself (not only forked) */
	bool exited;
	bool killed;
};

enum action {
	ACTION_REPORT = 0,     /* recorded, nothing else */
	ACTION_REFUSED,        /* the kernel or the proxy refused it; recorded */
	ACTION_KILL_PROCESS,
	ACTION_KILL_JAIL,
};
const char *action_name(enum action a);
/* "kill-process" -> ACTION_KILL_PROCESS; -1 when unknown. */
int action_from_name(const char *name);

/* One violation, as reports and the trace print it.  engine_report() takes
 * one of these from outside the event stream (staging, proxy). */
struct violation {
	const char *rule;      /* stable id: "decoy-read", "file-read", "file-write",
	                        * "exec", "network", "decoy-token", "refused-call",
	                        * "non-native-abi", "undeclared-file", "proxy", ... */
	const char *kind;      /* "file", "exec", "network", "process", "staging" */
	const char *evidence;  /* path, argv, address: what a reader needs to see */
	const char *detail;    /* the profile rule that matched, or why */
	uint32_t hpid;         /* the violator, 0 when not a process */
	enum action action;    /* what the profile asked for */
	bool done;             /* the action was carried out (killed) */
	uint64_t t_mono_ns;
	/* The distribution it belongs to when no process tells (a staged file
	 * that pip wrote from a wheel's RECORD); NULL: the process's. */
	const char *package, *version;
};

/* A recorded violation with its attribution (what the reports print). */
struct violation_record {
	char *rule, *kind, *evidence, *detail;
	char *profile_file;    /* the file that holds the rule, NULL for built-in rules */
	uint32_t hpid, pid;
	enum role role;
	char *package, *version, *hook;
	char *source_dir;      /* the build's source tree, NULL outside builds */
	int pkg;               /* the engine's package index, -1: none (pip) */
	char *chain;           /* "pip → build_wheel → sh → curl" */
	uint32_t *pids;        /* jail pids, top first */
	size_t n_pids;
	enum action action;
	bool done;             /* killed as asked */
	bool call_failed;      /* the call itself failed (refused by the kernel, or absent) */
	char *call_errno;      /* "EACCES", NULL when it succeeded */
	uint64_t t_mono_ns;
	int64_t t_wall_ns;
	/* Accepted by --baseline (report/baseline.c): reported, but not counted in
	 * the verdict or the exit code, and no action is carried out. */
	bool baselined;
};

/* Created before the jail starts; profile may be NULL (built-in rules only:
 * decoys, dangerous refused calls, action report).  enforce=false is
 * --audit: nothing is killed, everything is recorded.  The engine keeps a
 * pointer to the profile: free the profile after the engine. */
struct engine *engine_new(const struct profile *p, bool enforce);
void engine_free(struct engine *e);

/* Live runs read a build's PKG-INFO/pyproject.toml through /proc/<pid>/root;
 * replay (live=false, the default) uses the trace's "package" notes. */
void engine_set_live(struct engine *e, bool live);
/* A replay: the report says so, and "would kill" instead of "killed". */
void engine_set_replay(struct engine *e, bool replay);
/* The jailed command (for the report, and as a hint for package names). */
void engine_set_command(struct engine *e, const char *const *argv);

/* The next program the jail's init starts (a second command, such as the
 * post-install import check) gets this role instead of "pip".  Call it
 * before asking init to run that command. */
void engine_set_next_command_role(struct engine *e, enum role role);

/* The decoys of this run (from the supervisor, or from a trace header).
 * where is "~/.ssh/id_rsa" (a file, ~ is $HOME) or "$GITHUB_TOKEN". */
void engine_add_decoy(struct engine *e, const char *where, const char *token);
/* The decoy file where ("~/.netrc") is this inode (as the jail's kernel
 * sees it): any name that reaches it (a hard link) is the decoy.  Written
 * to the trace as a "decoy_file" note, which replay reads back. */
void engine_set_decoy_file(struct engine *e, const char *where, uint64_t dev, uint64_t ino);
/* The home that ~ means in decoy paths (default: the profile's $HOME). */
void engine_set_home(struct engine *e, const char *home);

/* Pathname unix sockets: how this run held them (the supervisor, or a
 * trace header's "unix_sockets").  ENGINE_UNIX_GUARD: the kernel's guard
 * (observe/unixguard.h) refused (EPERM) every name outside the jail's own
 * trees before it was looked up, so a call it let through reached only
 * them; ENGINE_UNIX_HIDDEN: known socket directories were hidden, and a
 * name outside the own trees is judged by the profile, after the fact.
 * Either way a socket of the jail's own is not a network violation.
 * Without a call (a trace from before), every unix connect is judged by
 * the profile.  trees: the table (path, and whether it is the jail's own);
 * the longest tree that holds a name decides. */
enum engine_unix_mode { ENGINE_UNIX_UNKNOWN = 0, ENGINE_UNIX_GUARD, ENGINE_UNIX_HIDDEN };
struct engine_unix_tree {
	const char *path;
	bool own;
};
void engine_set_unix_trees(struct engine *e, enum engine_unix_mode mode,
			   const struct engine_unix_tree *trees, size_t n);
const char *engine_unix_mode_name(enum engine_unix_mode mode);   /* "kernel", "hidden", NULL */
enum engine_unix_mode engine_unix_mode_from_name(const char *name);

/* Feed one event (live: from monitor on_event; replay: from the reader).
 * When a trace writer is set, the event is written first, annotated with
 * its role, package and hook.  May call the kill hook. */
void engine_event(struct engine *e, const struct trace_event *ev);
/* The same with the monitor's callback signature (ctx is the engine). */
void engine_on_event(const struct trace_event *ev, void *ctx);
/* Set ev->role/package/hook from what the engine knows of ev->hpid (for a
 * caller that writes the trace itself; call after engine_event). */
void engine_annotate(const struct engine *e, struct trace_event *ev);

/* A trace "note" line read back in replay ({"type":"note","kind":...}):
 * "package" notes attribute a build as the live run did. */
void engine_note(struct engine *e, const cJSON *note);

/* Write the annotated events and the engine's notes ("package",
 * "violation", "kill") to w.  NULL: no trace. */
void engine_set_trace(struct engine *e, struct trace_writer *w);

/* Who did it: the proc_info of a host pid, or NULL. */
const struct proc_info *engine_proc(const struct engine *e, uint32_t hpid);

/* The host pid of the process that last opened abs_path for writing
 * (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC), created it (creat, mknod, mkdir,
 * symlink, link), renamed something onto it, truncated or removed it; 0
 * when no event says.  abs_path as the jail saw it (an event's abs or
 * file).  A path with no entry of its own that lies in a directory moved
 * into place by a rename gets that rename's process.  The memory is
 * bounded (ENGINE_WRITERS_MAX paths): when full, the oldest are forgotten. */
uint32_t engine_writer_of(const struct engine *e, const char *abs_path);

/* Did a process of the start-up probe (the command whose -c code starts
 * with "# pipjail-startup-probe", and what it forked) open abs_path, or
 * execute it?  The path the call named (abs) and the file the kernel
 * reached (file) both count; only calls that succeeded.  Never bounded
 * away: the probe opens a few thousand files at most. */
bool engine_probe_opened(const struct engine *e, const char *abs_path);
size_t engine_probe_count(const struct engine *e);

/* Record a violation found outside the event stream (staging check, proxy).
 * The engine copies the strings, attributes it to hpid's package, and
 * carries out the action through the kill hook when enforcing. */
void engine_report(struct engine *e, const struct violation *v);

/* Live runs: how to kill.  Replay leaves it unset (nothing to kill).
 * Returns 0 when the signal was sent. */
typedef int (*engine_kill_fn)(uint32_t hpid, bool whole_jail, void *ctx);
void engine_set_kill(struct engine *e, engine_kill_fn fn, void *ctx);

/* How the run ended, for the verdict and the report. */
struct engine_outcome {
	uint64_t lost;             /* events lost (monitor_stats().lost) */
	bool incomplete;           /* the trace is incomplete for another reason */
	bool timed_out;
	int command_code;          /* the command's exit code as pipjail would return it, -1 unknown */
	const char *trace_path;    /* for the report, or NULL */
};
void engine_set_outcome(struct engine *e, const struct engine_outcome *o);

/* A baseline (report/baseline.c): asked once for each new violation, after
 * its attribution and before its action.  true: the finding is known and
 * accepted (v->baselined is set; it is reported and not acted on). */
typedef bool (*engine_baseline_fn)(const struct engine *e, const struct violation_record *v,
				   void *ctx);
void engine_set_baseline(struct engine *e, engine_baseline_fn fn, void *ctx);
/* The decoys of this run, for code that must recognise their values in
 * evidence (baseline normalisation): the token of decoy i and where it is,
 * NULL past the last. */
const char *engine_decoy(const struct engine *e, size_t i, const char **where);

/* Does data carry a decoy token of this run: as is (case-insensitively
 * when nocase), in hex (any case), or in base64 (standard or URL-safe, any
 * alignment), in the bytes as they are or URL-decoded (%HH escapes of any
 * subset of bytes, '+' for a space, up to three rounds)?  The decoy's index
 * (engine_decoy), or -1; *how names the encoding ("base64, URL-encoded").
 * Makes the decoys' forms for this one call: code that looks at many
 * buffers (the proxy, at every request) makes a decoy_scanner once. */
int engine_find_decoy(const struct engine *e, const unsigned char *data, size_t n, bool nocase,
		      const char **how);
/* Every form of the decoys the engine holds now (a snapshot: decoys added
 * later are not in it); free with decoy_scanner_free.  Finding costs one
 * pass over the data per view (a few ns a byte), whatever the number of
 * tokens. */
struct decoy_scanner;
struct decoy_scanner *engine_decoy_scanner(const struct engine *e);
int decoy_scanner_find(const struct decoy_scanner *s, const unsigned char *data, size_t n,
		       bool nocase, const char **how);
void decoy_scanner_free(struct decoy_scanner *s);

/* A package seen in this run (key: name + version), as the reports read it. */
struct pkg {
	char *name, *version;     /* name "(unknown)" when nothing told it */
	char *srcdir;
	char *source;             /* where the name came from: "PKG-INFO", "pyproject.toml", ... */
	char **hooks;
	size_t n_hooks;
	uint64_t processes[ROLE_COUNT];
	uint64_t events;
	uint64_t violations;       /* counted ones */
	uint64_t baselined;        /* accepted by the baseline */
};
/* What was counted, for the reports. */
#define ENGINE_MAX_KINDS 48
struct engine_counts {
	uint64_t events;            /* judged */
	const struct trace_kind_count *kinds;   /* per event kind, the first ENGINE_MAX_KINDS */
	unsigned n_kinds;
	uint64_t other_kinds;       /* events of kinds past those */
	uint64_t refused;           /* calls refused by the kernel */
	uint64_t probes;            /* of them, probing calls (recorded, not violations) */
};
void engine_get_counts(const struct engine *e, struct engine_counts *c);
/* The jailed command (engine_set_command), NULL-terminated, or NULL. */
char *const *engine_command(const struct engine *e);
/* The trace's path of the outcome, or NULL. */
const char *engine_trace_path(const struct engine *e);
size_t engine_n_pkgs(const struct engine *e);
const struct pkg *engine_pkg(const struct engine *e, size_t i);
/* Events judged; the outcome given by engine_set_outcome (zeroes before). */
uint64_t engine_events(const struct engine *e);
const struct engine_outcome *engine_outcome(const struct engine *e);
bool engine_is_replay(const struct engine *e);

/* Violations that count: baselined ones are not. */
bool engine_has_violations(const struct engine *e);
bool engine_killed(const struct engine *e);
/* "clean", "violation" or "incomplete". */
const char *engine_verdict(const struct engine *e);
/* Every recorded violation, baselined ones included (see ->baselined). */
size_t engine_n_violations(const struct engine *e);
size_t engine_n_baselined(const struct engine *e);
const struct violation_record *engine_violation(const struct engine *e, size_t i);
bool engine_enforcing(const struct engine *e);
const struct profile *engine_profile(const struct engine *e);

/* pipjail's exit code: 101 when a violator was killed, 100 when violations
 * were found (audit, or enforce with action "report"), 102 when the trace
 * is incomplete, else command_code.  Baselined violations do not count. */
int engine_exit_code(const struct engine *e, int command_code);

/* The rest of the layer's public side: profiles and globs. */
#include "decide/glob.h"
#include "decide/profile.h"

#endif
