/* Decoy tokens in bytes that left a process (a sinkhole capture, a proxy
 * request, a staged file): as is, in hex (any case), or in base64 (standard
 * or URL-safe, at any of the three alignments), in the bytes as they are
 * and after URL decoding (%HH escapes of any subset of bytes, either case;
 * '+' for a space when a token has one; up to three rounds, for a value
 * encoded again).
 *
 * The proxy looks at every request, so the forms of every token are made
 * once (decoy_scanner) and the bytes are read once per view: each needle
 * is filed under a hash of its first 4 bytes, and one pass over the data
 * looks up the 4 bytes at each position (a few ns a byte, whatever the
 * number of tokens).  Two views: the bytes as they are (plain tokens,
 * base64) and lowered (hex of any case; plain tokens with nocase).
 * Decoding before matching finds a token split by escapes ("ghp_ab%63d")
 * and the escaped characters of a hex or base64 form (%2B, %3D). */
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "decide/engine.h"

#define ANCHOR      4            /* bytes a needle is filed under */
#define HBITS       10
#define NBUCKETS    (1u << HBITS)
#define URL_ROUNDS  3            /* %2541 is %41 is A: three rounds at most */
#define TOKEN_MAX   4096         /* longer "tokens" are not secrets of ours */

enum form { F_PLAIN, F_HEX, F_B64, F_B64URL, F_COUNT };
enum view { V_EXACT, V_LOWER, V_COUNT };
/* Which matching a needle serves: plain tokens are looked for exactly, or
 * lowered (nocase: DNS names, whose case a resolver may change). */
#define W_CASE   1u
#define W_NOCASE 2u
#define W_ANY    (W_CASE | W_NOCASE)

struct needle {
	uint32_t off;            /* into text */
	uint32_t anchor;         /* its first ANCHOR bytes */
	uint16_t len, decoy;
	uint8_t form, view, when;
};

/* The needles of one view: those of ANCHOR bytes or more by the hash of
 * their anchor (order[start[h] .. start[h+1]]), the shorter ones apart. */
struct table {
	uint32_t start[NBUCKETS + 1];
	uint32_t *order;
	uint32_t *shorts;
	size_t n_shorts;
};

struct decoy_scanner {
	char *text;
	size_t text_len, text_cap;
	struct needle *v;
	size_t n, cap;
	struct table t[V_COUNT];
	bool plus_is_space;      /* a token has a space: '+' may stand for one */
};

static uint32_t bucket_of(uint32_t anchor)
{
	return (anchor * 0x9E3779B1u) >> (32 - HBITS);
}

static void add(struct decoy_scanner *s, enum view view, const char *str, size_t len, size_t decoy,
		enum form form, unsigned when)
{
	struct needle *nd;

	if (len == 0)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	if (s->text_len + len > s->text_cap) {
		s->text_cap = 2 * (s->text_len + len);
		s->text = xrealloc(s->text, s->text_cap);
	}
	nd = &s->v[s->n++];
	*nd = (struct needle){ .off = (uint32_t)s->text_len, .len = (uint16_t)len,
			       .decoy = (uint16_t)decoy, .form = (uint8_t)form, .view = (uint8_t)view,
			       .when = (uint8_t)when };
	memcpy(s->text + s->text_len, str, len);
	if (len >= ANCHOR)
		memcpy(&nd->anchor, str, ANCHOR);
	s->text_len += len;
}

static void lower(const unsigned char *in, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] >= 'A' && in[i] <= 'Z' ? in[i] + ('a' - 'A') : in[i];
}

/* Every form of token i. */
static void add_token(struct decoy_scanner *s, size_t i, const char *tok, size_t tl)
{
	autofree char *hex = xmalloc(2 * tl + 1);
	autofree unsigned char *pad = xmalloc(tl + 3), *low = xmalloc(tl);
	autofree char *b64 = xmalloc(2 * tl + 8), *b64std = xmalloc(2 * tl + 8);

	add(s, V_EXACT, tok, tl, i, F_PLAIN, W_CASE);
	lower((const unsigned char *)tok, tl, low);
	add(s, V_LOWER, (const char *)low, tl, i, F_PLAIN, W_NOCASE);
	hex_encode(tok, hex, false);
	add(s, V_LOWER, hex, 2 * tl, i, F_HEX, W_ANY);
	/* Base64 of the token after k other bytes: the first quantum mixes
	 * those bytes in (left out for k > 0); b64_encode writes whole
	 * quanta only, so what follows the token does not matter either. */
	for (size_t k = 0; k < 3; k++) {
		size_t start = k ? 4 : 0, bl;

		memset(pad, 0, k);
		memcpy(pad + k, tok, tl);
		b64_encode(pad, tl + k, b64std, false);
		b64_encode(pad, tl + k, b64, true);
		bl = strlen(b64);
		if (bl <= start + 12)
			continue;
		add(s, V_EXACT, b64std + start, bl - start, i, F_B64, W_ANY);
		if (strcmp(b64, b64std) != 0)   /* else no '+' or '/' in it: the same */
			add(s, V_EXACT, b64 + start, bl - start, i, F_B64URL, W_ANY);
	}
	if (memchr(tok, ' ', tl))
		s->plus_is_space = true;
}

static void build_table(struct decoy_scanner *s, enum view view)
{
	struct table *t = &s->t[view];
	uint32_t fill[NBUCKETS];

	memset(t->start, 0, sizeof(t->start));
	t->order = xcalloc(s->n + 1, sizeof(*t->order));
	t->shorts = xcalloc(s->n + 1, sizeof(*t->shorts));
	for (size_t j = 0; j < s->n; j++)
		if (s->v[j].view == view && s->v[j].len >= ANCHOR)
			t->start[bucket_of(s->v[j].anchor) + 1]++;
	for (uint32_t b = 0; b < NBUCKETS; b++)
		t->start[b + 1] += t->start[b];
	memcpy(fill, t->start, sizeof(fill));
	for (size_t j = 0; j < s->n; j++) {
		if (s->v[j].view != view)
			continue;
		if (s->v[j].len >= ANCHOR)
			t->order[fill[bucket_of(s->v[j].anchor)]++] = (uint32_t)j;
		else
			t->shorts[t->n_shorts++] = (uint32_t)j;
	}
}

struct decoy_scanner *engine_decoy_scanner(const struct engine *e)
{
	struct decoy_scanner *s = xcalloc(1, sizeof(*s));
	const char *where, *tok;

	for (size_t i = 0; (tok = engine_decoy(e, i, &where)) && i <= UINT16_MAX; i++) {
		size_t tl = strlen(tok);

		if (tl && tl <= TOKEN_MAX)
			add_token(s, i, tok, tl);
	}
	for (int v = 0; v < V_COUNT; v++)
		build_table(s, (enum view)v);
	return s;
}

void decoy_scanner_free(struct decoy_scanner *s)
{
	if (!s)
		return;
	for (int v = 0; v < V_COUNT; v++) {
		free(s->t[v].order);
		free(s->t[v].shorts);
	}
	free(s->v);
	free(s->text);
	free(s);
}

/* The first needle of the view (for this matching) that b carries. */
static const struct needle *scan(const struct decoy_scanner *s, enum view view,
				 const unsigned char *b, size_t n, unsigned want)
{
	const struct table *t = &s->t[view];

	for (size_t j = 0; j < t->n_shorts; j++) {
		const struct needle *nd = &s->v[t->shorts[j]];

		if ((nd->when & want) && memmem(b, n, s->text + nd->off, nd->len))
			return nd;
	}
	for (size_t i = 0; i + ANCHOR <= n; i++) {
		uint32_t a, h;

		memcpy(&a, b + i, ANCHOR);
		h = bucket_of(a);
		for (uint32_t j = t->start[h]; j < t->start[h + 1]; j++) {
			const struct needle *nd = &s->v[t->order[j]];

			if (nd->anchor == a && (nd->when & want) && nd->len <= n - i &&
			    memcmp(b + i, s->text + nd->off, nd->len) == 0)
				return nd;
		}
	}
	return NULL;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One round of URL decoding, in place: %HH (either case) is that byte,
 * '+' a space when plus; anything else (a '%' without two hex digits)
 * stays.  The new length; *changed: something was decoded. */
static size_t url_decode(unsigned char *b, size_t n, bool plus, bool *changed)
{
	size_t o = 0;

	*changed = false;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (b[i] == '%' && i + 2 < n && (hi = hexval(b[i + 1])) >= 0 &&
		    (lo = hexval(b[i + 2])) >= 0) {
			b[o++] = (unsigned char)(hi << 4 | lo);
			i += 2;
			*changed = true;
		} else if (plus && b[i] == '+') {
			b[o++] = ' ';
			*changed = true;
		} else {
			b[o++] = b[i];
		}
	}
	return o;
}

/* The data as it is, then URL-decoded round after round (in buf, 2n
 * bytes: the decoded bytes, then their lowered copy).  *round: the round
 * of the hit. */
static const struct needle *find_rounds(const struct decoy_scanner *s, const unsigned char *data,
					size_t n, unsigned want, bool plus, unsigned char *buf, int *round)
{
	const unsigned char *cur = data;
	unsigned char *low = buf + n;
	const struct needle *hit;
	size_t len = n;

	for (*round = 0;; (*round)++) {
		bool changed;

		lower(cur, len, low);
		hit = scan(s, V_EXACT, cur, len, want);
		if (!hit)
			hit = scan(s, V_LOWER, low, len, want);
		if (hit || *round == URL_ROUNDS)
			return hit;
		if (!memchr(cur, '%', len) && !(plus && memchr(cur, '+', len)))
			return NULL;
		if (cur == data) {
			memcpy(buf, data, n);
			cur = buf;
		}
		len = url_decode(buf, len, plus, &changed);
		if (!changed)
			return NULL;
	}
}

int decoy_scanner_find(const struct decoy_scanner *s, const unsigned char *data, size_t n,
		       bool nocase, const char **how)
{
	static const char *const names[F_COUNT][2] = {
		{ "as is", "URL-encoded" },
		{ "hex", "hex, URL-encoded" },
		{ "base64", "base64, URL-encoded" },
		{ "base64url", "base64url, URL-encoded" },
	};
	unsigned want = nocase ? W_NOCASE : W_CASE;
	const struct needle *hit;
	autofree unsigned char *buf = NULL;
	int round;

	if (!s || s->n == 0)
		return -1;
	buf = xmalloc(2 * n + 1);
	/* '+' is a space in a query string, or itself (base64, a token's own
	 * '+'): both readings when a token has a space. */
	hit = find_rounds(s, data, n, want, false, buf, &round);
	if (!hit && s->plus_is_space && memchr(data, '+', n))
		hit = find_rounds(s, data, n, want, true, buf, &round);
	if (!hit)
		return -1;
	if (how)
		*how = names[hit->form][round > 0];
	return hit->decoy;
}

int engine_find_decoy(const struct engine *e, const unsigned char *data, size_t n, bool nocase,
		      const char **how)
{
	struct decoy_scanner *s = engine_decoy_scanner(e);
	int d = decoy_scanner_find(s, data, n, nocase, how);

	decoy_scanner_free(s);
	return d;
}
