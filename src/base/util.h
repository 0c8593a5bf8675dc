/* Small helpers shared by every part of pipjail: error reporting in one
 * format, checked allocation, and cleanup attributes so that every early
 * return releases what it took (the bubblewrap style). */
#ifndef PIPJAIL_UTIL_H
#define PIPJAIL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes, documented in README.md ("Exit codes"). */
enum {
	EXIT_VIOLATION_FOUND  = 100, /* --audit: violations recorded, nothing killed */
	EXIT_VIOLATION_KILLED = 101, /* enforce: a violator was killed */
	EXIT_INCOMPLETE       = 102, /* the trace lost events: never "clean" */
	EXIT_TIMEOUT          = 124, /* --timeout expired, the jail was killed */
	EXIT_PIPJAIL_ERROR    = 125, /* usage, bad profile, missing feature, not root */
	EXIT_NOT_EXECUTABLE   = 126,
	EXIT_NOT_FOUND        = 127,
};

/* pipjail's own directory in every jail (root's, on the jail's /run tmpfs):
 * the preload library, the anchors of trust (src/run/anchors.c), pip's
 * cache.  The jail creates it, the supervisor fills it, the engine knows
 * its files as pipjail's own. */
#define JAIL_RUN_DIR     "/run/pipjail"
#define JAIL_PRELOAD     JAIL_RUN_DIR "/preload.so"
#define JAIL_ANCHORS     JAIL_RUN_DIR "/anchors"
#define JAIL_PIP_CACHE   JAIL_RUN_DIR "/pip-cache"

/* Print "pipjail: <message>" to stderr. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, with ": <strerror(errno)>" appended. */
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print and exit with EXIT_PIPJAIL_ERROR. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Verbosity: 0 quiet, 1 (-v) steps, 2 (-vv) details. */
extern int pj_verbose;
void debugx(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write all of buf, retrying on EINTR and short writes. 0 or -1 (errno). */
int write_all(int fd, const void *buf, size_t len);
/* Read up to len bytes, retrying on EINTR until EOF or len. Bytes read or -1. */
ssize_t read_all(int fd, void *buf, size_t len);
/* Write a whole small file (create or truncate), e.g. a cgroup or /proc knob. */
int write_file(const char *path, const char *content);
/* mkdir -p with the given mode; 0 or -1 (errno). */
int mkdir_p(const char *path, mode_t mode);
/* Create the parent directories of base/rel that are missing (not rel's
 * last component), 0700 and owned by uid:gid: the way a home directory's
 * ~/.ssh or ~/.cache is laid out.  0 or -1 (errno). */
int mkdir_parents_owned(const char *base, const char *rel, uid_t uid, gid_t gid);
/* Fill buf with n random bytes from getrandom(); dies on failure. */
void random_bytes(void *buf, size_t n);
/* Random lowercase hex string of n characters into out (n+1 bytes). */
void random_hex(char *out, size_t n);
/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);
/* Parse a decimal unsigned integer in [min,max]; false on junk or overflow. */
bool parse_uint(const char *s, unsigned long long min, unsigned long long max,
		unsigned long long *out);
/* Does path start with dir as a path prefix ("/a/b" is under "/a", "/ab" is not)? */
bool path_is_under(const char *path, const char *dir);

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
#define autofree  __attribute__((cleanup(freep)))
#define autoclose __attribute__((cleanup(closep)))

/* Hand ownership out of an autofree/autoclose variable. */
#define steal_pointer(pp) ({ __typeof__(*(pp)) p_ = *(pp); *(pp) = NULL; p_; })
#define steal_fd(fdp) ({ int fd_ = *(fdp); *(fdp) = -1; fd_; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A one-line reason into err (errlen bytes); nothing when err is NULL. */
void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Write doc (then freed) to fd, indented, with a final newline.  0, or -1
 * with errno. */
struct cJSON;
int json_write_fd(struct cJSON *doc, int fd);

/* src/base/path.c: path (made absolute against dir when relative) with
 * ".", ".." and repeated '/' resolved lexically, into out (len bytes).
 * 0, or -1 when the result would not fit or path is relative and dir is
 * not absolute (a pseudo file such as "pipe:[12]" or "anon_inode:[x]").
 * Never writes past len. */
int path_clean_abs(char *out, size_t len, const char *dir, const char *path);
/* base/path (relative) cleaned the same way; NULL when it is empty or a
 * ".." leaves it.  malloc'd. */
char *path_clean_rel(const char *base, const char *path);
/* Escape a path for one line of text: bytes < 0x21, '%' and >= 0x7f become
 * %XX.  Returns a new string. */
char *path_escape(const char *s);
/* The reverse; NULL for a bad escape or a NUL byte. */
char *path_unescape(const char *s);

/* src/base/fs.c: remove name under dirfd and everything below it, never
 * following a symlink.  0, or -1 (errno) on the first failure. */
int rmtree_at(int dirfd, const char *name);
/* Replace name under dirfd with len bytes of buf, atomically: a reader sees
 * the old file or the whole new one, also after a crash (a temporary
 * ".name.tmp.PID" written and fsync'd, renamed over name, the directory
 * fsync'd).  0, or -1 (errno). */
int write_atomic_at(int dirfd, const char *name, const void *buf, size_t len);

/* src/base/hash.c: 64-bit FNV-1a of n bytes, continuing from h (start
 * with FNV1A_INIT): tables keyed by paths, and the profile's hash. */
#define FNV1A_INIT 14695981039346656037ull
uint64_t fnv1a(uint64_t h, const void *buf, size_t n);

/* src/base/netns.c: bring up lo in the calling thread's net namespace (a
 * new one has it down, without addresses).  0, or -1 with a reason. */
int netns_loopback_up(char *err, size_t errlen);

/* src/base/encode.c: hex (2n+1 bytes of out) and base64 (standard or
 * URL-safe, 4*ceil(n/3)+1 bytes; a trailing partial group is left out) of
 * in; does hay hold needle (case-insensitively when nocase)? */
void hex_encode(const char *in, char *out, bool upper);
void b64_encode(const unsigned char *in, size_t n, char *out, bool urlsafe);
bool mem_contains(const unsigned char *hay, size_t n, const char *needle, bool nocase);


#endif
