/* RECORD parser: a small CSV reader with the rules of Python's csv module
 * as pip writes it (comma separator, '"' quoting with "" for a quote, CRLF
 * or LF line ends, quoted fields may hold newlines), then the per-row
 * meaning.  Every limit is checked before memory is touched. */
#include "pip/record.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

ssize_t b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	/* Tolerate '=' padding at the end only: some tools write it. */
	while (inlen > 0 && in[inlen - 1] == '=')
		inlen--;
	if (inlen % 4 == 1)
		return -1;
	for (i = 0; i < inlen; i++) {
		int v = b64val((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outlen)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, or two encodings would decode alike. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (ssize_t)n;
}

size_t b64url_encode(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

/* "sha256=<b64>" into e. */
static void parse_hash(const char *f, size_t len, struct record_entry *e)
{
	const char *eq = memchr(f, '=', len);
	size_t alen;
	ssize_t n;

	if (len == 0) {
		e->hash = RECORD_HASH_NONE;
		return;
	}
	e->hash = RECORD_HASH_BAD;
	if (!eq)
		return;
	alen = (size_t)(eq - f);
	if (alen == 0 || alen >= sizeof(e->algo))
		return;
	for (size_t i = 0; i < alen; i++) {
		char c = f[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return;
	}
	n = b64url_decode(eq + 1, len - alen - 1, e->digest, sizeof(e->digest));
	if (n <= 0)
		return;
	memcpy(e->algo, f, alen);
	e->algo[alen] = '\0';
	e->digest_len = (size_t)n;
	if (strcmp(e->algo, "sha256") == 0)
		e->hash = n == SHA256_DIGEST_LEN ? RECORD_HASH_SHA256 : RECORD_HASH_BAD;
	else
		e->hash = RECORD_HASH_OTHER;
	if (e->hash == RECORD_HASH_BAD) {
		e->algo[0] = '\0';
		e->digest_len = 0;
	}
}

static void parse_size(const char *f, size_t len, struct record_entry *e)
{
	uint64_t v = 0;

	if (len == 0)
		return;
	if (len > 20)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (f[i] < '0' || f[i] > '9')
			goto bad;
		d = (unsigned)(f[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	e->has_size = true;
	e->size = v;
	return;
bad:
	e->size_bad = true;
}

struct field {
	char *buf;       /* RECORD_MAX_FIELD + 1 */
	size_t len;
};

/* Read one CSV row starting at *pos: up to 3 fields.  Returns 1 for a row,
 * 0 at the end, -1 on an error. */
static int read_row(const char *buf, size_t len, size_t *pos, struct field f[3], int *nf,
		    size_t row, char *err, size_t errlen)
{
	size_t p = *pos;
	int k = 0;

	if (p >= len)
		return 0;
	f[0].len = f[1].len = f[2].len = 0;
	for (;;) {
		bool quoted = false;
		struct field *cur;

		if (k >= 3) {
			set_err(err, errlen, "row %zu has more than 3 fields", row);
			return -1;
		}
		cur = &f[k++];
		if (p < len && buf[p] == '"') {
			quoted = true;
			p++;
		}
		for (;;) {
			char c;

			if (p >= len) {
				if (quoted) {
					set_err(err, errlen, "row %zu: unterminated quoted field", row);
					return -1;
				}
				break;
			}
			c = buf[p];
			if (c == '\0') {
				set_err(err, errlen, "row %zu: NUL byte", row);
				return -1;
			}
			if (quoted) {
				if (c == '"') {
					if (p + 1 < len && buf[p + 1] == '"') {
						p++;
					} else {
						p++;
						quoted = false;
						/* After the closing quote only a separator or the line end. */
						if (p < len && buf[p] != ',' && buf[p] != '\n' && buf[p] != '\r') {
							set_err(err, errlen, "row %zu: text after a closing quote", row);
							return -1;
						}
						continue;
					}
				}
			} else if (c == ',' || c == '\n' || c == '\r') {
				break;
			} else if (c == '"') {
				set_err(err, errlen, "row %zu: quote inside an unquoted field", row);
				return -1;
			}
			if (cur->len >= RECORD_MAX_FIELD) {
				set_err(err, errlen, "row %zu: field longer than %u bytes", row, RECORD_MAX_FIELD);
				return -1;
			}
			cur->buf[cur->len++] = c;
			p++;
		}
		cur->buf[cur->len] = '\0';
		if (p < len && buf[p] == ',') {
			p++;
			continue;
		}
		if (p < len && buf[p] == '\r')
			p++;
		if (p < len && buf[p] == '\n')
			p++;
		break;
	}
	*pos = p;
	*nf = k;
	return 1;
}

/* A new, zeroed row at the end of out (*cap: its room); NULL with a
 * message naming the rows ("rows", "lines") beyond RECORD_MAX_ROWS. */
static struct record_entry *record_add(struct record *out, size_t *cap, const char *rows,
				       char *err, size_t errlen)
{
	struct record_entry *e;

	if (out->n >= RECORD_MAX_ROWS) {
		set_err(err, errlen, "more than %u %s", RECORD_MAX_ROWS, rows);
		return NULL;
	}
	if (out->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		out->e = xrealloc(out->e, *cap * sizeof(*out->e));
	}
	e = &out->e[out->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

int record_parse(const char *buf, size_t len, struct record *out, char *err, size_t errlen)
{
	struct field f[3];
	size_t pos = 0, cap = 0, row = 0;
	int nf, r, ret = -1;

	out->e = NULL;
	out->n = 0;
	if (len > RECORD_MAX_BYTES) {
		set_err(err, errlen, "larger than %u bytes", RECORD_MAX_BYTES);
		return -1;
	}
	for (int i = 0; i < 3; i++)
		f[i].buf = xmalloc(RECORD_MAX_FIELD + 1);
	while ((r = read_row(buf, len, &pos, f, &nf, row + 1, err, errlen)) > 0) {
		struct record_entry *e;

		row++;
		if (nf == 1 && f[0].len == 0)
			continue; /* an empty line */
		if (f[0].len == 0) {
			set_err(err, errlen, "row %zu: empty path", row);
			goto out;
		}
		if (!(e = record_add(out, &cap, "rows", err, errlen)))
			goto out;
		e->path = xstrdup(f[0].buf);
		if (nf > 1)
			parse_hash(f[1].buf, f[1].len, e);
		if (nf > 2)
			parse_size(f[2].buf, f[2].len, e);
	}
	if (r == 0)
		ret = 0;
out:
	for (int i = 0; i < 3; i++)
		free(f[i].buf);
	if (ret < 0)
		record_free(out);
	return ret;
}

int record_parse_lines(const char *buf, size_t len, struct record *out, char *err, size_t errlen)
{
	size_t pos = 0, cap = 0, row = 0;

	out->e = NULL;
	out->n = 0;
	if (len > RECORD_MAX_BYTES) {
		set_err(err, errlen, "larger than %u bytes", RECORD_MAX_BYTES);
		return -1;
	}
	if (memchr(buf, '\0', len)) {
		set_err(err, errlen, "a NUL byte");
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - pos;
		struct record_entry *e;

		row++;
		if (n && buf[pos + n - 1] == '\r')
			n--;
		if (n == 0) {
			pos = end + 1;
			continue;
		}
		if (n > RECORD_MAX_FIELD) {
			set_err(err, errlen, "line %zu: longer than %u bytes", row, RECORD_MAX_FIELD);
			goto fail;
		}
		if (!(e = record_add(out, &cap, "lines", err, errlen)))
			goto fail;
		e->path = xasprintf("%.*s", (int)n, buf + pos);
		pos = end + 1;
	}
	return 0;
fail:
	record_free(out);
	return -1;
}

typedef int (*parse_fn)(const char *buf, size_t len, struct record *out, char *err, size_t errlen);

static int read_parse_at(int dirfd, const char *name, parse_fn parse, struct record *out, char *err,
			 size_t errlen)
{
	autoclose int fd = -1;
	autofree char *buf = NULL;
	struct stat st;
	ssize_t n;

	out->e = NULL;
	out->n = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		set_err(err, errlen, "open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "not a regular file");
		return -1;
	}
	if ((uint64_t)st.st_size > RECORD_MAX_BYTES) {
		set_err(err, errlen, "larger than %u bytes", RECORD_MAX_BYTES);
		return -1;
	}
	/* One byte more than the size: a file that grows is caught. */
	buf = xmalloc((size_t)st.st_size + 1);
	n = read_all(fd, buf, (size_t)st.st_size + 1);
	if (n < 0) {
		set_err(err, errlen, "read: %s", strerror(errno));
		return -1;
	}
	if (n > st.st_size) {
		set_err(err, errlen, "changed while being read");
		return -1;
	}
	return parse(buf, (size_t)n, out, err, errlen);
}

int record_read_at(int dirfd, const char *name, struct record *out, char *err, size_t errlen)
{
	return read_parse_at(dirfd, name, record_parse, out, err, errlen);
}

int record_read_lines_at(int dirfd, const char *name, struct record *out, char *err, size_t errlen)
{
	return read_parse_at(dirfd, name, record_parse_lines, out, err, errlen);
}

void record_free(struct record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->e[i].path);
	free(r->e);
	r->e = NULL;
	r->n = 0;
}
