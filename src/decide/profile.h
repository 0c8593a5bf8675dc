/* Profiles: what each role may read, write, exec and connect to, and what
 * happens on a violation.  JSON files (docs/profiles.md), loaded whole and
 * checked before anything runs: a bad profile is one error naming the file,
 * the JSON path, what was found and what was expected, and no profile. */
#ifndef PIPJAIL_PROFILE_H
#define PIPJAIL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "decide/engine.h"

#define PROFILE_INSTALLED_DIR "/usr/local/share/pipjail/profiles"
#define PROFILE_PROJECT_FILE  ".pipjail.json"
#define PROFILE_MAX_BYTES     (1u << 20)
#define PROFILE_MAX_DEPTH     16   /* extends chain */

/* Run-time variables a pattern may use as $NAME or ${NAME}. */
enum profile_var {
	VAR_HOME,    /* the user's home (in the jail: the decoy home) */
	VAR_ENV,     /* the target environment (venv root) */
	VAR_SITE,    /* its site-packages */
	VAR_BUILD,   /* pip's build directories (a glob: /tmp/pip-*) */
	VAR_TMP,     /* the jail's temp dir */
	VAR_PYTHON,  /* the interpreter's stdlib directory */
	VAR_CWD,     /* where pipjail was started */
	VAR_PROXY,   /* the egress proxy's port (absent: no proxy) */
	VAR_SRC,     /* the source tree of the build a process belongs to (per process) */
	VAR_CARGO_HOME,  /* cargo's home: $CARGO_HOME, else ~/.cargo */
	VAR_RUSTUP_HOME, /* rustup's home: $RUSTUP_HOME, else ~/.rustup */
	VAR_COUNT,
};
const char *profile_var_name(enum profile_var v);

enum rule_default { RULE_ALLOW = 0, RULE_DENY };

/* One pattern as written, and where: the report names the rule that matched. */
struct pattern {
	char *text;          /* "$HOME/.ssh/id_*", "curl", "127.0.0.1:*" */
	char *origin;        /* "roles.build.read.deny[3]" */
	const char *file;    /* the profile file (owned by struct profile) */
};

struct pattern_list {
	struct pattern *v;
	size_t n;
};

struct file_rules {
	struct pattern_list allow, deny;
	enum rule_default dflt;   /* a path that no pattern names */
	char *dflt_origin;        /* "roles.build.read.default" (NULL: built-in) */
	const char *dflt_file;
};

/* Network endpoints: "HOST:PORT" (host and port are globs; IPv6 as
 * "[::1]:443"), "unix:PATH-GLOB", or the words "proxy" (127.0.0.1:$PROXY)
 * and "loopback". */
struct net_rules {
	bool any;                 /* "any": everything allowed */
	struct pattern_list allow;
	char *origin;
	const char *file;
};

struct role_policy {
	struct file_rules read, write, exec;
	struct net_rules connect, bind;
	enum action on_violation;
	char *action_origin;
	const char *action_file;
};

struct profile {
	char *name;               /* "default", or the file name */
	char *path;               /* the file it was loaded from */
	char *description;
	char **files;             /* every file read, base of the extends chain first */
	size_t n_files;
	struct role_policy roles[ROLE_COUNT];
	bool probes_are_violations;  /* io_uring/clone3/personality refusals */
	/* Programs (absolute paths on the host) whose processes may outlive
	 * the build hook that started them: compiler cache servers and the
	 * like (rule outlived-build, decide/outlive.c).  Extends add to it. */
	struct pattern_list build_servers;
	char *vars[VAR_COUNT];    /* run-time values; NULL: unset (patterns using it match nothing) */
	bool var_is_glob[VAR_COUNT];
	uint64_t hash;            /* FNV-1a of the files' bytes, in order */
	bool project;             /* found as a project's .pipjail.json */
};

/* How profile files are opened.  A NAME is looked up in the profile
 * directory (pipjail's own files: plain open).  A PATH (contains '/' or ends
 * in .json) is the user's: opened through open_user when set, so that a root
 * or setcap'd pipjail reads it with the user's rights.  open_user returns an
 * fd or -1 with errno. */
struct profile_source {
	int (*open_user)(const char *path, void *ctx);
	void *ctx;
	const char *dir;          /* NULL: profile_dir() */
};

/* The directory of the named profiles: $PIPJAIL_PROFILE_DIR when the real
 * and effective user are root (a setcap'd pipjail must not trust the
 * environment), else PROFILE_INSTALLED_DIR when it exists, else
 * <directory of the pipjail binary>/profiles. */
const char *profile_dir(void);

/* Load a profile by NAME or PATH, with its extends chain.  NULL and one line
 * in err on any error. */
struct profile *profile_load(const char *name_or_path, const struct profile_source *src,
			     char *err, size_t errlen);
/* The same from bytes in memory (tests, fuzzing); filename is used in
 * messages and to resolve a relative "extends". */
struct profile *profile_load_buffer(const char *text, size_t len, const char *filename,
				    const struct profile_source *src, char *err, size_t errlen);
void profile_free(struct profile *p);

/* A project's own profile: .pipjail.json in cwd or a parent directory,
 * stopping after home (when home is an ancestor of cwd) or at /.  Returns
 * a malloc'd path or NULL. */
char *profile_find_project(const char *cwd, const char *home);

/* Set a run-time variable ("HOME" or VAR_HOME).  value NULL unsets.  -1 for
 * an unknown name. */
int profile_set_var(struct profile *p, const char *name, const char *value);
void profile_set_var_id(struct profile *p, enum profile_var v, const char *value);
/* Fill the usual variables: HOME, CWD, TMP=/tmp, BUILD=/tmp/pip-*, and when
 * venv is not NULL ENV, SITE and PYTHON from it (pyvenv.cfg). */
void profile_set_defaults(struct profile *p, const char *home, const char *cwd, const char *venv);

/* What the trace header and the report say about the profile:
 * {"name","path","files":[...],"hash","project","vars":{...}}. */
cJSON *profile_to_json(const struct profile *p);

/* Built-in dangerous syscalls: a refusal of one of these is always a
 * violation.  Probes: refused, recorded, a violation only when the profile
 * says so. */
bool profile_syscall_is_dangerous(const char *syscall);
bool profile_syscall_is_probe(const char *syscall);

#endif
