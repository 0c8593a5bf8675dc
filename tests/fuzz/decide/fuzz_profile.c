/* libFuzzer target for the profile loader (a user's or a project's
 * .pipjail.json is untrusted input), then the engine compiling it.
 *
 * Build and run (60 s; crash inputs go to tests/fuzz/corpus/profile/):
 *   clang -g -O1 -std=gnu11 -D_GNU_SOURCE -DPIPJAIL_VERSION='"fuzz"' \
 *     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc -Iinclude \
 *     -o build/fuzz_profile tests/fuzz/fuzz_profile.c src/profile.c src/glob.c \
 *     src/match.c src/verdict.c src/proctree.c src/trace.c src/util.c -lcjson
 *   build/fuzz_profile -max_total_time=60 -max_len=8192 \
 *     -artifact_prefix=tests/fuzz/corpus/profile/ tests/fuzz/corpus/profile/ profiles/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide/engine.h"
#include "decide/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* "extends" resolves names in a directory that does not exist: the
	 * loader must fail cleanly, never read the fuzzer's files. */
	struct profile_source src = { .dir = "/nonexistent-pipjail-fuzz" };
	char err[1024];
	struct profile *p = profile_load_buffer((const char *)data, size, "fuzz.json", &src, err,
						sizeof(err));
	struct engine *e;

	if (!p) {
		/* one line, bounded */
		if (!memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	profile_set_defaults(p, "/home/u", "/work", "/venv");
	profile_set_var(p, "PROXY", "3128");
	e = engine_new(p, false);
	engine_free(e);
	cJSON_Delete(profile_to_json(p));
	profile_free(p);
	return 0;
}
