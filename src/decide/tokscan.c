/* Finding the run's decoy tokens in bytes, in one pass.  Every form a token
 * is looked for in is a needle: as is, in hex (either case), in base64
 * (standard and URL-safe, at the three alignments: the first group, which
 * depends on the bytes before the token, is left out).  The pass looks up
 * the case-folded four bytes at each position in a 64 Ki-bit filter of the
 * needles' first four bytes and compares only when the filter says so.
 *
 * Why: every exec's argv and environment are scanned (configure runs
 * thousands of execs), and so are proxied requests and captures; one
 * memmem per needle would be ~100 passes over the same bytes. */
#include "decide/engine_priv.h"

#include <string.h>
#include <strings.h>

#include "base/base.h"

enum tok_form { TF_PLAIN, TF_HEX, TF_B64, TF_B64URL };

static const char *const form_names[] = {
	[TF_PLAIN] = "as is", [TF_HEX] = "hex", [TF_B64] = "base64", [TF_B64URL] = "base64url",
};

struct tok_needle {
	char *s;
	size_t len;
	int decoy;                /* index in the engine's decoys */
	enum tok_form form;
	uint16_t key;             /* filter bit of its first four bytes, folded */
};

#define TOK_FILTER_BITS 65536

struct tokscan {
	struct tok_needle *v;
	size_t n;
	size_t min_len;
	uint64_t filter[TOK_FILTER_BITS / 64];
};

static inline uint32_t fold_byte(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (uint32_t)c + 32 : c;
}

/* Bytes p[0..3], case-folded, as p[0] in the low byte. */
static inline uint32_t fold4(const unsigned char *p)
{
	return fold_byte(p[0]) | fold_byte(p[1]) << 8 | fold_byte(p[2]) << 16 | fold_byte(p[3]) << 24;
}

static inline uint16_t key_of(uint32_t folded)
{
	return (uint16_t)((folded * 2654435761u) >> 16);
}

static void add_needle(struct tokscan *t, const char *s, size_t len, int decoy, enum tok_form form)
{
	struct tok_needle *nd;

	if (len < 4)
		return;
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	nd = &t->v[t->n++];
	nd->s = xasprintf("%.*s", (int)len, s);
	nd->len = len;
	nd->decoy = decoy;
	nd->form = form;
	nd->key = key_of(fold4((const unsigned char *)s));
	t->filter[nd->key / 64] |= 1ull << (nd->key % 64);
	if (!t->min_len || len < t->min_len)
		t->min_len = len;
}

struct tokscan *tokscan_build(const struct edecoy *d, size_t n)
{
	struct tokscan *t = xcalloc(1, sizeof(*t));

	for (size_t i = 0; i < n; i++) {
		const char *tok = d[i].token;
		size_t tl = strlen(tok);
		autofree char *hex = xmalloc(2 * tl + 1);
		autofree unsigned char *pad = xmalloc(tl + 3);
		autofree char *b64 = xmalloc(2 * tl + 8);

		if (!tl)
			continue;
		add_needle(t, tok, tl, (int)i, TF_PLAIN);
		hex_encode(tok, hex, false);
		add_needle(t, hex, strlen(hex), (int)i, TF_HEX);
		for (size_t k = 0; k < 3; k++) {
			size_t start = k ? 4 : 0;

			memset(pad, 0, k);
			memcpy(pad + k, tok, tl);
			for (int safe = 0; safe < 2; safe++) {
				b64_encode(pad, tl + k, b64, safe);
				if (strlen(b64) > start + 12)
					add_needle(t, b64 + start, strlen(b64) - start, (int)i,
						   safe ? TF_B64URL : TF_B64);
			}
		}
	}
	return t;
}

void tokscan_free(struct tokscan *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].s);
	free(t->v);
	free(t);
}

static bool needle_at(const struct tok_needle *nd, const unsigned char *p, bool nocase)
{
	if (nd->form == TF_HEX || (nd->form == TF_PLAIN && nocase))
		return strncasecmp((const char *)p, nd->s, nd->len) == 0;
	return memcmp(p, nd->s, nd->len) == 0;
}

int tokscan_find(const struct tokscan *t, const unsigned char *data, size_t n, bool nocase,
		 const char **how, size_t *at)
{
	const struct tok_needle *best = NULL;
	size_t best_at = 0;
	uint32_t w;

	if (!t || !t->n || n < t->min_len)
		return -1;
	w = fold4(data) << 8;  /* shifted back in by the first step */
	for (size_t i = 0; i + t->min_len <= n; i++) {
		uint16_t k;

		w = w >> 8 | fold_byte(data[i + 3]) << 24;
		k = key_of(w);
		if (!(t->filter[k / 64] & (1ull << (k % 64))))
			continue;
		for (size_t j = 0; j < t->n; j++) {
			const struct tok_needle *nd = &t->v[j];

			if (nd->key != k || nd->len > n - i || !needle_at(nd, data + i, nocase))
				continue;
			/* the first decoy, in its plainest form, wins: the answer
			 * does not depend on where in the bytes each one is */
			if (!best || nd->decoy < best->decoy ||
			    (nd->decoy == best->decoy && nd->form < best->form)) {
				best = nd;
				best_at = i;
			}
		}
	}
	if (!best)
		return -1;
	if (how)
		*how = form_names[best->form];
	if (at)
		*at = best_at;
	return best->decoy;
}
