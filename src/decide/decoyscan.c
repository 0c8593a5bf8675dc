/* Decoy tokens in bytes that left a process (a sinkhole capture, a proxy
 * request, a staged file): as is, in hex, or in base64 (standard or
 * URL-safe, at any of the three alignments). */
#include <string.h>

#include "base/base.h"
#include "decide/engine.h"

/* Does data carry a decoy token: as is, in hex, or in base64 (standard or
 * URL-safe, at any of the three alignments)?  Its index, or -1; *how says
 * which encoding. */
int engine_find_decoy(const struct engine *e, const unsigned char *data, size_t n, bool nocase,
		      const char **how)
{
	const char *where, *tok;

	for (size_t i = 0; (tok = engine_decoy(e, i, &where)); i++) {
		size_t tl = strlen(tok);
		autofree char *hex = xmalloc(2 * tl + 1);
		autofree unsigned char *pad = xmalloc(tl + 3);
		autofree char *b64 = xmalloc(2 * tl + 8);

		if (mem_contains(data, n, tok, nocase)) {
			*how = "as is";
			return (int)i;
		}
		hex_encode(tok, hex, false);
		if (mem_contains(data, n, hex, true)) {
			*how = "hex";
			return (int)i;
		}
		for (size_t k = 0; k < 3; k++) {
			size_t start = k ? 4 : 0;

			memset(pad, 0, k);
			memcpy(pad + k, tok, tl);
			for (int safe = 0; safe < 2; safe++) {
				b64_encode(pad, tl + k, b64, safe);
				if (strlen(b64) > start + 12 && mem_contains(data, n, b64 + start, false)) {
					*how = safe ? "base64url" : "base64";
					return (int)i;
				}
			}
		}
	}
	return -1;
}
