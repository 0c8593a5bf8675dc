/* The decoy-token matcher (decide/decoyscan.c): every encoding the proxy and
 * the sinkhole must recognise (as is, hex of any case, base64 standard and
 * URL-safe at every alignment, URL-encoding of any subset of bytes, '+' for
 * a space, encoded again), in the middle of other bytes, and the near
 * misses an attacker or a benign request could produce, which must not
 * match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/engine.h"
#include "../unit.h"
#include "base/base.h"

#define GH   "ghp_0123456789abcdef0123456789abcdef0123"
#define AWS  "Wj7Kx2Vq9p~Lm4Nz8?Rt5Ys1>Bc6Dh3Fg0Ae+/XuIo"   /* its base64 has "+" or "/" */
#define SPC  "my pass phrase with spaces 4242"
#define SHORT "q#z"                                   /* shorter than an anchor */

static struct engine *decoy_engine(void)
{
	struct engine *e = engine_new(NULL, false);

	engine_add_decoy(e, "$GITHUB_TOKEN", GH);
	engine_add_decoy(e, "$AWS_SECRET_ACCESS_KEY", AWS);
	engine_add_decoy(e, "~/.netrc", SPC);
	return e;
}

/* Which decoy data carries (and how), through a scanner and through the
 * one-shot engine_find_decoy: both must agree. */
static int find(const struct engine *e, const struct decoy_scanner *s, const char *data, bool nocase,
		const char **how)
{
	const char *how2 = NULL;
	int d = decoy_scanner_find(s, (const unsigned char *)data, strlen(data), nocase, how);
	int d2 = engine_find_decoy(e, (const unsigned char *)data, strlen(data), nocase, &how2);

	CHECK(d == d2, "the scanner (%d) and engine_find_decoy (%d) agree on \"%.80s\"", d, d2, data);
	return d;
}

static void expect(const struct engine *e, const struct decoy_scanner *s, const char *data, bool nocase,
		   int decoy, const char *how_want, int line)
{
	const char *how = NULL;
	int d = find(e, s, data, nocase, &how);

	CHECK(d == decoy, "line %d: \"%.100s\": decoy %d, expected %d", line, data, d, decoy);
	if (d >= 0 && how_want)
		CHECK(how && !strcmp(how, how_want), "line %d: \"%.60s\": how \"%s\", expected \"%s\"", line,
		      data, how ? how : "(null)", how_want);
}
#define EXPECT(data, nocase, decoy, how_want) expect(e, s, (data), (nocase), (decoy), (how_want), __LINE__)

/* t with every `every`-th byte (from the first) as "%HH". */
static char *pct(const char *t, int every, bool upper)
{
	char *out = xmalloc(3 * strlen(t) + 1), *o = out;

	for (size_t i = 0; t[i]; i++) {
		if (every && i % (size_t)every == 0)
			o += sprintf(o, upper ? "%%%02X" : "%%%02x", (unsigned char)t[i]);
		else
			*o++ = t[i];
	}
	*o = '\0';
	return out;
}

static char *b64_of(const char *prefix, const char *tok, const char *suffix, bool urlsafe, bool padded)
{
	autofree char *raw = xasprintf("%s%s%s", prefix, tok, suffix);
	size_t n = strlen(raw);
	char *out = xmalloc(2 * n + 8);
	static const char *a[2] = { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" };
	size_t o = 0, i;

	/* A whole encoder (with the tail), unlike base/'s whole-quanta one. */
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)raw[i] << 16 | (unsigned char)raw[i + 1] << 8 | (unsigned char)raw[i + 2];

		out[o++] = a[urlsafe][v >> 18 & 63];
		out[o++] = a[urlsafe][v >> 12 & 63];
		out[o++] = a[urlsafe][v >> 6 & 63];
		out[o++] = a[urlsafe][v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned char)raw[i] << 16;

		out[o++] = a[urlsafe][v >> 18 & 63];
		out[o++] = a[urlsafe][v >> 12 & 63];
		if (padded) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		unsigned v = (unsigned char)raw[i] << 16 | (unsigned char)raw[i + 1] << 8;

		out[o++] = a[urlsafe][v >> 18 & 63];
		out[o++] = a[urlsafe][v >> 12 & 63];
		out[o++] = a[urlsafe][v >> 6 & 63];
		if (padded)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static char *hex_of(const char *t, int mode /* 0 lower, 1 upper, 2 mixed */)
{
	char *out = xmalloc(2 * strlen(t) + 1);

	hex_encode(t, out, mode == 1);
	if (mode == 2)
		for (size_t i = 0; i < 2 * strlen(t); i += 3)
			out[i] = (char)(out[i] >= 'a' ? out[i] - 32 : out[i]);
	return out;
}

static void test_plain(struct engine *e, struct decoy_scanner *s)
{
	EXPECT("GET http://127.0.0.1:8080/files/x.whl?v=" GH " HTTP/1.1\r\n\r\n", false, 0, "as is");
	EXPECT("Authorization: " AWS "\r\n", false, 1, "as is");
	EXPECT(GH, false, 0, "as is");
	/* Case matters for plain tokens unless nocase (DNS names). */
	EXPECT("x-GHP_0123456789ABCDEF0123456789ABCDEF0123-x", false, -1, NULL);
	EXPECT("x-GHP_0123456789ABCDEF0123456789ABCDEF0123-x.example", true, 0, "as is");
	/* Near misses: one character changed, one missing, split by a byte
	 * that is not an escape. */
	EXPECT("v=ghp_0123456789abcdef0123456789abcdef012X", false, -1, NULL);
	EXPECT("v=ghp_0123456789abcdef0123456789abcdef012", false, -1, NULL);
	EXPECT("v=ghp_0123456789abcdef-0123456789abcdef0123", false, -1, NULL);
	EXPECT("", false, -1, NULL);
	EXPECT("gh", false, -1, NULL);
}

static void test_hex(struct engine *e, struct decoy_scanner *s)
{
	for (int mode = 0; mode < 3; mode++) {
		autofree char *h = hex_of(GH, mode);
		autofree char *req = xasprintf("GET /f?x=1&v=%s&y=2 HTTP/1.1", h);

		EXPECT(req, false, 0, "hex");
	}
	{
		autofree char *h = hex_of(AWS, 0);

		h[17] = h[17] == '0' ? '1' : '0';   /* one nibble off */
		EXPECT(h, false, -1, NULL);
	}
}

static void test_base64(struct engine *e, struct decoy_scanner *s)
{
	static const char *const prefixes[] = { "", "u:", "us:", "user:", "x" };
	static const char *const suffixes[] = { "", "!", "!!", "&more" };

	for (size_t p = 0; p < ARRAY_SIZE(prefixes); p++)
		for (size_t q = 0; q < ARRAY_SIZE(suffixes); q++)
			for (int safe = 0; safe < 2; safe++)
				for (int padded = 0; padded < 2; padded++) {
					autofree char *b = b64_of(prefixes[p], AWS, suffixes[q], safe, padded);
					autofree char *req = xasprintf("Authorization: Basic %s\r\n", b);

					EXPECT(req, false, 1, safe ? "base64url" : "base64");
				}
	{
		/* Base64 is case-sensitive: the same letters in another case
		 * are other bytes. */
		autofree char *b = b64_of("", GH, "", false, false);

		for (char *c = b; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 32);
		EXPECT(b, false, -1, NULL);
	}
	{
		/* The base64 of a token with one byte changed. */
		autofree char *t = xstrdup(GH);
		autofree char *b = NULL;

		t[20] = 'Z';
		b = b64_of("", t, "", false, true);
		EXPECT(b, false, -1, NULL);
	}
}

static void test_url_encoded(struct engine *e, struct decoy_scanner *s)
{
	/* Every byte, every second, every fifth; upper and lower hex digits. */
	for (int every = 1; every <= 5; every += 1)
		for (int upper = 0; upper < 2; upper++) {
			autofree char *p = pct(GH, every, upper);
			autofree char *req = xasprintf("GET http://127.0.0.1:8080/f.whl?v=%s HTTP/1.1", p);

			EXPECT(req, false, 0, "URL-encoded");
		}
	/* The token split by escapes of its own characters. */
	EXPECT("?v=ghp_0123456789ab%63def0123456789%61bcdef0123", false, 0, "URL-encoded");
	/* Escapes in a hex form, and in base64 ('+', '/', '=' escaped). */
	{
		autofree char *h = hex_of(GH, 1);
		autofree char *ph = pct(h, 3, false);

		EXPECT(ph, false, 0, "hex, URL-encoded");
	}
	{
		autofree char *b = b64_of("", AWS, "", false, true);
		struct sbuf_ { char s[256]; size_t n; } o = { .n = 0 };

		for (char *c = b; *c; c++)
			o.n += (size_t)(strchr("+/=", *c) ? sprintf(o.s + o.n, "%%%02X", *c)
							    : sprintf(o.s + o.n, "%c", *c));
		CHECK(strchr(o.s, '%') != NULL, "the base64 form has a '+', '/' or '='");
		EXPECT(o.s, false, 1, "base64, URL-encoded");
	}
	/* Encoded twice and three times (%2561 is %61 is a). */
	{
		autofree char *once = pct(GH, 1, true);
		autofree char *twice = pct(once, 3, false);
		autofree char *thrice = pct(twice, 3, true);

		EXPECT(twice, false, 0, "URL-encoded");
		EXPECT(thrice, false, 0, "URL-encoded");
	}
	/* '+' for a space (a token with spaces), and "%20". */
	EXPECT("pw=my+pass+phrase+with+spaces+4242", false, 2, "URL-encoded");
	EXPECT("pw=my%20pass%20phrase+with%20spaces+4242", false, 2, "URL-encoded");
	/* Near misses: an escape that decodes to another character, a '%'
	 * without two hex digits, an escape cut short at the end. */
	EXPECT("?v=ghp_0123456789ab%64def0123456789abcdef0123", false, -1, NULL);
	EXPECT("?v=ghp_0123456789ab%G3def0123456789abcdef0123", false, -1, NULL);
	EXPECT("?v=ghp_0123456789abcdef0123456789abcdef012%3", false, -1, NULL);
	EXPECT("?v=ghp_0123456789abcdef0123456789abcdef012%", false, -1, NULL);
	/* '+' stays a '+' for tokens that have no space: a literal '+' of a
	 * base64 form still matches in a query that has escapes elsewhere. */
	{
		autofree char *b = b64_of("", AWS, "", false, false);
		autofree char *req = xasprintf("?a=%%41&v=%s", b);

		CHECK(strchr(b, '+') != NULL || strchr(b, '/') != NULL, "the form has '+' or '/'");
		EXPECT(req, false, 1, "base64");
	}
}

/* A realistic pip request with no token in it: nothing. */
static void test_benign(struct engine *e, struct decoy_scanner *s)
{
	EXPECT("GET http://127.0.0.1:8080/files/pjtl_dep-1.0-py3-none-any.whl?channel=stable HTTP/1.1\r\n"
	       "Host: 127.0.0.1:8080\r\nUser-Agent: pip/23.0.1 {\"ci\":null,\"cpu\":\"x86_64\","
	       "\"implementation\":{\"name\":\"CPython\",\"version\":\"3.11.2\"},\"installer\":"
	       "{\"name\":\"pip\",\"version\":\"23.0.1\"},\"openssl_version\":\"OpenSSL 3.0.11\"}\r\n"
	       "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n"
	       "Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n\r\n", false, -1, NULL);
	EXPECT("GET http://h/simple/%70%69%70/ HTTP/1.1\r\n\r\n", false, -1, NULL);
}

/* Tokens shorter than the 4-byte anchor are still found (memmem path),
 * and a scanner is a snapshot: decoys added after it are not in it. */
static void test_short_and_snapshot(void)
{
	struct engine *e = engine_new(NULL, false);
	struct decoy_scanner *s;
	const char *how = NULL;

	engine_add_decoy(e, "$SHORT", SHORT);
	s = engine_decoy_scanner(e);
	CHECK_INT_EQ(decoy_scanner_find(s, (const unsigned char *)"xxq#zxx", 7, false, &how), 0);
	CHECK_INT_EQ(decoy_scanner_find(s, (const unsigned char *)"xx%71#zxx", 9, false, &how), 0);
	CHECK_INT_EQ(decoy_scanner_find(s, (const unsigned char *)"xxq#xx", 6, false, &how), -1);
	engine_add_decoy(e, "$GITHUB_TOKEN", GH);
	CHECK_INT_EQ(decoy_scanner_find(s, (const unsigned char *)GH, strlen(GH), false, &how), -1);
	CHECK_INT_EQ(engine_find_decoy(e, (const unsigned char *)GH, strlen(GH), false, &how), 1);
	decoy_scanner_free(s);
	decoy_scanner_free(NULL);

	/* No decoys at all: nothing, and no crash. */
	engine_free(e);
	e = engine_new(NULL, false);
	s = engine_decoy_scanner(e);
	CHECK_INT_EQ(decoy_scanner_find(s, (const unsigned char *)GH, strlen(GH), false, &how), -1);
	decoy_scanner_free(s);
	engine_free(e);
}

/* Bytes that are not text (a TLS record, a binary body): no match, and
 * none of them makes the matcher read past the end (ASan build). */
static void test_binary(struct engine *e, struct decoy_scanner *s)
{
	unsigned char buf[4096];
	const char *how;

	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(rand() & 0xff);
	for (size_t n = 0; n < 64; n++)
		CHECK_INT_EQ(decoy_scanner_find(s, buf + sizeof(buf) - n, n, false, &how), -1);
	CHECK_INT_EQ(decoy_scanner_find(s, buf, sizeof(buf), true, &how), -1);
	memset(buf, '%', sizeof(buf));
	CHECK_INT_EQ(decoy_scanner_find(s, buf, sizeof(buf), false, &how), -1);
	(void)e;
}

int main(void)
{
	struct engine *e = decoy_engine();
	struct decoy_scanner *s = engine_decoy_scanner(e);

	test_plain(e, s);
	test_hex(e, s);
	test_base64(e, s);
	test_url_encoded(e, s);
	test_benign(e, s);
	test_binary(e, s);
	test_short_and_snapshot();
	decoy_scanner_free(s);
	engine_free(e);
	return unit_summary("test_decoyscan");
}
