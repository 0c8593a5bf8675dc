/* HOST[:PORT] allow rules for the egress proxy, and the hosts of pip's own
 * index configuration.  See hostrule.h for the syntax. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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

/* ---- pip's configuration ------------------------------------------------ */

enum pip_key { KEY_NONE, KEY_INDEX, KEY_EXTRA, KEY_FIND_LINKS, KEY_NO_INDEX };

struct pipscan {
	struct hostrules *rs;
	const struct pip_config_src *src;
	bool index_seen, no_index;
	char *err;
	size_t errlen;
};

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static bool truthy(const char *v)
{
	return v && (strcasecmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
		     strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Every whitespace-separated URL of value. */
static int add_urls(struct pipscan *s, enum pip_key key, const char *value, const char *source)
{
	autofree char *copy = xstrdup(value);
	char *save = NULL;

	if (key == KEY_NO_INDEX) {
		if (truthy(value))
			s->no_index = true;
		return 0;
	}
	/* index-url is one value (a space in it is an error); the others are
	 * lists, whitespace-separated as pip splits them. */
	if (key == KEY_INDEX) {
		char *u = trim(copy);

		s->index_seen = true;
		return *u ? hostrules_add_url(s->rs, u, source, s->err, s->errlen) : 0;
	}
	for (char *u = strtok_r(copy, " \t\r\n", &save); u; u = strtok_r(NULL, " \t\r\n", &save))
		if (hostrules_add_url(s->rs, u, source, s->err, s->errlen) < 0)
			return -1;
	return 0;
}

/* pip normalises option names: "index_url", "--index-url", "Index-URL". */
static enum pip_key key_of(const char *raw)
{
	char k[64];
	size_t i;

	while (*raw == '-')
		raw++;
	for (i = 0; raw[i] && i + 1 < sizeof(k); i++)
		k[i] = raw[i] == '_' ? '-' : (char)tolower((unsigned char)raw[i]);
	k[i] = '\0';
	if (strcmp(k, "index-url") == 0 || strcmp(k, "i") == 0)
		return KEY_INDEX;
	if (strcmp(k, "extra-index-url") == 0)
		return KEY_EXTRA;
	if (strcmp(k, "find-links") == 0 || strcmp(k, "f") == 0)
		return KEY_FIND_LINKS;
	if (strcmp(k, "no-index") == 0)
		return KEY_NO_INDEX;
	return KEY_NONE;
}

static const char *key_name(enum pip_key k)
{
	switch (k) {
	case KEY_INDEX: return "index-url";
	case KEY_EXTRA: return "extra-index-url";
	case KEY_FIND_LINKS: return "find-links";
	case KEY_NO_INDEX: return "no-index";
	default: return "?";
	}
}

static FILE *open_config(const struct pipscan *s, const char *path)
{
	int fd = s->src->open_file ? s->src->open_file(path, s->src->ctx)
				   : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}


/* Apply one "key = value" of a pip.conf section that pip install reads. */
static int conf_apply(struct pipscan *s, const char *path, unsigned line, const char *section,
		      const char *key, const char *value)
{
	enum pip_key k = key_of(key);
	autofree char *where = NULL;

	if (k == KEY_NONE)
		return 0;
	if (strcmp(section, "global") && strcmp(section, "install") &&
	    strcmp(section, "download") && strcmp(section, "wheel"))
		return 0;
	where = xasprintf("%s:%u [%s] %s", path, line, section, key_name(k));
	return add_urls(s, k, value, where);
}

/* An INI file as Python's configparser reads it: [section], key = value or
 * key: value, indented continuation lines, # and ; comments.  A missing or
 * unreadable file is skipped (pip skips it too). */
static int scan_pip_conf(struct pipscan *s, const char *path)
{
	FILE *f = open_config(s, path);
	char *line = NULL, section[64] = "", key[64] = "";
	size_t cap = 0;
	unsigned lineno = 0, key_line = 0;
	autofree char *value = NULL;
	int rc = 0;

	if (!f)
		return 0;
	debugx(2, "proxy: reading pip configuration %s", path);
	while (getline(&line, &cap, f) >= 0) {
		char *t = trim(line);

		lineno++;
		/* A continuation line extends the current value. */
		if (key[0] && value && isspace((unsigned char)line[0]) && *t && *t != '#' && *t != ';') {
			char *nv = xasprintf("%s %s", value, t);

			free(value);
			value = nv;
			continue;
		}
		if (key[0] && value) {
			if (conf_apply(s, path, key_line, section, key, value) < 0) {
				rc = -1;
				break;
			}
			key[0] = '\0';
			free(value);
			value = NULL;
		}
		if (*t == '\0' || *t == '#' || *t == ';')
			continue;
		if (*t == '[') {
			char *end = strchr(t, ']');

			snprintf(section, sizeof(section), "%.*s", end ? (int)(end - t - 1) : 0, t + 1);
			lower(section);
			continue;
		}
		size_t klen = strcspn(t, "=:");

		if (t[klen] == '\0')
			continue;    /* not a key line; configparser would fail, pip too */
		t[klen] = '\0';
		snprintf(key, sizeof(key), "%s", trim(t));
		value = xstrdup(trim(t + klen + 1));
		key_line = lineno;
	}
	if (rc == 0 && key[0] && value && conf_apply(s, path, key_line, section, key, value) < 0)
		rc = -1;
	free(line);
	fclose(f);
	return rc;
}

static int scan_requirements(struct pipscan *s, const char *path, const char *base_dir, int depth);

/* One option of pip's command line or of a requirements file.  *used: how
 * many of args were consumed (1 or 2). */
static int scan_option(struct pipscan *s, char *const *args, const char *where, const char *dir,
		       int depth, int *used)
{
	const char *a = args[0], *val = NULL, *eq;
	char name[64];
	enum pip_key k;
	autofree char *src = NULL;

	*used = 1;
	if (a[0] != '-' || a[1] == '\0')
		return 0;
	if (a[1] == '-') {
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (eq)
			val = eq + 1;
	} else {
		/* Short options: -i URL, -iURL, -f URL, -r FILE, -c FILE. */
		snprintf(name, sizeof(name), "-%c", a[1]);
		if (a[2])
			val = a + 2;
	}
	bool req = strcmp(name, "-r") == 0 || strcmp(name, "--requirement") == 0 ||
		   strcmp(name, "-c") == 0 || strcmp(name, "--constraint") == 0;

	k = key_of(name);
	if (strcmp(name, "-i") && strcmp(name, "-f") && name[1] != '-' && !req)
		return 0;    /* another short option (or a bundle such as -qq) */
	if (k == KEY_NONE && !req)
		return 0;
	if (k == KEY_NO_INDEX) {
		s->no_index = true;
		return 0;
	}
	if (!val) {
		val = args[1];
		if (!val)
			return 0;    /* pip reports the missing value itself */
		*used = 2;
	}
	if (req) {
		if (strstr(val, "://"))
			return 0;    /* a requirements URL: pip fetches it; not followed */
		return scan_requirements(s, val, dir, depth + 1);
	}
	src = xasprintf("%s%s%s", where, *where ? " " : "", name);
	return add_urls(s, k, val, src);
}

/* Expand ${NAME} as pip does in requirements files. */
static char *expand_env(const struct pipscan *s, const char *in)
{
	size_t cap = strlen(in) + 1, n = 0;
	char *out = xmalloc(cap);

	for (const char *p = in; *p;) {
		const char *add = p, *end;
		size_t alen = 1;
		char var[128];

		if (p[0] == '$' && p[1] == '{' && (end = strchr(p + 2, '}')) &&
		    (size_t)(end - p - 2) < sizeof(var)) {
			snprintf(var, sizeof(var), "%.*s", (int)(end - p - 2), p + 2);
			add = env_get(s->src->envp, var);
			if (!add)
				add = "";
			alen = strlen(add);
			p = end + 1;
		} else {
			p++;
		}
		if (n + alen + 1 > cap) {
			cap = (n + alen + 1) * 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + n, add, alen);
		n += alen;
	}
	out[n] = '\0';
	return out;
}

static int scan_requirements(struct pipscan *s, const char *path, const char *base_dir, int depth)
{
	autofree char *full = NULL, *dir = NULL, *logical = NULL;
	char *line = NULL, *slash;
	size_t cap = 0;
	unsigned lineno = 0, start = 0;
	FILE *f;
	int rc = 0;

	if (depth > 10)
		return 0;    /* a loop of -r files: pip reports it */
	full = path[0] == '/' || !base_dir ? xstrdup(path) : xasprintf("%s/%s", base_dir, path);
	dir = xstrdup(full);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else {
		free(dir);
		dir = base_dir ? xstrdup(base_dir) : NULL;
	}
	f = open_config(s, full);
	if (!f)
		return 0;    /* pip reports a missing file */
	while (getline(&line, &cap, f) >= 0) {
		size_t len = strlen(line);

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!logical)
			start = lineno;
		if (len && line[len - 1] == '\\') {
			line[len - 1] = '\0';
			char *nl = xasprintf("%s%s", logical ? logical : "", line);

			free(logical);
			logical = nl;
			continue;
		}
		char *joined = xasprintf("%s%s", logical ? logical : "", line);

		free(logical);
		logical = NULL;
		/* A comment starts a line or follows whitespace. */
		for (char *c = joined; *c; c++) {
			if (*c == '#' && (c == joined || isspace((unsigned char)c[-1]))) {
				*c = '\0';
				break;
			}
		}
		autofree char *expanded = expand_env(s, joined);
		autofree char *where = xasprintf("%s:%u", full, start);
		char *args[3] = { NULL }, *save = NULL;

		free(joined);
		args[0] = strtok_r(expanded, " \t", &save);
		args[1] = args[0] ? strtok_r(NULL, " \t", &save) : NULL;
		if (args[0]) {
			int used;

			if (scan_option(s, args, where, dir, depth, &used) < 0) {
				rc = -1;
				break;
			}
		}
	}
	free(line);
	free(logical);
	logical = NULL;
	fclose(f);
	return rc;
}

static bool is_pip_program(const char *arg)
{
	const char *b = strrchr(arg, '/');

	b = b ? b + 1 : arg;
	if (strncmp(b, "pip", 3) != 0)
		return false;
	for (b += 3; *b; b++)
		if (!isdigit((unsigned char)*b) && *b != '.')
			return false;
	return true;
}

static int scan_argv(struct pipscan *s)
{
	char *const *argv = s->src->argv;
	size_t i = 0;

	if (!argv)
		return 0;
	/* Find pip: "pip ...", "/venv/bin/pip3 ...", "python3 -m pip ...". */
	for (; argv[i]; i++) {
		if (is_pip_program(argv[i])) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-m") == 0 && argv[i + 1] && strcmp(argv[i + 1], "pip") == 0) {
			i += 2;
			break;
		}
	}
	while (argv[i] && strcmp(argv[i], "--") != 0) {
		int used;

		if (scan_option(s, &argv[i], "", s->src->cwd, 0, &used) < 0)
			return -1;
		i += (size_t)used;
	}
	return 0;
}

static int scan_env(struct pipscan *s)
{
	static const struct { const char *name; enum pip_key key; } vars[] = {
		{ "PIP_INDEX_URL", KEY_INDEX }, { "PIP_EXTRA_INDEX_URL", KEY_EXTRA },
		{ "PIP_FIND_LINKS", KEY_FIND_LINKS }, { "PIP_NO_INDEX", KEY_NO_INDEX },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = env_get(s->src->envp, vars[i].name);

		if (v && add_urls(s, vars[i].key, v, vars[i].name) < 0)
			return -1;
	}
	return 0;
}

/* pip's files, in its order: PIP_CONFIG_FILE (os.devnull: no other file),
 * the system files, the user files, $VIRTUAL_ENV/pip.conf. */
static int scan_conf_files(struct pipscan *s)
{
	static const char *const system_default[] = { "/etc/xdg/pip/pip.conf", "/etc/pip.conf", NULL };
	const char *const *sys = s->src->system_files ? s->src->system_files : system_default;
	const char *cf = env_get(s->src->envp, "PIP_CONFIG_FILE");
	const char *xdg = env_get(s->src->envp, "XDG_CONFIG_HOME");
	const char *venv = env_get(s->src->envp, "VIRTUAL_ENV");
	const char *home = s->src->home;

	if (cf && *cf) {
		if (strcmp(cf, "/dev/null") == 0)
			return 0;
		if (scan_pip_conf(s, cf) < 0)
			return -1;
	}
	for (; *sys; sys++)
		if (scan_pip_conf(s, *sys) < 0)
			return -1;
	if (home) {
		autofree char *legacy = xasprintf("%s/.pip/pip.conf", home);

		if (scan_pip_conf(s, legacy) < 0)
			return -1;
	}
	if (xdg && xdg[0] == '/') {
		autofree char *p = xasprintf("%s/pip/pip.conf", xdg);

		if (scan_pip_conf(s, p) < 0)
			return -1;
	} else if (home) {
		autofree char *p = xasprintf("%s/.config/pip/pip.conf", home);

		if (scan_pip_conf(s, p) < 0)
			return -1;
	}
	if (venv && *venv) {
		autofree char *p = xasprintf("%s/pip.conf", venv);

		if (scan_pip_conf(s, p) < 0)
			return -1;
	}
	return 0;
}

int hostrules_add_pip_config(struct hostrules *rs, const struct pip_config_src *src,
			     char *err, size_t errlen)
{
	struct pipscan s = { .rs = rs, .src = src, .err = err, .errlen = errlen };
	struct hostrule r;

	if (scan_conf_files(&s) < 0 || scan_env(&s) < 0 || scan_argv(&s) < 0)
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
