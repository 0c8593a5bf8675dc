/* The commit journal of a staged install (docs/staging.md, "Commit").
 *
 * A commit directory on the target's filesystem holds upper/ (what to put
 * in place), backup/ (what it replaced), the journal (the operations, written
 * and fsync'd before the first one runs) and, at the end, done.  Every
 * operation is idempotent and reversible from what the filesystem shows, so
 * after an interruption the journal can be rolled forward or back. */
#ifndef PIPJAIL_JOURNAL_H
#define PIPJAIL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum jop_kind {
	JOP_REPLACE = 'R', /* upper/P -> target/P; an old target/P goes to backup/<i> */
	JOP_DELETE  = 'D', /* target/P -> backup/<i> (a whiteout) */
	JOP_META    = 'M', /* a directory kept in place: mode and owner as in upper */
};

struct jop {
	char kind;
	char *rel;                     /* relative to the target, no "." or ".." */
	uint32_t mode, uid, gid;       /* JOP_META: the new values */
	uint32_t old_mode, old_uid, old_gid;
};

#define JOURNAL_NAME "journal"
#define JOURNAL_DONE "done"

/* Write the journal into cdirfd (tmp file, fsync, rename, fsync dir). */
int journal_write(int cdirfd, const char *target, const struct jop *ops, size_t n,
		  char *err, size_t errlen);
/* Read it back.  0, or -1 (err) for a missing or damaged journal. */
int journal_read(int cdirfd, char **target, struct jop **ops, size_t *n, char *err, size_t errlen);
void jops_free(struct jop *ops, size_t n);

/* Run ops[0..n) forward.  stop_after >= 0 is the test hook: stop at that
 * half-step (2i: before op i, 2i+1: inside op i, after its old entry was
 * saved, or just after op i when it has no such point) and return -2.  On an error returns -1 with *failed_at set. */
int journal_forward(int cdirfd, int targetfd, const struct jop *ops, size_t n,
		    long stop_after, size_t *failed_at, char *err, size_t errlen);
/* Undo ops[0..n) in reverse order, each from what the filesystem shows. */
int journal_backward(int cdirfd, int targetfd, const struct jop *ops, size_t n,
		     char *err, size_t errlen);

/* fsync the target's filesystem, then create "done" durably. */
int journal_mark_done(int cdirfd, int targetfd, char *err, size_t errlen);
bool journal_is_done(int cdirfd);
bool journal_exists(int cdirfd);

#endif
