/* The door of src/pip/: everything pipjail knows about pip.  Include this,
 * not the headers below it.  Pure parsing of what pip reads and runs: no
 * jail, no events. */
#ifndef PIPJAIL_PIP_H
#define PIPJAIL_PIP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"
#include "pip/record.h"

/* ---- command.c: is this exec pip? ----------------------------------------------
 *
 * The one rule, shared with the kernel (bpf/monitor.bpf.c pj_argv_is_pip,
 * which keeps a trusted process trusted across an exec) and held by the
 * table tests/unit/pip/is_pip_cases.txt, which both sides run.  An argv is
 * pip when
 *   - argv[0]'s base name is a pip name: "pip" and then at most 8 digits
 *     or dots (pip, pip3, pip3.11);
 *   - argv[1]'s base name is a pip name (a #! script run by its
 *     interpreter: the kernel puts the script's path in argv[1]; the old
 *     pips' "python .../site-packages/pip install" too);
 *   - argv[1] ends with "__pip-runner__.py" (pip >= 22.3 installing build
 *     dependencies);
 *   - argv[1] is "-m" and argv[2] is "pip" (python -m pip).
 * Only the arguments whose terminating NUL lies within the first
 * PIP_ARGV_SCAN bytes of argv (NULs counted) are looked at: the kernel
 * reads no more.  Nothing else is pip: not pipx, pipenv or pip-compile, not
 * the exec's file name, not "python -I -m pip". */
#define PIP_ARGV_SCAN 1024
#define PIP_NAME_MAX_SUFFIX 8

/* word's base name (after its last '/') is pip, pip3, pip3.11, ... */
bool pip_name_is_pip(const char *word);
bool pip_argv_is_pip(const char *const *argv);
/* Where pip's own arguments start in a command line: after the first word
 * that names pip (a pip name, pip's runner) or after the first "-m pip";
 * 0 when none does (then nothing of argv is pip's). */
size_t pip_argv_start(const char *const *argv);

/* ---- argv.c: pip's command line ------------------------------------------------ */

/* The options pipjail cares about; every other known option is
 * PIP_OPT_OTHER (its value, when it takes one, is skipped), an unknown one
 * PIP_OPT_UNKNOWN (taken for a flag). */
enum pip_opt {
	PIP_OPT_UNKNOWN, PIP_OPT_OTHER,
	PIP_OPT_REQUIREMENT,      /* -r, --requirement FILE */
	PIP_OPT_CONSTRAINT,       /* -c, --constraint FILE */
	PIP_OPT_EDITABLE,         /* -e, --editable PATH/URL */
	PIP_OPT_INDEX_URL,        /* -i, --index-url URL */
	PIP_OPT_EXTRA_INDEX_URL,  /* --extra-index-url URL */
	PIP_OPT_FIND_LINKS,       /* -f, --find-links URL/PATH */
	PIP_OPT_NO_INDEX,         /* --no-index */
	PIP_OPT_TARGET,           /* -t, --target DIR */
	PIP_OPT_PREFIX,           /* --prefix DIR */
	PIP_OPT_ROOT,             /* --root DIR */
	PIP_OPT_USER,             /* --user */
	PIP_OPT_OUTPUT_DIR,       /* -d, --dest, --destination-dir(ectory) DIR (download),
	                           * -w, --wheel-dir DIR (wheel) */
};

enum pip_arg_kind {
	PIP_ARG_COMMAND,          /* the first word that is not an option: install, wheel, ... */
	PIP_ARG_OPTION,
	PIP_ARG_REQUIREMENT,      /* a word after the command: a name, a path, a URL */
};

struct pip_arg {
	enum pip_arg_kind kind;
	enum pip_opt opt;         /* PIP_ARG_OPTION */
	char name[48];            /* the option as written, without "=value": "-i", "--index-url" */
	const char *value;        /* the option's value (NULL: a flag, or a value missing at
	                           * the end), the command, or the requirement */
};

/* Walks pip's arguments the way pip's option parser reads them: long
 * options with "=value" or the next word, short options bundled ("-qq",
 * "-qr FILE") with their value in the same word or the next, "--" ends the
 * options (nothing after it is read). */
struct pip_args {
	const char *const *words;
	size_t i;                 /* the word being read */
	size_t pos;               /* inside a bundle of short options: the next letter */
	bool command_seen;
	const char *command;      /* the command word, once seen */
};

/* Read words (NULL-terminated); command_seen: there is no command word to
 * come (the options of a requirements file line). */
void pip_args_init(struct pip_args *it, const char *const *words, bool command_seen);
bool pip_args_next(struct pip_args *it, struct pip_arg *a);
/* An option by its name in a configuration file or variable: "index-url",
 * "index_url", "Index-URL", "--index-url" (pip's normalisation).  Long
 * names only. */
enum pip_opt pip_option_by_name(const char *name);
/* The long name of an option pipjail cares about ("index-url"). */
const char *pip_option_name(enum pip_opt opt);

/* ---- names.c: project names, requirements, archive file names -------------------- */

/* PEP 503: lowercase, each run of "-", "_", "." becomes one "-" (malloc'd). */
char *pip_normalize_name(const char *name);

/* A project's name and version as pipjail shows them: at most 127 and 63
 * bytes of printable ASCII, without blanks, quotes or backslashes (names
 * and versions come from the package, which chooses them). */
struct pip_meta {
	char name[128], version[64];
	const char *source;       /* where they were read: "PKG-INFO", "the command line", ... */
};

/* Copy s (n bytes) into dst as such a value: blanks around it and one
 * pair of matching quotes removed, cut at the first byte that is not
 * allowed and at len - 1 bytes. */
void pip_meta_value(char *dst, size_t len, const char *s, size_t n);
/* The name and version an sdist or wheel file name carries (the part
 * after the last '/' and before any '#' or '?'): "demo-1.0.tar.gz",
 * "demo-1.0-py3-none-any.whl".  false when it is not one (m is cleared). */
bool pip_archive_meta(const char *path, struct pip_meta *m);
/* The project a requirement names: "name[extra]==1 ; marker" (the version
 * only when pinned with ==), "name @ url", "...#egg=name", or a URL or path
 * of an sdist or wheel.  false for anything else (a directory, a VCS URL
 * without #egg=). */
bool pip_requirement_meta(const char *req, struct pip_meta *m);
/* The local path a requirement names, as pip tells one (req/constructors.py):
 * a file: URL, "name @ file:..." (PEP 508), or a word that looks like a path
 * (a '/' in it, a leading '.') or names an archive ("x-1.0.tar.gz"), without
 * its "[extras]" and "; marker".  As written (may be relative); NULL for a
 * project name or another URL.  malloc'd. */
char *pip_requirement_path(const char *req);
/* The path of a file: URL ("file:///x", "file://localhost/x", "file:/x",
 * %-escapes decoded, no '#' or '?' part); NULL for any other.  malloc'd. */
char *pip_file_url_path(const char *url);

/* ---- metadata.c: a source tree's or an installed distribution's metadata ---------- */

#define PIP_META_MAX_BYTES (64 * 1024)   /* of a metadata file read */

/* Each parses a file's text; 0 when it names the project (m->name set),
 * -1 otherwise.  m->source says which it was. */
/* PKG-INFO or METADATA: the Name: and Version: headers, the first of each;
 * the headers end at the first empty line (the description follows, and
 * may hold anything). */
int pip_meta_from_pkginfo(const char *text, struct pip_meta *m);
/* pyproject.toml: [project] name and version. */
int pip_meta_from_pyproject(const char *text, struct pip_meta *m);
/* setup.cfg: [metadata] name and version ("attr:" and "file:" are not a
 * version). */
int pip_meta_from_setupcfg(const char *text, struct pip_meta *m);
/* setup.py: a literal name="..." / version="..." keyword. */
int pip_meta_from_setuppy(const char *text, struct pip_meta *m);
/* pip's unpack directories: "<name>_<32 hex>" (newer pip), "<name>-<version>"
 * (a local tree), "<name>"; "pip-*" and "tmp*" say nothing. */
int pip_meta_from_dirname(const char *dir, struct pip_meta *m);
/* "<name>.egg-info" or "<name>-<version>.dist-info" as a component of path:
 * setuptools' egg_info and every backend's metadata hook write one. */
int pip_meta_from_written(const char *path, struct pip_meta *m);
/* The jailed command's requirement when it names exactly one:
 * "pip install ./demo-1.0.tar.gz" -> demo 1.0, "pip install foo==2" -> foo 2. */
int pip_meta_from_argv(const char *const *argv, struct pip_meta *m);
/* Read the PKG-INFO or METADATA file path under dirfd (no symlink followed,
 * a regular file only, at most PIP_META_MAX_BYTES) and parse it as
 * pip_meta_from_pkginfo. */
int pip_meta_read_at(int dirfd, const char *path, struct pip_meta *m);

/* ---- requirements.c: requirements and constraints files --------------------------
 *
 * Read as pip reads them (pip/_internal/req/req_file.py): lines end at LF,
 * CR or CRLF; a line ending with '\' continues on the next (unless it is a
 * comment line); "#" at the start or after a blank starts a comment;
 * ${NAME} (upper case, digits, '_') is replaced by the variable when it is
 * set and not empty; the words up to the first one starting with "-" are
 * the requirement, the rest are options, split as a shell would; -r FILE
 * and -c FILE are read in turn, relative to the file that names them. */

#define PIP_REQ_MAX_BYTES (16u << 20)  /* a larger file is not read */
#define PIP_REQ_MAX_FILES 32           /* files read, nested ones included */
#define PIP_REQ_MAX_DEPTH 10           /* -r in -r in ... */

struct pip_req_line {
	const char *file;         /* the file as opened: cleaned, absolute when its dir was */
	unsigned line;            /* the first physical line of this logical line */
	bool constraint;          /* the file is a constraints file (-c), or nested in one */
	const char *requirement;  /* the requirement, or -e's value; NULL: an options line */
	bool editable;
	const char *const *words; /* the options (NULL-terminated) */
};

struct pip_req_reader {
	/* Opens a file: an fd or -1 (errno).  NULL: open(2), non-blocking (a
	 * FIFO must not hang the reader). */
	int (*open_file)(const char *path, void *ctx);
	void *open_ctx;
	char *const *envp;        /* for ${NAME}; NULL: nothing is replaced */
	/* Called for each file before its lines (may be NULL), and for each
	 * requirement or options line but those that name a nested file.  A
	 * nonzero return stops the reading and is returned. */
	int (*on_file)(void *ctx, const char *file, bool constraint);
	int (*on_line)(void *ctx, const struct pip_req_line *l);
	void *ctx;
	/* the files read so far (a file is read once) */
	char **seen;
	size_t n_seen;
};

/* Read path (relative to dir when relative and dir is given).  A file that
 * cannot be read is skipped (pip says why).  0, or what a callback
 * returned. */
int pip_requirements_read(struct pip_req_reader *r, const char *path, const char *dir,
			  bool constraint);
/* The same from the text of file (len bytes; need not be NUL-terminated). */
int pip_requirements_parse(struct pip_req_reader *r, const char *file, const char *text,
			   size_t len, bool constraint);
void pip_requirements_done(struct pip_req_reader *r);

/* ---- config.c and index.c: pip's configuration and where it finds its index ------- */

/* Where pip's configuration is read from.  Everything may be NULL. */
struct pip_config_src {
	char *const *argv;   /* the jailed command: "pip install -i URL ...",
	                      * "python3 -m pip ...": options after the pip
	                      * program or "-m pip" are read */
	char *const *envp;   /* environment pip will see (PIP_*, VIRTUAL_ENV,
	                      * XDG_CONFIG_HOME, PIP_CONFIG_FILE) */
	const char *home;    /* the home whose pip.conf pip will read */
	const char *cwd;     /* for relative requirement file paths */
	/* Opens a configuration or requirements file; NULL: open(2).  Lets
	 * the caller read with the invoking user's rights.  Returns an fd or
	 * -1 with errno. */
	int (*open_file)(const char *path, void *ctx);
	void *ctx;
	/* The pip.conf files outside home and $VIRTUAL_ENV, in pip's order;
	 * NULL: /etc/xdg/pip/pip.conf, /etc/pip.conf.  Tests point it at temp
	 * files. */
	const char *const *system_files;
};

/* envp's value of name, or NULL. */
const char *pip_env_get(char *const *envp, const char *name);
/* A configuration value pip takes for true: 1, true, yes, on. */
bool pip_config_truthy(const char *value);

/* One "key = value" of a pip.conf file. */
struct pip_config_item {
	const char *file;
	unsigned line;            /* of the key */
	const char *section;      /* lower case: "global", "install", ... */
	const char *key;          /* as written */
	const char *value;        /* continuation lines joined with a space */
};

/* The pip.conf files pip reads, in its order: $PIP_CONFIG_FILE (/dev/null:
 * no file at all), the system files, ~/.pip/pip.conf, the XDG one,
 * $VIRTUAL_ENV/pip.conf; each as Python's configparser reads it.  A file
 * that cannot be read is skipped (pip skips it too).  0, or the first
 * nonzero on_item returned. */
int pip_config_read(const struct pip_config_src *src,
		    int (*on_item)(void *ctx, const struct pip_config_item *it), void *ctx);
/* One file's text (len bytes), as pip_config_read reads each file. */
int pip_config_parse(const char *file, const char *text, size_t len,
		     int (*on_item)(void *ctx, const struct pip_config_item *it), void *ctx);

/* One place that sets where pip looks for packages. */
struct pip_index_setting {
	enum pip_opt opt;         /* INDEX_URL, EXTRA_INDEX_URL, FIND_LINKS or NO_INDEX */
	const char *value;        /* as written: one URL, or a list in a file or a
	                           * variable; NULL: the --no-index flag */
	const char *where;        /* "/etc/pip.conf:3 [global] index-url", "PIP_INDEX_URL",
	                           * "--extra-index-url", "/w/req.txt:2 -i" */
};

/* Every index setting pip will see, in this order: the pip.conf files
 * ([global], [install], [download], [wheel]), the PIP_INDEX_URL,
 * PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS and PIP_NO_INDEX variables, the
 * command line after pip (up to "--"), and the options lines of the
 * requirements and constraints files it names.  0, or the first nonzero
 * on_setting returned. */
int pip_index_settings(const struct pip_config_src *src,
		       int (*on_setting)(void *ctx, const struct pip_index_setting *s), void *ctx);
/* Does the command install anything in editable mode: -e on the command
 * line or in a requirements file it names (-r, nested ones included)? */
bool pip_installs_editable(const struct pip_config_src *src);

/* ---- env.c: where pip installs, and its cache ------------------------------------ */

/* The environment pip installs into when run as cmd (a path, or a
 * name looked up in $PATH): the venv of the interpreter its #! line names,
 * else the venv its directory belongs to, else $VIRTUAL_ENV; NULL: none.
 * malloc'd. */
char *pip_env_of_command(const char *cmd);
/* The interpreter that runs cmd (cmd itself when it is named python*, else
 * the one its #! line names), resolved; NULL: none.  malloc'd. */
char *pip_interpreter_of_command(const char *cmd);
/* pip's own --target/-t, --prefix, --root and --user (home/.local) name
 * where it installs; they win over the venv.  NULL: none given.  Dies when
 * a named directory does not exist. */
char *pip_target_option(const char *const *argv, const char *home);
/* The user's pip cache (~/.cache/pip of the password database's home, when
 * the user owns it), or NULL.  Never from PIP_CACHE_DIR: pipjail's init
 * opens it as root, and a variable could name someone else's directory. */
char *pip_cache_dir(const struct jail_user *u);

/* anchor.c: pip's own exec, the one rule of trust the kernel and the
 * jail's preload library follow (see anchor.c); the anchors are written
 * by the supervisor into the jail (/run/pipjail/anchors) before the
 * command starts. */
#include <stdio.h>
#include <sys/types.h>

#define PIP_ANCHOR_INTERPS 16
#define PIP_ANCHOR_TOOLS   512
#define PIP_ANCHOR_ENTRIES 64
#define PIP_ANCHOR_RW      64
struct pip_file {
	dev_t dev;
	ino_t ino;
};
struct pip_anchors {
	struct pip_file interps[PIP_ANCHOR_INTERPS];   /* the environment's interpreters */
	size_t n_interps;
	struct pip_file tools[PIP_ANCHOR_TOOLS];       /* pip's helper programs (git) */
	size_t n_tools;
	const char *entries[PIP_ANCHOR_ENTRIES];       /* pip's entry points, absolute */
	size_t n_entries;
	const char *rw[PIP_ANCHOR_RW];                 /* where a process that is not pip may write */
	size_t n_rw;
	/* A zip the PEP 517 hook runner finds after its PYTHONPATH: Debian's
	 * root-owned wheel wheel, when the environment has no `wheel` (see
	 * src/run/anchors.c, add_build_wheel); NULL: none. */
	const char *build_path;
};
/* Is the exec of the file (dev, ino) with argv pip's own: a helper
 * program, or an interpreter running an entry point or `-m pip`? */
bool pip_exec_is_pip(const struct pip_anchors *a, dev_t dev, ino_t ino, char *const *argv);
/* The anchors as text (one fact a line), and back: 0, or -1 (a line that
 * is not a fact, too many, a path with a newline).  parse: text is changed
 * in place and *a points into it. */
int pip_anchors_write(const struct pip_anchors *a, FILE *f);
int pip_anchors_parse(char *text, struct pip_anchors *a);

#endif
