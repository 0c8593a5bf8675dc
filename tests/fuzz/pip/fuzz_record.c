/* libFuzzer target for the RECORD parser (untrusted input from every wheel).
 *
 * Build and run (60 s; crash inputs go to tests/fuzz/corpus/record/):
 *   clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -Isrc -Iinclude -o build/fuzz_record \
 *     tests/fuzz/fuzz_record.c src/record.c src/sha256.c src/util.c
 *   build/fuzz_record -max_total_time=60 -max_len=65536 \
 *     -artifact_prefix=tests/fuzz/corpus/record/ tests/fuzz/corpus/record/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pip/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record r;
	char err[256];
	uint8_t out[RECORD_MAX_DIGEST];

	if (record_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			/* Invariants the staging check relies on. */
			if (!r.e[i].path || !r.e[i].path[0])
				abort();
			if (r.e[i].hash == RECORD_HASH_SHA256 && r.e[i].digest_len != 32)
				abort();
			if (r.e[i].digest_len > RECORD_MAX_DIGEST)
				abort();
		}
		record_free(&r);
	} else if (r.e || r.n) {
		abort();
	}
	/* The base64 decoder alone, and its round trip. */
	{
		ssize_t n = b64url_decode((const char *)data, size < 200 ? size : 200, out, sizeof(out));

		if (n > (ssize_t)sizeof(out))
			abort();
		if (n > 0) {
			char enc[4 * RECORD_MAX_DIGEST / 3 + 8];
			uint8_t back[RECORD_MAX_DIGEST];
			size_t el = b64url_encode(out, (size_t)n, enc);

			if (b64url_decode(enc, el, back, sizeof(back)) != n || memcmp(back, out, (size_t)n))
				abort();
		}
	}
	return 0;
}
