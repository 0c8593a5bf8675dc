/* Path globs for profiles:
 *   *      any run of characters within one path segment (not '/')
 *   **     a whole segment that matches any run of segments, including none:
 *          "/a/" "**" matches "/a", "/a/b", "/a/b/c"; "/a/" "**" "/b" matches "/a/b"
 *   ?      one character, not '/'
 *   [...]  one character (not '/') of the set; [!...] or [^...] negates; a-z ranges
 *   \c     the character c itself
 *
 * Matching simulates the pattern as an NFA over the path, one pass, with
 * a state set the size of the pattern: no backtracking, so an adversarial
 * pattern or path costs O(pattern x path) at worst, never exponential. */
#ifndef PIPJAIL_GLOB_H
#define PIPJAIL_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#define GLOB_MAX 4096  /* longest pattern accepted, in bytes */

/* Is pattern well formed?  0, or -1 with the reason in err ("unterminated
 * '[' at offset 5"). */
int glob_check(const char *pattern, char *err, size_t errlen);

/* Does path match pattern (which glob_check accepted)?  A malformed pattern
 * matches nothing. */
bool glob_match(const char *pattern, const char *path);

/* The literal bytes a matching path must start with (up to the first
 * wildcard or escape), for a cheap pre-filter.  Returns its length. */
size_t glob_literal_prefix(const char *pattern);

/* A compiled pattern, for matching the same pattern against many paths. */
struct glob;
struct glob *glob_compile(const char *pattern, char *err, size_t errlen);
bool glob_match_compiled(const struct glob *g, const char *path);
void glob_free(struct glob *g);

/* Does s contain a glob metacharacter (* ? [ \)? */
bool glob_has_magic(const char *s);

/* Copy s into out (outlen bytes) with every metacharacter escaped, so that
 * it matches only itself.  false when it does not fit. */
bool glob_escape(const char *s, char *out, size_t outlen);

#endif
