/* SHA-256 test vectors, urlsafe base64, and the RECORD parser on the edge
 * cases a hostile wheel can produce. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pip/record.h"
#include "base/base.h"
#include "../unit.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha256(void)
{
	static const struct { const char *in; const char *want; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	uint8_t d[32];
	char h[65];

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		sha256(v[i].in, strlen(v[i].in), d);
		hex(d, 32, h);
		CHECK_STR_EQ(h, v[i].want);
	}
	/* One million 'a', fed in uneven pieces: the buffering path. */
	{
		struct sha256 c;
		char *buf = malloc(1000000);
		size_t off = 0, step = 1;

		memset(buf, 'a', 1000000);
		sha256_init(&c);
		while (off < 1000000) {
			size_t n = step < 1000000 - off ? step : 1000000 - off;

			sha256_update(&c, buf + off, n);
			off += n;
			step = step * 3 % 997 + 1;
		}
		sha256_final(&c, d);
		hex(d, 32, h);
		CHECK_STR_EQ(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
		free(buf);
	}
}

static void test_b64(void)
{
	uint8_t in[40], out[40];
	char enc[64];

	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t len;
		ssize_t got;

		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 37 + 250);
		len = b64url_encode(in, n, enc);
		CHECK(strchr(enc, '=') == NULL && strchr(enc, '+') == NULL && strchr(enc, '/') == NULL,
		      "urlsafe, no padding: %s", enc);
		got = b64url_decode(enc, len, out, sizeof(out));
		CHECK(got == (ssize_t)n && memcmp(in, out, n) == 0, "round trip of %zu bytes", n);
	}
	CHECK(b64url_decode("ab+c", 4, out, sizeof(out)) < 0, "'+' is not urlsafe base64");
	CHECK(b64url_decode("a", 1, out, sizeof(out)) < 0, "a single character is not base64");
	CHECK(b64url_decode("AB", 2, out, sizeof(out)) < 0, "non-zero trailing bits are refused");
	CHECK(b64url_decode("AAAAAAAA", 8, out, 5) < 0, "output overflow is refused");
}

static int parse(const char *s, struct record *r, char *err)
{
	return record_parse(s, strlen(s), r, err, 256);
}

static void test_parser(void)
{
	struct record r;
	char err[256];
	uint8_t d[32];
	char b64[64], *txt;

	sha256("hello\n", 6, d);
	b64url_encode(d, 32, b64);
	txt = xasprintf("pkg/__init__.py,sha256=%s,6\r\n"
			"\"pkg/a,b.py\",sha256=%s,6\n"
			"\"pkg/q\"\"uote.py\",,\n"
			"pkg-1.0.dist-info/RECORD,,\n"
			"\n"
			"\"multi\nline\",,\n"
			"../../../bin/tool,sha512=AAAA,12\n"
			"nohash.txt\n"
			"badsize.txt,,12x", b64, b64);
	CHECK_INT_EQ(parse(txt, &r, err), 0);
	CHECK_INT_EQ(r.n, 8);
	if (r.n == 8) {
		CHECK_STR_EQ(r.e[0].path, "pkg/__init__.py");
		CHECK_INT_EQ(r.e[0].hash, RECORD_HASH_SHA256);
		CHECK(memcmp(r.e[0].digest, d, 32) == 0, "the digest decodes to the file's sha256");
		CHECK(r.e[0].has_size && r.e[0].size == 6, "size 6");
		CHECK_STR_EQ(r.e[1].path, "pkg/a,b.py");
		CHECK_STR_EQ(r.e[2].path, "pkg/q\"uote.py");
		CHECK_INT_EQ(r.e[2].hash, RECORD_HASH_NONE);
		CHECK(!r.e[3].has_size, "RECORD's own row has no size");
		CHECK_STR_EQ(r.e[4].path, "multi\nline");
		CHECK_INT_EQ(r.e[5].hash, RECORD_HASH_OTHER);
		CHECK_STR_EQ(r.e[5].algo, "sha512");
		CHECK_INT_EQ(r.e[6].hash, RECORD_HASH_NONE);
		CHECK(r.e[7].size_bad, "a size that is not a number is flagged");
	}
	record_free(&r);
	free(txt);

	/* Flagged, not fatal: the check reports them against the file. */
	CHECK_INT_EQ(parse("a.py,sha256=!!!!,3\n", &r, err), 0);
	CHECK(r.n == 1 && r.e[0].hash == RECORD_HASH_BAD, "bad base64 is a bad hash");
	record_free(&r);
	CHECK_INT_EQ(parse("a.py,sha256=AAAA,3\n", &r, err), 0);
	CHECK(r.n == 1 && r.e[0].hash == RECORD_HASH_BAD, "a sha256 of 3 bytes is a bad hash");
	record_free(&r);
	CHECK_INT_EQ(parse("a.py,nohashsign,3\n", &r, err), 0);
	CHECK(r.n == 1 && r.e[0].hash == RECORD_HASH_BAD, "a hash without '=' is bad");
	record_free(&r);
	CHECK_INT_EQ(parse("a.py,SHA256=AAAA,3\n", &r, err), 0);
	CHECK(r.n == 1 && r.e[0].hash == RECORD_HASH_BAD, "algorithm names are lower case");
	record_free(&r);
	CHECK_INT_EQ(parse("a.py,,99999999999999999999999\n", &r, err), 0);
	CHECK(r.n == 1 && r.e[0].size_bad, "a size over 2^64 is flagged");
	record_free(&r);

	/* Not a RECORD at all: refused as a whole. */
	CHECK_INT_EQ(parse("\"unterminated,,\n", &r, err), -1);
	CHECK(strstr(err, "unterminated") != NULL, "says why: %s", err);
	CHECK_INT_EQ(parse("a,b,c,d\n", &r, err), -1);
	CHECK_INT_EQ(parse("\"a\"x,,\n", &r, err), -1);
	CHECK_INT_EQ(parse("a\"b,,\n", &r, err), -1);
	CHECK_INT_EQ(parse(",sha256=AAAA,1\n", &r, err), -1);
	CHECK_INT_EQ(record_parse("a\0b,,\n", 6, &r, err, sizeof(err)), -1);
	CHECK(r.e == NULL && r.n == 0, "a refused RECORD leaves nothing allocated");

	/* A huge line: refused, bounded, no crash. */
	{
		size_t n = 10u << 20;
		char *big = malloc(n + 8);

		memset(big, 'x', n);
		memcpy(big + n, ",,\n", 4);
		CHECK_INT_EQ(record_parse(big, n + 3, &r, err, sizeof(err)), -1);
		CHECK(strstr(err, "longer than") != NULL, "says the field is too long: %s", err);
		/* Many short rows are fine. */
		for (size_t i = 0; i + 4 <= n; i += 4)
			memcpy(big + i, "a,,\n", 4);
		CHECK_INT_EQ(record_parse(big, n / 4 * 4 > 400000 ? 400000 : n, &r, err, sizeof(err)), 0);
		CHECK_INT_EQ(r.n, 100000);
		record_free(&r);
		free(big);
	}
	CHECK_INT_EQ(parse("", &r, err), 0);
	CHECK_INT_EQ(r.n, 0);
	record_free(&r);
}

/* installed-files.txt of a legacy setup.py install, as pip 23.0 writes it. */
static void test_lines(void)
{
	static const char txt[] = "../clean_demo.py\n"
				  "../__pycache__/clean_demo.cpython-311.pyc\r\n"
				  "\n"
				  "PKG-INFO\n"
				  "../../../../bin/a,b script\n"
				  "top_level.txt";
	struct record r;
	char err[256];

	CHECK_INT_EQ(record_parse_lines(txt, strlen(txt), &r, err, sizeof(err)), 0);
	CHECK_INT_EQ(r.n, 5);
	if (r.n == 5) {
		CHECK_STR_EQ(r.e[0].path, "../clean_demo.py");
		CHECK_STR_EQ(r.e[1].path, "../__pycache__/clean_demo.cpython-311.pyc");
		CHECK_STR_EQ(r.e[2].path, "PKG-INFO");
		CHECK_STR_EQ(r.e[3].path, "../../../../bin/a,b script");
		CHECK_STR_EQ(r.e[4].path, "top_level.txt");
		for (size_t i = 0; i < r.n; i++)
			CHECK(r.e[i].hash == RECORD_HASH_NONE && !r.e[i].has_size && !r.e[i].size_bad,
			      "row %zu has no hash and no size", i);
	}
	record_free(&r);
	CHECK_INT_EQ(record_parse_lines("a\0b\n", 4, &r, err, sizeof(err)), -1);
	CHECK(r.e == NULL && r.n == 0, "a NUL byte refuses the file, nothing allocated");
	{
		size_t n = RECORD_MAX_FIELD + 1;
		char *big = xmalloc(n + 1);

		memset(big, 'x', n);
		big[n] = '\n';
		CHECK_INT_EQ(record_parse_lines(big, n + 1, &r, err, sizeof(err)), -1);
		CHECK(strstr(err, "longer than") != NULL, "a line over the bound is refused: %s", err);
		free(big);
	}
	CHECK_INT_EQ(record_parse_lines("", 0, &r, err, sizeof(err)), 0);
	CHECK_INT_EQ(r.n, 0);
	record_free(&r);
}

int main(void)
{
	test_sha256();
	test_b64();
	test_parser();
	test_lines();
	return unit_summary("test_record");
}
