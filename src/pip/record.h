/* The RECORD file of an installed distribution (PEP 376, PEP 627, the
 * "Recording installed projects" spec): CSV, one row per installed file,
 * "path,algorithm=urlsafe-b64-nopad-digest,size".  The file comes from the
 * package being installed, so it is untrusted: the parser is bounded, never
 * trusts a length, and rejects rather than guesses. */
#ifndef PIPJAIL_RECORD_H
#define PIPJAIL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RECORD_MAX_BYTES   (64u << 20) /* a RECORD larger than this is refused */
#define RECORD_MAX_FIELD   8192        /* one field (a path) */
#define RECORD_MAX_ROWS    1000000
#define RECORD_MAX_DIGEST  64          /* sha512 is the largest hashlib digest in use */

enum record_hash {
	RECORD_HASH_NONE = 0,  /* empty field: RECORD itself, or a generated file */
	RECORD_HASH_SHA256,    /* digest holds 32 bytes */
	RECORD_HASH_OTHER,     /* a well-formed hash of another algorithm (algo names it) */
	RECORD_HASH_BAD,       /* malformed: no '=', bad base64, wrong length */
};

struct record_entry {
	char *path;            /* as written: relative to the dist-info's parent, or absolute */
	enum record_hash hash;
	char algo[16];         /* "sha256", ... ("" when none or bad) */
	uint8_t digest[RECORD_MAX_DIGEST];
	size_t digest_len;
	bool has_size;
	bool size_bad;         /* a size field that is not a decimal number */
	uint64_t size;
};

struct record {
	struct record_entry *e;
	size_t n;
};

/* Parse len bytes of buf (need not be NUL-terminated).  0 on success; -1
 * with a message in err for input that is not a RECORD at all (unterminated
 * quote, a row with more than three fields, a NUL byte, a field or file over
 * the limits).  Rows with a bad hash or size are kept and flagged: the
 * caller decides. */
int record_parse(const char *buf, size_t len, struct record *out, char *err, size_t errlen);

/* Read and parse the file name under dirfd (no symlinks followed). */
int record_read_at(int dirfd, const char *name, struct record *out, char *err, size_t errlen);

/* installed-files.txt, the manifest pip writes into the .egg-info of a
 * legacy `setup.py install`: one path per line (LF or CRLF), relative to
 * the .egg-info directory, no hash and no size.  The rows come out as
 * RECORD rows with hash RECORD_HASH_NONE and has_size false; empty lines
 * are skipped; a NUL byte, a line over RECORD_MAX_FIELD, more than
 * RECORD_MAX_ROWS lines or a file over RECORD_MAX_BYTES is refused. */
int record_parse_lines(const char *buf, size_t len, struct record *out, char *err, size_t errlen);
int record_read_lines_at(int dirfd, const char *name, struct record *out, char *err, size_t errlen);

void record_free(struct record *r);

/* urlsafe base64 without padding (as RECORD uses); returns the decoded
 * length or -1 on a bad character, a bad length or an overflow of outlen. */
ssize_t b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen);
/* Encode n bytes into out (room for 4*ceil(n/3)+1); returns the length. */
size_t b64url_encode(const uint8_t *in, size_t n, char *out);

#endif
