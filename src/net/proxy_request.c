/* The egress proxy's HTTP request parser: the request line and header of
 * a CONNECT or an absolute-form http:// request, bounded, strict, and the
 * header to send upstream for plain HTTP.  No state, no I/O: the fuzzer
 * (tests/fuzz/net/fuzz_proxy_request.c) calls it directly. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/proxy.h"
#include "base/base.h"

void proxy_request_clear(struct proxy_request *req)
{
	free(req->path);
	free(req->upstream_head);
	memset(req, 0, sizeof(*req));
}

static bool is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* End of the header: the first empty line ("\r\n" or "\n" line ends).
 * Returns the length up to and including it, or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Hop-by-hop and proxy headers that never go upstream; Host is replaced
 * by the URL's authority (RFC 9112 3.2.2: the target wins). */
static bool drop_header(const char *name, size_t n)
{
	static const char *const drop[] = { "connection", "keep-alive", "te", "trailer",
					    "upgrade", "host", "transfer-encoding-proxy" };

	if (n >= 6 && strncasecmp(name, "proxy-", 6) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(drop); i++)
		if (strlen(drop[i]) == n && strncasecmp(name, drop[i], n) == 0)
			return true;
	return false;
}

struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Where a refusal goes: the status (400, 431, 501) and the reason. */
struct parse_err {
	int *status;
	char *buf;
	size_t len;
};

/* The request is not acceptable: say why; returns -1. */
__attribute__((format(printf, 3, 4)))
static int bad(struct parse_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	*e->status = code;
	va_start(ap, fmt);
	vsnprintf(e->buf, e->len, fmt, ap);
	va_end(ap);
	return -1;
}

/* The request line "METHOD SP TARGET SP HTTP/1.x" (line_len bytes, its
 * line end cut): the method into req; the target and the version point
 * into line. */
static int parse_request_line(const char *line, size_t line_len, struct proxy_request *req,
			      const char **target, size_t *tlen, const char **version,
			      struct parse_err *e)
{
	const char *sp1 = memchr(line, ' ', line_len), *sp2;
	size_t vlen;

	if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof(req->method))
		return bad(e, 400, "the request line is not METHOD TARGET HTTP/1.1");
	for (const char *c = line; c < sp1; c++)
		if (!is_tchar(*c))
			return bad(e, 400, "the method contains a character that is not allowed");
	memcpy(req->method, line, (size_t)(sp1 - line));
	*target = sp1 + 1;
	sp2 = memchr(*target, ' ', line_len - (size_t)(*target - line));
	if (!sp2 || sp2 == *target)
		return bad(e, 400, "the request line is not METHOD TARGET HTTP/1.1");
	*tlen = (size_t)(sp2 - *target);
	*version = sp2 + 1;
	vlen = line_len - (size_t)(*version - line);
	if (!(vlen == 8 && (memcmp(*version, "HTTP/1.1", 8) == 0 || memcmp(*version, "HTTP/1.0", 8) == 0)))
		return bad(e, 400, "the request line does not end with HTTP/1.1 or HTTP/1.0");
	for (const char *c = *target; c < sp2; c++)
		if (!isgraph((unsigned char)*c))
			return bad(e, 400, "the request target contains a space or a control character");
	return 0;
}

/* The target of a request other than CONNECT: an absolute-form
 * "http://authority/path" URL.  Host and port and the origin-form path
 * into req; the request line and Host field to send upstream into up. */
static int parse_http_target(const char *target, size_t tlen, const char *version,
			     struct proxy_request *req, struct sbuf *up, struct parse_err *e)
{
	const char *end = target + tlen, *auth, *rest, *at, *hash, *why;
	char authority[300];
	size_t alen, plen;

	if (!(tlen > 7 && strncasecmp(target, "http://", 7) == 0)) {
		if (tlen > 8 && strncasecmp(target, "https://", 8) == 0)
			return bad(e, 400, "an https:// URL must be reached with CONNECT, not %s", req->method);
		if (target[0] == '/')
			return bad(e, 400, "this is a proxy: the request target must be an absolute http:// URL");
		return bad(e, 501, "only CONNECT and absolute-form http:// requests are forwarded");
	}
	auth = target + 7;
	for (alen = 0; auth + alen < end && !strchr("/?#", auth[alen]); alen++)
		;
	rest = auth + alen;
	/* user:password@ never goes into the upstream request line. */
	at = memrchr(auth, '@', alen);
	if (at) {
		alen -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	why = hostrule_authority(auth, alen, 80, req->host, sizeof(req->host), &req->port);
	if (why)
		return bad(e, 400, "%s %.*s: %s", req->method, (int)(tlen > 200 ? 200 : tlen), target, why);
	snprintf(authority, sizeof(authority), "%.*s", (int)alen, auth);
	/* The fragment is not sent; a query without a path gets "/". */
	plen = (size_t)(end - rest);
	hash = memchr(rest, '#', plen);
	if (hash)
		plen = (size_t)(hash - rest);
	req->path = rest[0] == '/' ? strndup(rest, plen) : xasprintf("/%.*s", (int)plen, rest);
	if (!req->path)
		die("out of memory");

	sb_add(up, req->method, strlen(req->method));
	sb_str(up, " ");
	sb_str(up, req->path);
	sb_str(up, " ");
	sb_add(up, version, 8);
	sb_str(up, "\r\nHost: ");
	sb_str(up, authority);
	sb_str(up, "\r\n");
	return 0;
}

/* The header fields from pos up to end: NAME ":" VALUE, no obsolete line
 * folding.  Those that go upstream (not for CONNECT) are added to up. */
static int parse_fields(const char *buf, size_t pos, size_t end, bool connect, struct sbuf *up,
			struct parse_err *e)
{
	while (pos < end) {
		const char *line = buf + pos, *nl = memchr(line, '\n', end - pos), *colon;
		size_t l = (size_t)(nl - line);

		pos += l + 1;
		if (l && line[l - 1] == '\r')
			l--;
		if (l == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return bad(e, 400, "obsolete header line folding is not accepted");
		colon = memchr(line, ':', l);
		if (!colon || colon == line)
			return bad(e, 400, "a header line is not NAME: VALUE");
		for (const char *c = line; c < colon; c++)
			if (!is_tchar(*c))
				return bad(e, 400, "a header name contains a character that is not allowed");
		for (const char *c = colon + 1; c < line + l; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return bad(e, 400, "a header value contains a control character");
		if (connect || drop_header(line, (size_t)(colon - line)))
			continue;
		sb_add(up, line, l);
		sb_str(up, "\r\n");
	}
	return 0;
}

int proxy_parse_request(const char *buf, size_t len, struct proxy_request *req,
			int *status, char *err, size_t errlen)
{
	struct parse_err e = { .status = status, .buf = err, .len = errlen };
	struct sbuf up = { 0 };
	const char *target = NULL, *version = NULL, *why;
	size_t end, first_line, line_len, tlen = 0;

	memset(req, 0, sizeof(*req));
	*status = 0;
	if (len > PROXY_HEAD_MAX)
		len = PROXY_HEAD_MAX;
	end = head_end(buf, len);
	if (end == 0) {
		/* A request line alone longer than the bound, or garbage. */
		if (len >= PROXY_HEAD_MAX)
			return bad(&e, 431, "the request header is larger than %d bytes", PROXY_HEAD_MAX);
		if (memchr(buf, '\0', len))
			return bad(&e, 400, "the request contains a NUL byte");
		return 0;
	}
	first_line = (size_t)((const char *)memchr(buf, '\n', end) - buf);
	line_len = first_line && buf[first_line - 1] == '\r' ? first_line - 1 : first_line;
	if (parse_request_line(buf, line_len, req, &target, &tlen, &version, &e) < 0)
		return -1;
	req->connect = strcmp(req->method, "CONNECT") == 0;
	if (req->connect) {
		why = hostrule_authority(target, tlen, 0, req->host, sizeof(req->host), &req->port);
		if (why)
			return bad(&e, 400, "CONNECT %.*s: %s", (int)(tlen > 200 ? 200 : tlen), target, why);
	} else if (parse_http_target(target, tlen, version, req, &up, &e) < 0) {
		goto fail;
	}
	if (parse_fields(buf, first_line + 1, end, req->connect, &up, &e) < 0)
		goto fail;
	if (!req->connect) {
		/* One request per upstream connection (docs/proxy.md). */
		sb_str(&up, "Connection: close\r\n\r\n");
		req->upstream_head = up.s;
		req->upstream_len = up.n;
		up.s = NULL;
	}
	req->head_len = end;
	return 1;
fail:
	free(up.s);
	free(req->path);
	req->path = NULL;
	return -1;
}
