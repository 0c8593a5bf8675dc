/* The engine's insides, shared by the files of decide/: engine.c (life
 * cycle, events in), proctree.c (roles and packages), writers.c (who wrote
 * a path), match.c (an event against the rules), verdict.c (violations,
 * actions, the verdict).  Not for other layers: their door is engine.h. */
#ifndef PIPJAIL_ENGINE_PRIV_H
#define PIPJAIL_ENGINE_PRIV_H

#include "decide/engine.h"
#include "decide/glob.h"
#include "decide/profile.h"



struct proc {
	struct proc_info info;    /* strings below are owned; info points at them */
	char *package, *version, *hook, *srcdir, *exe, *comm, *label;
	char *prog;               /* the program its last exec named (a #! script's own path) */
	int pkg;                  /* index in e->pkgs, -1: none (pip and its tools) */
	/* interp.c: code that is not the system's may have run in it since its
	 * exec (why) */
	bool foreign;
	char *foreign_why;
	/* the user's own command when it is not pip (sh -c '...', python3 -m
	 * venv), and what it runs outside pip and any build: held to pip's
	 * rules, as the user's own programs (never trust: that is the
	 * kernel's, which keeps its walls for them) */
	bool user_cmd;
	/* outlive.c: alive when its build hook (outlive_hook, a host pid)
	 * returned, at outlive_since (monotonic ns); 0: not outliving */
	uint64_t outlive_since;
	uint32_t outlive_hook;
	/* a process of the start-up probe (src/run/install.c), or forked from
	 * one: the files it opens are remembered (engine_probe_opened) */
	bool probe;
	uint64_t events;
};

/* A pattern of the profile, with the run-time variables filled in. */
struct cpat {
	const struct pattern *src;
	struct glob *g;           /* NULL: never matches (an unset variable) */
	char *tmpl;               /* non-NULL when it uses $SRC: expanded per build */
	char *cached_src;         /* the srcdir g was compiled for (tmpl patterns) */
	bool basename;            /* exec: a pattern without '/' matches the program's name */
	/* network endpoints */
	bool is_unix;
	struct glob *port;        /* NULL with g set: any port */
};

struct cpat_list {
	struct cpat *v;
	size_t n;
};

struct crules {
	struct cpat_list allow, deny;
	const struct file_rules *src;
};

struct cnet {
	bool any;
	struct cpat_list allow;
	const struct net_rules *src;
};

struct crole {
	struct crules read, write, exec;
	struct cnet connect, bind;
	enum action action;
};

struct edecoy {
	char *where;
	char *path;               /* expanded file path, NULL for a variable */
	char *token;
	char *env_entry;          /* "NAME=token" for a variable: its own place, NULL for a file */
	uint64_t dev, ino;        /* the file, as the kernel knows it (has_ino) */
	bool has_ino;
};



/* Who last wrote a path (engine_writer_of): a chained hash table on the
 * path, its entries also on a list from the oldest to the newest write, so
 * that a full table forgets the oldest.  Bounded by ENGINE_WRITERS_MAX
 * entries and ENGINE_WRITERS_MAX_BYTES of path text. */
#define ENGINE_WRITERS_MAX       200000
#define ENGINE_WRITERS_MAX_BYTES (32u << 20)

struct writer {
	struct writer *chain;      /* next in the bucket */
	struct writer *older, *newer;
	uint64_t hash;
	uint32_t hpid;
	bool renamed;              /* it became this path by a rename (a moved directory) */
	size_t len;
	char path[];
};


struct engine {
	size_t n_outliving;           /* outlive.c: processes in their grace */
	uint64_t outlive_first;       /* outlive.c: the earliest grace's start */
	const struct profile *p;
	bool enforce, live, replay;
	struct crole roles[ROLE_COUNT];
	bool probes_are_violations;
	char *home;

	struct edecoy *decoys;
	size_t n_decoys;
	struct decoy_scanner *scanner;  /* match.c: every form of the decoys; dropped when one is added */
	struct envseen *envseen;        /* envseen.c: environment entries known clean (same) */

	enum engine_unix_mode unix_mode;  /* engine_set_unix_trees (match.c) */
	struct engine_unix_tree *unix_trees;
	size_t n_unix_trees;

	/* processes: open addressing on hpid */
	struct proc **procs;
	size_t procs_cap, procs_n;
	bool top_seen;            /* the jailed command exec'd */
	enum role next_top_role;  /* engine_set_next_command_role() */
	struct proc *note_pending;    /* a build attributed: its note follows its event */
	const char *note_source;

	struct pkg *pkgs;
	size_t n_pkgs;

	struct writer **wbuckets;
	size_t wbuckets_n;        /* a power of two, 0: nothing recorded yet */
	struct writer *woldest, *wnewest;
	size_t n_writers, writer_bytes;
	size_t writers_max;       /* ENGINE_WRITERS_MAX; tests lower it */
	uint64_t writers_evicted;

	/* writers.c: the files the start-up probe's processes opened (an open
	 * addressing set of paths; probe_n of probe_cap used) */
	char **probe_paths;
	size_t probe_cap, probe_n;

	struct link **links;      /* links.c: the symlinks the run created */
	size_t links_n, links_count;
	bool links_full;

	struct violation_record *viols;
	size_t n_viols;
	size_t n_baselined;       /* of them, accepted by the baseline */
	engine_baseline_fn baseline;
	void *baseline_ctx;
	char **seen;              /* dedupe keys of violations, sorted */
	size_t n_seen;

	engine_kill_fn kill;
	void *kill_ctx;
	bool killed, jail_killed;

	struct trace_writer *trace;
	const char **trace_env;   /* the environment entries an exec's trace line keeps */
	size_t trace_env_cap;
	char **argv;

	struct engine_outcome out;
	bool have_outcome;
	char *trace_path;
	uint64_t events;
	struct trace_kind_count kinds[ENGINE_MAX_KINDS];
	unsigned n_kinds;
	uint64_t other_kinds;
	uint64_t probes;          /* refused probing calls (recorded, not violations) */
	uint64_t refused;         /* all refused calls */
	uint64_t t_first, t_last;
};

/* match.c */
void unix_trees_free(struct engine *e);
/* The errno a call failed with, 0 when it did not (or has no return). */
static inline int ev_errno(const struct trace_event *ev)
{
	return ev->has_ret && ev->ret < 0 && ev->ret >= -4095 ? (int)-ev->ret : 0;
}
/* A unix connect or datagram that reached only the jail's own sockets
 * (unix_trees.c); *guarded: the unix guard refused it. */
bool unix_inside(const struct engine *e, const struct trace_event *ev, bool *guarded);

/* proctree.c */
struct proc *proc_get(struct engine *e, uint32_t hpid);
/* The process, created from its parent (or empty) when unknown. */
struct proc *proc_lookup_or_new(struct engine *e, const struct trace_event *ev);
void proctree_event(struct engine *e, const struct trace_event *ev, struct proc *pr);
void proctree_free(struct engine *e);
/* A build of no known name writing <name>.egg-info or <name>-<v>.dist-info. */
void proctree_learn_name(struct engine *e, struct proc *pr, const struct trace_event *ev);
void proctree_apply_note(struct engine *e, const cJSON *note);
void proctree_emit_note(struct engine *e, const struct proc *pr, const char *source);
/* "pip → build_wheel → sh → curl" and the jail pids top first (malloc'd). */
char *proctree_chain(const struct engine *e, const struct proc *pr, uint32_t **pids, size_t *n);
int pkg_intern(struct engine *e, const char *name, const char *version, const char *srcdir);
void pkg_add_hook(struct pkg *k, const char *hook);

/* outlive.c: a process still alive when the build hook that started it
 * returned (rule outlived-build); after proctree_event. */
void outlive_event(struct engine *e, struct proc *pr, const struct trace_event *ev);

/* writers.c: remember who wrote, created, renamed onto or removed a path. */
void writers_event(struct engine *e, const struct trace_event *ev);
void writers_free(struct engine *e);
/* writers.c: remember what a process of the start-up probe opened. */
void probe_reads_event(struct engine *e, const struct proc *pr, const struct trace_event *ev);

/* interp.c: meson's exception to the ~/.netrc decoy, tied to the code
 * that ran in the process. */
bool interp_env_loads_code(const char *entry);
/* A successful exec of pr (ev): its environment decides where it starts. */
void interp_exec(struct proc *pr, const struct trace_event *ev);
/* pr opened ev's file for reading (reached: reached_file()). */
void interp_read(struct proc *pr, const struct trace_event *ev, const char *reached);
/* May pr (judged as role) touch the decoy file where?  pip its ~/.netrc,
 * meson (is_read) while the exception holds. */
bool interp_may_read_decoy(const char *where, const struct proc *pr, enum role role, bool is_read);
/* Why meson's exception does not hold for pr (NULL: pr is not meson, or it holds). */
const char *interp_why_not(const struct proc *pr, const char *where);

/* links.c: the symlinks the run created (from its events), and a path-only
 * call's name resolved through them and /proc/self/root: the resolved
 * name in out, or NULL when it is the name as written. */
void links_event(struct engine *e, const struct trace_event *ev);
const char *links_resolve(struct engine *e, const char *name, char *out, size_t len);
void links_free(struct engine *e);

/* envseen.c: environment entries known to carry no decoy token (compared
 * whole), so that an inherited environment is scanned once. */
bool envseen_clean(const struct engine *e, const char *entry);
void envseen_add(struct engine *e, const char *entry);
void envseen_free(struct engine *e);

/* match.c */
/* Judge ev; role is the role whose rules apply (for an exec: the caller's,
 * before the exec re-classified the process). */
void match_event(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role);
int engine_compile(struct engine *e);
/* An exec's environment entry the trace keeps: one that carries a decoy
 * token (but a decoy variable's own), or that makes an interpreter load
 * code (interp.c).  The rest is left out: every exec has the same. */
bool match_env_entry_matters(struct engine *e, const char *entry);
void engine_compiled_free(struct engine *e);

/* verdict.c */
struct violation_in {
	const char *rule, *kind, *evidence, *detail, *profile_file;
	const char *dedupe;       /* key for "the same violation again": NULL = evidence */
	const struct trace_event *ev;
	enum action action;
	int role;                 /* the role whose rule broke; -1: the process's */
	bool call_failed;
	const char *call_errno;
};
void verdict_add(struct engine *e, struct proc *pr, const struct violation_in *v);
/* pr exited: a kill it outran (it was leaving anyway) was not done. */
void verdict_process_exited(struct engine *e, struct proc *pr, const struct trace_event *ev);
void verdict_free(struct engine *e);

#endif
