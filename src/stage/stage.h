/* Staged, all-or-nothing install (docs/staging.md).
 *
 * The target environment is shown in the jail as an overlay: the real
 * directory below (read-only), this stage's upper/ above.  When the command
 * has ended, the stage is scanned (what changed), checked (every new or
 * changed file is declared by the RECORD of a distribution this run
 * installed), and then either committed into the real environment through
 * a journal, or discarded.
 *
 * Call order (the supervisor):
 *   stage_prepare(&s, target, &user, err, len)     before the jail starts
 *   cfg.stage_target = target, cfg.stage_upper = stage_upper(s),
 *   cfg.stage_work = stage_work(s)                  overlay: lowerdir=target,
 *       upperdir=upper, workdir=work, options redirect_dir=off,metacopy=off,
 *       index=off (stage_scan refuses redirects and metacopy files)
 *   ... the jail runs; its mount namespace is gone (overlay unmounted) ...
 *   stage_scan(s, err, len)                         -1: discard
 *   n = stage_check(s, &opts, &hooks)               n > 0: violations -> discard
 *       (src/run/install.c: install_check_stage turns findings into violations)
 *   dry run: stage_report_text(s, stdout, NULL), then stage_discard(s)
 *   clean: block signals; stage_commit(s, err, len); unblock
 *   always last: stage_discard(s)                    (frees s; keeps the stage
 *       directory only when a commit failed half-way and needs `pipjail recover`)
 */
#ifndef PIPJAIL_STAGE_H
#define PIPJAIL_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "pip/pip.h"

struct stage;

enum stage_what {
	STAGE_ADDED = 0,
	STAGE_CHANGED,
	STAGE_REMOVED,
};
const char *stage_what_name(enum stage_what w);

/* One file (or symlink) that the install added, changed or removed. */
struct stage_file {
	char *path;            /* relative to the target */
	enum stage_what what;
	char type;             /* 'f' regular, 'l' symlink, 'o' other (fifo, device) */
	int dist;              /* index into stage_result.dists, -1: none */
	const char *rule;      /* the finding's rule (STAGE_RULE_*), with reason */
	char *reason;          /* why it is a violation; NULL when allowed */
	char *extra;           /* a second finding (rule token-in-file), or NULL */
	uint32_t writer;       /* host pid of the last writer (violations only), 0: unknown */
};

/* The rules of the staging check's findings (docs/staging.md, "Check"). */
#define STAGE_RULE_UNDECLARED "undeclared-file"  /* not declared, or another distribution's */
#define STAGE_RULE_ENV_FILE   "env-file"         /* a file of the environment itself */
#define STAGE_RULE_PIP_CONFIG "pip-config"       /* a new or changed pip.conf / pip.ini */
#define STAGE_RULE_PTH_CODE   "pth-code"         /* a declared .pth that runs code */
#define STAGE_RULE_STARTUP    "startup-hook"     /* a declared sitecustomize/usercustomize */
#define STAGE_RULE_PYC        "pyc-mismatch"     /* bytecode that is not its source's */
#define STAGE_RULE_TOKEN      "token-in-file"    /* a secret of this run in a staged file */
#define STAGE_RULE_META       "meta-change"      /* a directory kept in place got another mode or owner */

/* A distribution this run installed, upgraded or removed. */
struct stage_dist {
	char *name;            /* from the dist-info directory name (an egg-info's PKG-INFO) */
	char *version;
	char *dist_info;       /* relative to the target (a *.dist-info or *.egg-info) */
	bool legacy;           /* a legacy `setup.py install`: its .egg-info's
	                        * installed-files.txt lists the files, without hashes */
	bool installed;        /* its RECORD is new or changed: installed by this run */
	bool removed;          /* its old RECORD is gone or replaced (uninstall, upgrade) */
	bool record_bad;       /* RECORD could not be parsed (record_error says why) */
	char *record_error;
	size_t n_added, n_changed, n_removed;
};

struct stage_result {
	struct stage_file *files;
	size_t n_files;
	struct stage_dist *dists;
	size_t n_dists;
	size_t n_violations;
};

/* One finding of stage_check, handed to stage_hooks.report: the caller
 * (src/run/install.c) turns it into a violation of the run. */
struct stage_finding {
	const char *rule;      /* STAGE_RULE_* */
	const char *evidence;  /* "<target>/<path>: <reason>" */
	const char *reason;
	uint32_t writer;       /* host pid of the last writer, 0: unknown */
	/* The distribution whose RECORD names the file, NULL: none. */
	const char *package, *version;
};

/* What stage_check needs from the decision engine.  report is required;
 * every other hook may be NULL (that check is not made). */
struct stage_hooks {
	void (*report)(void *ctx, const struct stage_finding *f);
	/* The host pid that last wrote abs_path (the path as the jail saw it,
	 * which is the same as the host's: the target is shown in place). */
	uint32_t (*writer_of)(void *ctx, const char *abs_path);
	/* Is hpid (from writer_of; 0: unknown) pip, the installer, rather than
	 * a process of a build or of the import check?  A manifest that such a
	 * process wrote or removed is no install or uninstall of pip's. */
	bool (*is_installer)(void *ctx, uint32_t hpid);
	/* Does data hold a secret of this run (a decoy token, plain or
	 * encoded)?  true, with what was found in what (one line). */
	bool (*find_token)(void *ctx, const unsigned char *data, size_t n, char *what, size_t len);
	/* Is the bytecode file rel (relative to the target), whose content has
	 * this sha256, what the environment's interpreter makes of its source?
	 * NULL: yes; else why not (malloc'd). */
	char *(*pyc_check)(void *ctx, const char *rel, const uint8_t *digest);
	/* Did the start-up probe (the environment's interpreter and pip
	 * started on the stage, src/run/install.c) open or execute abs_path?
	 * NULL: the probe did not run. */
	bool (*probe_opened)(void *ctx, const char *abs_path);
	/* Optional, for the text report: "pip → build_wheel → python3 (pid 42)". */
	void (*describe)(void *ctx, uint32_t hpid, char *buf, size_t len);
	void *ctx;
};

/* target: absolute path of an existing directory (symlinks are resolved
 * here).  Creates the stage next to it on the same filesystem:
 * <parent>/.pipjail-stage.<name>.<random>/{upper,work}, mode 0700, created
 * with the user's rights (and then owned by root when pipjail is root, so
 * that nothing outside pipjail can change the stage between check and
 * commit).  When the user cannot create it there, /var/tmp is used; if that
 * is another filesystem, commit copies the stage into the target first. */
int stage_prepare(struct stage **out, const char *target, const struct jail_user *u,
		  char *err, size_t errlen);

const char *stage_target(const struct stage *s);
const char *stage_dir(const struct stage *s);
const char *stage_upper(const struct stage *s);
const char *stage_work(const struct stage *s);

/* May the jail's view of abs_path differ from the target's: does the
 * upper layer hold an entry at it, or hide it?  (A path outside the target
 * is never touched.)  Any time after stage_prepare. */
bool stage_touched(struct stage *s, const char *abs_path);

/* Read the upper layer: whiteouts, opaque directories, new and changed
 * files, per distribution.  Only after the overlay is unmounted. */
int stage_scan(struct stage *s, char *err, size_t errlen);

/* What the run asked for, as the check needs it. */
struct stage_check_opts {
	/* pip installs in editable mode (-e, on the command line or in a
	 * requirements file): setuptools' editable finder lines may run. */
	bool editable;
};

/* Hold every change against the manifests of the environment as it was
 * before the run and of the installs pip made: returns the number of
 * findings (each also sent to hooks->report), or -1 when stage_scan did
 * not run.  o may be NULL (all false). */
int stage_check(struct stage *s, const struct stage_check_opts *o, const struct stage_hooks *h);

const struct stage_result *stage_result(const struct stage *s);

/* The report section: per distribution, files added/changed/removed, and
 * every violation with its writer.  h may be NULL (no process chains). */
void stage_report_text(const struct stage *s, FILE *f, const struct stage_hooks *h);
/* Adds "staging": {"target", "committed", "distributions": [...],
 * "undeclared": [...]} to obj. */
void stage_report_json(const struct stage *s, cJSON *obj);

/* Apply the stage to the target (see docs/staging.md for the journal).  On
 * an error the operations done so far are rolled back; if even that fails
 * the journal stays for `pipjail recover`.  Run it with signals blocked. */
int stage_commit(struct stage *s, char *err, size_t errlen);
bool stage_committed(const struct stage *s);

/* Remove the stage directory (unless a half-done commit needs recovery),
 * release the lock and free s.  NULL is fine. */
void stage_discard(struct stage *s);

/* Recovery of one stage directory left by an interrupted run: roll an
 * unfinished commit forward (or back with rollback=true), or discard a
 * stage that never started to commit.  Returns 0, 1 when the stage is in
 * use by a running pipjail (nothing done), or -1. */
int stage_recover_dir(const char *dir, bool rollback, FILE *log, char *err, size_t errlen);


#include "stage/journal.h"

#endif
