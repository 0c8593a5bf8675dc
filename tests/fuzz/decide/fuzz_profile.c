/* libFuzzer target for the profile loader (a user's or a project's
 * .pipjail.json is untrusted input), then the engine compiling it.
 *
 * Built and run by `make fuzz` (FUZZ_TIME seconds, build-fuzz/fuzz_profile,
 * linked with decide/ and the layers it may call); crash inputs go to
 * tests/fuzz/corpus/profile/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide/engine.h"

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
