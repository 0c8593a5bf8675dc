/* HOST[:PORT] allow rules for the egress proxy, and the hosts of pip's own
 * index configuration (which src/pip/ finds).  See hostrule.h for the
 * syntax. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/hostrule.h"
#include "base/base.h"

#define RULE_FORM "expected HOST[:PORT], e.g. example.org, *.example.org:443, 127.0.0.1:8080, [::1]:8080"

void hostrule_clear(struct hostrule *r)
{
	free(r->host);
	free(r->source);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void hostrules_free(struct hostrules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		hostrule_clear(&rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

void hostrules_push(struct hostrules *rs, struct hostrule *r)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 8;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	rs->v[rs->n++] = *r;
	memset(r, 0, sizeof(*r));
}

static bool is_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/* A DNS name or an IPv4 literal: letters, digits, '-', '_' (seen on
 * internal hosts), dots between non-empty labels of at most 63. */
static const char *bad_name(const char *h)
{
	size_t label = 0, len = strlen(h);

	if (len == 0)
		return "the host is empty";
	if (len > 253)
		return "the host name is longer than 253 characters";
	for (const char *p = h; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return "the host name has an empty label (\"..\" or a leading dot)";
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return "the host contains a character that is not allowed in a host name";
		if (++label > 63)
			return "a label of the host name is longer than 63 characters";
	}
	if (label == 0)
		return "the host name has an empty label (it ends with \"..\")";
	return NULL;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void strip_trailing_dot(char *s)
{
	size_t n = strlen(s);

	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

/* Split "host", "host:port", "[v6]", "[v6]:port", "v6" into host and the
 * port text (NULL when absent).  Modifies buf.  NULL or an error. */
static const char *split_hostport(char *buf, char **host, char **port)
{
	*port = NULL;
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end)
			return "an IPv6 address opened with '[' is not closed with ']'";
		*end = '\0';
		*host = buf + 1;
		if (end[1] == ':')
			*port = end + 2;
		else if (end[1] != '\0')
			return "unexpected text after ']' (a port is written [ADDRESS]:PORT)";
		if (!is_ipv6(*host))
			return "the text in brackets is not an IPv6 address";
		return NULL;
	}
	*host = buf;
	char *colon = strchr(buf, ':');

	if (colon && strchr(colon + 1, ':')) {
		if (!is_ipv6(buf))
			return "too many ':' (an IPv6 address with a port is written [ADDRESS]:PORT)";
		return NULL;   /* bare IPv6, no port */
	}
	if (colon) {
		*colon = '\0';
		*port = colon + 1;
	}
	return NULL;
}

static const char *parse_port(const char *p, bool star_ok, uint16_t *out)
{
	unsigned long long v;

	if (star_ok && strcmp(p, "*") == 0) {
		*out = 0;
		return NULL;
	}
	if (!parse_uint(p, 1, 65535, &v))
		return "the port is not a number from 1 to 65535";
	*out = (uint16_t)v;
	return NULL;
}

int hostrule_parse(const char *spec, const char *source, struct hostrule *out,
		   char *err, size_t errlen)
{
	autofree char *buf = xstrdup(spec ? spec : "");
	char *host, *port;
	const char *why;

	memset(out, 0, sizeof(*out));
	for (const char *p = buf; *p; p++) {
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p)) {
			why = "it contains a space or a control character";
			goto bad;
		}
	}
	why = split_hostport(buf, &host, &port);
	if (why)
		goto bad;
	if (port && (why = parse_port(port, true, &out->port)))
		goto bad;
	lower(host);
	strip_trailing_dot(host);
	if (strcmp(host, "*") == 0) {
		out->any_host = out->wildcard = true;
	} else if (strncmp(host, "*.", 2) == 0) {
		if ((why = bad_name(host + 2)))
			goto bad;
		out->wildcard = true;
		host++;    /* keep ".suffix" */
	} else if (strchr(host, '*')) {
		why = "a wildcard is only allowed as the whole first label (*.example.org) or alone (*)";
		goto bad;
	} else if (!is_ipv6(host) && (why = bad_name(host))) {
		goto bad;
	}
	out->host = xstrdup(host);
	out->source = xstrdup(source ? source : "");
	out->text = xstrdup(spec);
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': %s; " RULE_FORM, source ? source : "host rule",
		 spec ? spec : "", why);
	return -1;
}

int hostrules_add(struct hostrules *rs, const char *spec, const char *source,
		  char *err, size_t errlen)
{
	struct hostrule r;

	if (hostrule_parse(spec, source, &r, err, errlen) < 0)
		return -1;
	hostrules_push(rs, &r);
	return 0;
}

/* ---- URLs --------------------------------------------------------------- */

static bool has_scheme(const char *s, size_t *scheme_len)
{
	size_t i = 0;

	if (!isalpha((unsigned char)s[0]))
		return false;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	if (s[i] != ':')
		return false;
	*scheme_len = i;
	return true;
}

int hostrules_add_url(struct hostrules *rs, const char *url, const char *source,
		      char *err, size_t errlen)
{
	size_t slen;
	uint16_t defport;
	const char *why = NULL, *auth;
	autofree char *a = NULL;
	char *host, *port;
	struct hostrule r = { 0 };

	if (!has_scheme(url, &slen))
		return 0;     /* a local path: pip reads it from disk */
	if (slen == 4 && strncasecmp(url, "file", 4) == 0)
		return 0;
	if (slen == 4 && strncasecmp(url, "http", 4) == 0) {
		defport = 80;
	} else if (slen == 5 && strncasecmp(url, "https", 5) == 0) {
		defport = 443;
	} else if (slen == 1) {
		return 0;     /* "C:\..." style path */
	} else {
		why = "only http:// and https:// index URLs can be reached through pipjail's proxy "
		      "(file: URLs and local paths are read from disk)";
		goto bad;
	}
	if (strncmp(url + slen, "://", 3) != 0) {
		why = "expected SCHEME://HOST after the scheme";
		goto bad;
	}
	auth = url + slen + 3;
	a = strndup(auth, strcspn(auth, "/?#"));
	if (!a)
		die("out of memory");
	/* user:password@ is pip's credential syntax: keep only the host. */
	char *at = strrchr(a, '@');
	char *hp = at ? at + 1 : a;

	for (const char *p = hp; *p; p++) {
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p) || *p == '%') {
			why = "the host contains a space, a control character or '%'";
			goto bad;
		}
	}
	if ((why = split_hostport(hp, &host, &port)))
		goto bad;
	r.port = defport;
	if (port && *port && (why = parse_port(port, false, &r.port)))
		goto bad;
	lower(host);
	strip_trailing_dot(host);
	if (!is_ipv6(host) && (why = bad_name(host)))
		goto bad;
	r.host = xstrdup(host);
	r.source = xstrdup(source);
	r.text = strchr(host, ':') ? xasprintf("%.*s://[%s]:%u", (int)slen, url, host, r.port)
				   : xasprintf("%.*s://%s:%u", (int)slen, url, host, r.port);
	hostrules_push(rs, &r);
	return 0;
bad:
	/* Never print a password: show the URL only up to its host part when
	 * it carries credentials. */
	if (strchr(url, '@'))
		snprintf(err, errlen, "%s: the index URL (credentials hidden) is not usable: %s",
			 source, why);
	else
		snprintf(err, errlen, "%s: the index URL '%s' is not usable: %s", source, url, why);
	return -1;
}

const char *hostrule_authority(const char *auth, size_t len, uint16_t default_port,
			       char *host, size_t hostlen, uint16_t *port)
{
	char buf[300];
	char *h, *pt;
	const char *why;

	if (len == 0)
		return "the destination is empty";
	if (len >= sizeof(buf))
		return "the destination is too long";
	memcpy(buf, auth, len);
	buf[len] = '\0';
	for (const char *c = buf; *c; c++)
		if (isspace((unsigned char)*c) || !isprint((unsigned char)*c) || *c == '@' || *c == '%' ||
		    *c == '/' || *c == '\\')
			return "the destination contains a character not allowed in HOST:PORT";
	if ((why = split_hostport(buf, &h, &pt)))
		return why;
	*port = default_port;
	if (pt && *pt) {
		if ((why = parse_port(pt, false, port)))
			return why;
	} else if (!default_port) {
		return "the port is missing (expected HOST:PORT)";
	}
	lower(h);
	strip_trailing_dot(h);
	if (!is_ipv6(h) && (why = bad_name(h)))
		return why;
	if (strlen(h) >= hostlen)
		return "the host is too long";
	memcpy(host, h, strlen(h) + 1);
	return NULL;
}

/* ---- matching ----------------------------------------------------------- */

static bool host_equal(const char *rule, const char *host)
{
	struct in6_addr a, b;

	if (inet_pton(AF_INET6, rule, &a) == 1)
		return inet_pton(AF_INET6, host, &b) == 1 && memcmp(&a, &b, sizeof(a)) == 0;
	return strcasecmp(rule, host) == 0;
}

const struct hostrule *hostrules_match(const struct hostrules *rs, const char *host_in, uint16_t port)
{
	char host[256];
	size_t hl;

	if (!host_in || strlen(host_in) >= sizeof(host))
		return NULL;
	snprintf(host, sizeof(host), "%s", host_in);
	strip_trailing_dot(host);
	hl = strlen(host);
	if (hl == 0)
		return NULL;
	for (size_t i = 0; i < rs->n; i++) {
		const struct hostrule *r = &rs->v[i];

		if (r->port && r->port != port)
			continue;
		if (r->any_host)
			return r;
		if (r->wildcard) {
			size_t sl = strlen(r->host);

			if (hl > sl && strcasecmp(host + hl - sl, r->host) == 0 && !is_ipv6(host))
				return r;
			continue;
		}
		if (host_equal(r->host, host))
			return r;
	}
	return NULL;
}

void hostrules_describe(const struct hostrules *rs, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (rs->n == 0) {
		snprintf(buf, len, "none");
		return;
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct hostrule *r = &rs->v[i];
		char one[400], hostpart[280];
		int n;

		if (r->any_host)
			snprintf(hostpart, sizeof(hostpart), "*");
		else if (r->wildcard)
			snprintf(hostpart, sizeof(hostpart), "*%s", r->host);
		else if (strchr(r->host, ':'))
			snprintf(hostpart, sizeof(hostpart), "[%s]", r->host);
		else
			snprintf(hostpart, sizeof(hostpart), "%s", r->host);
		if (r->port)
			n = snprintf(one, sizeof(one), "%s%s:%u (%s)", i ? ", " : "", hostpart, r->port, r->source);
		else
			n = snprintf(one, sizeof(one), "%s%s (%s)", i ? ", " : "", hostpart, r->source);
		if (off + (size_t)n + 5 >= len) {
			snprintf(buf + off, len - off, "%s...", i ? ", " : "");
			return;
		}
		memcpy(buf + off, one, (size_t)n + 1);
		off += (size_t)n;
	}
}

/* ---- pip's index configuration --------------------------------------------- */

struct pipscan {
	struct hostrules *rs;
	bool index_seen, no_index;
	char *err;
	size_t errlen;
};

/* One setting of pip's (src/pip/index.c): every URL it names.  index-url
 * is one value (a space in it is an error); the others are lists,
 * whitespace-separated as pip splits them. */
static int add_setting(void *ctx, const struct pip_index_setting *set)
{
	struct pipscan *s = ctx;
	autofree char *copy = NULL;
	char *save = NULL;

	if (set->opt == PIP_OPT_NO_INDEX) {
		if (!set->value || pip_config_truthy(set->value))
			s->no_index = true;
		return 0;
	}
	copy = xstrdup(set->value);
	if (set->opt == PIP_OPT_INDEX_URL) {
		char *u = copy, *e;

		s->index_seen = true;
		while (isspace((unsigned char)*u))
			u++;
		for (e = u + strlen(u); e > u && isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
		return *u ? hostrules_add_url(s->rs, u, set->where, s->err, s->errlen) : 0;
	}
	for (char *u = strtok_r(copy, " \t\r\n", &save); u; u = strtok_r(NULL, " \t\r\n", &save))
		if (hostrules_add_url(s->rs, u, set->where, s->err, s->errlen) < 0)
			return -1;
	return 0;
}

int hostrules_add_pip_config(struct hostrules *rs, const struct pip_config_src *src,
			     char *err, size_t errlen)
{
	struct pipscan s = { .rs = rs, .err = err, .errlen = errlen };
	struct hostrule r;

	if (pip_index_settings(src, add_setting, &s) != 0)
		return -1;
	if (s.index_seen || s.no_index)
		return 0;
	/* pip's default index and the host that serves its files. */
	if (hostrules_add_url(rs, "https://pypi.org/simple", "pip's default index (PyPI)", err, errlen) < 0 ||
	    hostrule_parse("files.pythonhosted.org:443", "pip's default index (PyPI files)", &r, err, errlen) < 0)
		return -1;
	hostrules_push(rs, &r);
	rs->pypi_default = true;
	return 0;
}
