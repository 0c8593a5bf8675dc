/* pipjail analyze --batch: what batch.c (options, the scheduler, the
 * children), batch_list.c (LIST, keys, the package folders as the user)
 * and batch_summary.c (result.json, summary.json, index.html) share.
 * Internal to src/cmd/; the files' formats are in docs/report-format.md. */
#ifndef PIPJAIL_CMD_BATCH_H
#define PIPJAIL_CMD_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "base/base.h"
#include "cmd/analyze.h"

#define BATCH_RESULT_FORMAT  "pipjail-batch-result"
#define BATCH_SUMMARY_FORMAT "pipjail-batch-summary"
#define BATCH_FORMAT_VERSION 1
#define BATCH_KEY_MAX        64

struct batch_opts {
	const char *list;            /* --batch LIST */
	struct analyze_opts a;       /* --out DIR; the rest passed on to each analysis */
	bool merge, retry_errors;
	unsigned jobs;
	unsigned shard_i, shard_n;   /* --shard I/N; 0/1 without */
};

enum pkg_state {
	PKG_OTHER,     /* not in this shard */
	PKG_TODO,      /* to analyse */
	PKG_BUSY,      /* locked by another process: tried again later */
	PKG_RUNNING,
	PKG_DONE,      /* a result, from this run or an earlier one */
	PKG_CUT,       /* cut short: no result (a re-run redoes it) */
};

struct batch_pkg {
	char *entry;                 /* the LIST line without blanks and comment */
	char *spec;                  /* what analyze gets: an absolute path, or NAME==VERSION */
	char key[BATCH_KEY_MAX];     /* the folder's name: DIR/pkgs/<key>/ */
	unsigned lineno;             /* in LIST, from 1 */
	size_t index;                /* among LIST's packages, from 0 */
	/* this run */
	enum pkg_state state;
	bool done_before;            /* its result was there when the batch started */
	pid_t pid;
	int lock_fd;
	uint64_t start_ns, deadline_ns, retry_ns;
	int watchdog;                /* 1: SIGTERM sent for overrunning, 2: SIGKILL */
	bool violation;
};

struct batch {
	struct batch_opts o;
	struct jail_user user;
	struct batch_pkg *pkgs;
	size_t n;
	char *pkgs_dir;              /* DIR/pkgs */
	char *list_abs;              /* LIST from / (for summary.json) */
};

/* batch_list.c ------------------------------------------------------------ */

/* Read LIST (with the user's rights): every package line, its key and
 * spec.  -1 when LIST cannot be read (said why). */
int batch_read_list(struct batch *b);
/* The key of an entry: a safe name from it and a short hash of it, the
 * same wherever and whenever the line is read. */
void batch_key(const char *entry, char key[BATCH_KEY_MAX]);
/* "DIR/pkgs/<key>" + suffix (malloc'd). */
char *batch_pkg_path(const struct batch *b, const struct batch_pkg *p, const char *suffix);
/* DIR and DIR/pkgs made (as the user) when missing.  -1: said why. */
int batch_make_dirs(const struct batch *b);
/* What a cut-short analysis left (DIR/pkgs/<key>/ and <key>.log), removed
 * as the user.  0 or an errno value. */
int batch_clear_pkg(const struct batch *b, const struct batch_pkg *p);
/* data written to dir/name atomically, as the user.  0 or an errno value. */
int batch_write_as_user(const struct batch *b, const char *dir, const char *name,
			const char *data, size_t len);
/* After the child: DIR/pkgs/<key>/ exists, the log moved into it as
 * analyze.log; which of the outputs are there (BATCH_HAS_*), as the user. */
enum { BATCH_HAS_REPORT = 1, BATCH_HAS_TRACE = 2, BATCH_HAS_HTML = 4, BATCH_HAS_PAYLOADS = 8,
       BATCH_HAS_LOG = 16 };
int batch_settle_pkg(const struct batch *b, const struct batch_pkg *p);
/* The end of a file, read as the user (at most max bytes; NULL when absent). */
char *batch_read_tail(const struct batch *b, const char *path, size_t max);

/* batch_summary.c --------------------------------------------------------- */

/* The package's result.json, when it is there and is a result of this
 * entry (format, key, line); NULL otherwise.  Caller deletes. */
cJSON *batch_load_result(const struct batch *b, const struct batch_pkg *p);
/* A result that --retry-errors analyses again. */
bool batch_result_retryable(const cJSON *result);
/* A finished child (its wait status, how long it took, when it started):
 * its result written as DIR/pkgs/<key>/result.json, last, and returned
 * (caller deletes).  NULL when the analysis was cut short (killed,
 * interrupted) or the result could not be written: no result then. */
cJSON *batch_record(struct batch *b, struct batch_pkg *p, int status, double seconds,
		    const char *started);
/* The verdict of a result, and its number of violations. */
const char *batch_result_verdict(const cJSON *result, unsigned *violations);
/* DIR/summary.json and DIR/index.html from every result in DIR for the
 * packages of LIST.  0, or -1 (said why). */
int batch_write_summary(const struct batch *b);

/* Pure parts, for the unit tests: the verdict of a finished analysis from
 * its wait status and report (NULL when absent); NULL when it was cut
 * short.  reason: why it is not plainly clean or violation, or "". */
const char *batch_classify(int status, const cJSON *report, const char *log_tail, bool overran,
			   unsigned long long timeout_s, char *reason, size_t reason_len);
/* A LIST line reduced to its entry (blanks and a "  # comment" cut), in
 * place; NULL for a blank or comment line. */
char *batch_entry(char *line);

#endif
