/* Decoy tokens in bytes that left a process (a sinkhole capture, a proxy
 * request, a staged file): as is, in hex, or in base64 (standard or
 * URL-safe, at any of the three alignments).  The search is tokscan.c's. */
#include "decide/engine_priv.h"

int engine_find_decoy(const struct engine *e, const unsigned char *data, size_t n, bool nocase,
		      const char **how)
{
	return tokscan_find(e->tokscan, data, n, nocase, how, NULL);
}
