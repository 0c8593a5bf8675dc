/* libFuzzer target for the decoy-token matcher (decide/decoyscan.c), which
 * reads what jailed processes send: every proxy request, every sinkhole
 * capture.  Besides memory errors (ASan/UBSan), two oracles:
 *   - the bytes as they came: the scanner (anchored hash lookups) finds a
 *     token exactly when a plain reference (memmem of every form in every
 *     view, the same URL decoding) finds one;
 *   - the input with a decoy token put in it (byte 0 chooses the encoding,
 *     byte 1 the decoy, byte 2 where; the rest is what surrounds it): the
 *     token is always found, whatever bytes are around it.
 *
 * Built and run by `make fuzz` (FUZZ_TIME seconds, build-fuzz/fuzz_decoyscan,
 * linked with decide/ and the layers it may call); crash inputs go to
 * tests/fuzz/corpus/decoyscan/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "decide/engine.h"

static const char *const tokens[] = {
	"ghp_0123456789abcdef0123456789abcdef0123",
	"Wj7Kx2Vq9p~Lm4Nz8?Rt5Ys1>Bc6Dh3Fg0Ae+/XuIo",
	"AKIA0123456789ABCDEF",
	"pass phrase 42",
};

static struct engine *eng;
static struct decoy_scanner *scan;

static void require(int cond)
{
	if (!cond)
		abort();
}

static void setup(void)
{
	if (eng)
		return;
	eng = engine_new(NULL, false);
	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++)
		engine_add_decoy(eng, "$FUZZ", tokens[i]);
	scan = engine_decoy_scanner(eng);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* The reference: every form of every token, memmem in each view. */
static bool ref_view(const unsigned char *b, size_t n, bool nocase)
{
	unsigned char *low = malloc(n + 1);
	bool found = false;

	for (size_t i = 0; i < n; i++)
		low[i] = (unsigned char)((b[i] >= 'A' && b[i] <= 'Z') ? b[i] + 32 : b[i]);
	for (size_t t = 0; t < ARRAY_SIZE(tokens) && !found; t++) {
		const char *tok = tokens[t];
		size_t tl = strlen(tok);
		char hex[256], b64[256], lt[128];
		unsigned char pad[128];

		for (size_t i = 0; i <= tl; i++)
			lt[i] = (char)((tok[i] >= 'A' && tok[i] <= 'Z') ? tok[i] + 32 : tok[i]);
		found = nocase ? memmem(low, n, lt, tl) != NULL : memmem(b, n, tok, tl) != NULL;
		hex_encode(tok, hex, false);
		found = found || memmem(low, n, hex, 2 * tl);
		for (size_t k = 0; k < 3 && !found; k++) {
			size_t start = k ? 4 : 0;

			memset(pad, 0, k);
			memcpy(pad + k, tok, tl);
			for (int safe = 0; safe < 2 && !found; safe++) {
				b64_encode(pad, tl + k, b64, safe);
				if (strlen(b64) > start + 12)
					found = memmem(b, n, b64 + start, strlen(b64) - start) != NULL;
			}
		}
	}
	free(low);
	return found;
}

static bool reference_plus(const unsigned char *data, size_t n, bool nocase, bool plus)
{
	unsigned char *b = malloc(n + 1);
	size_t len = n;
	bool found = false;

	memcpy(b, data, n);
	for (int round = 0; round <= 3 && !found; round++) {
		size_t o = 0;
		bool changed = false;

		found = ref_view(b, len, nocase);
		for (size_t i = 0; i < len; i++) {
			if (b[i] == '%' && i + 2 < len && hexval(b[i + 1]) >= 0 && hexval(b[i + 2]) >= 0) {
				b[o++] = (unsigned char)(hexval(b[i + 1]) << 4 | hexval(b[i + 2]));
				i += 2;
				changed = true;
			} else if (plus && b[i] == '+') {
				b[o++] = ' ';
				changed = true;
			} else {
				b[o++] = b[i];
			}
		}
		len = o;
		if (!changed)
			break;
	}
	free(b);
	return found;
}

/* '+' as itself, and as a space (a token has one). */
static bool reference(const unsigned char *data, size_t n, bool nocase)
{
	return reference_plus(data, n, nocase, false) || reference_plus(data, n, nocase, true);
}

/* tok in the chosen encoding into out (room for 6 * strlen + 16). */
static size_t encode(unsigned mode, const char *tok, const unsigned char *around, size_t an, char *out)
{
	size_t tl = strlen(tok), o = 0;
	unsigned char raw[160];
	size_t pre = an % 3, post = (an / 3) % 3;

	switch (mode % 6) {
	case 0:
		memcpy(out, tok, tl);
		return tl;
	case 1:   /* hex, upper or lower */
		hex_encode(tok, out, mode & 8);
		return 2 * tl;
	case 2:   /* percent-encoding of a subset, either case */
		for (size_t i = 0; i < tl; i++) {
			if ((mode >> 3) & (1u << (i % 5)))
				o += (size_t)sprintf(out + o, mode & 128 ? "%%%02X" : "%%%02x", (unsigned char)tok[i]);
			else if (tok[i] == ' ')
				out[o++] = '+';
			else
				out[o++] = tok[i];
		}
		return o;
	default:  /* base64 (3: standard, 4: URL-safe, 5: standard URL-encoded), any alignment */
		memcpy(raw, around, pre);
		memcpy(raw + pre, tok, tl);
		memcpy(raw + pre + tl, around, post);
		b64_encode(raw, pre + tl + post, out, mode % 6 == 4);
		if (mode % 6 == 5) {
			char tmp[512];

			strcpy(tmp, out);
			for (char *c = tmp; *c; c++)
				o += (size_t)(strchr("+/", *c) ? sprintf(out + o, "%%%02X", *c) : sprintf(out + o, "%c", *c));
			return o;
		}
		return strlen(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *how;

	setup();
	for (int nocase = 0; nocase < 2; nocase++) {
		int d = decoy_scanner_find(scan, data, size, nocase, &how);

		require((d >= 0) == reference(data, size, nocase));
		require(d < (int)ARRAY_SIZE(tokens));
	}
	if (size >= 3 && size < 8192) {
		const char *tok = tokens[data[1] % ARRAY_SIZE(tokens)];
		size_t rest = size - 3, at = rest ? data[2] % (rest + 1) : 0, n;
		char enc[1024];
		unsigned char *buf;

		n = encode(data[0], tok, data + 3, rest, enc);
		buf = malloc(rest + n + 2);
		/* '&' on both sides: an escape cut in the bytes around ("%4")
		 * must not take the token's first characters. */
		memcpy(buf, data + 3, at);
		buf[at] = '&';
		memcpy(buf + at + 1, enc, n);
		buf[at + 1 + n] = '&';
		memcpy(buf + at + 2 + n, data + 3 + at, rest - at);
		require(decoy_scanner_find(scan, buf, rest + n + 2, false, &how) >= 0);
		free(buf);
	}
	return 0;
}
