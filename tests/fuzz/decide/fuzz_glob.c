/* libFuzzer target for the path glob matcher: pattern and path both come
 * from the input (profiles are untrusted; paths come from the traced
 * processes).  Checks that matching terminates quickly (no exponential
 * backtracking), never reads out of bounds, and agrees with itself:
 * glob_check accepting a pattern means it compiles, an escaped string
 * matches itself.
 *
 * Built and run by `make fuzz` (FUZZ_TIME seconds, build-fuzz/fuzz_glob,
 * linked with decide/ and the layers it may call); crash inputs go to
 * tests/fuzz/corpus/glob/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), err[256], *pattern, *path, *nl;
	struct glob *g;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* pattern \n path (NULs end either early, as C strings do) */
	pattern = buf;
	nl = memchr(buf, '\n', size);
	path = nl ? nl + 1 : buf + size;
	if (nl)
		*nl = '\0';

	g = glob_compile(pattern, err, sizeof(err));
	if ((glob_check(pattern, err, sizeof(err)) == 0) != (g != NULL))
		abort();
	if (g) {
		bool a = glob_match_compiled(g, path), b = glob_match(pattern, path);

		if (a != b)
			abort();
		glob_free(g);
	}
	{
		size_t n = strlen(path) * 2 + 1;
		char *esc = malloc(n);

		if (esc && glob_escape(path, esc, n) && *path && strlen(path) <= GLOB_MAX / 2) {
			/* "**" in a literal path is fine once escaped */
			if (!glob_match(esc, path))
				abort();
		}
		free(esc);
	}
	free(buf);
	return 0;
}
