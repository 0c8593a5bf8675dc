/* Which destinations the egress proxy may reach: HOST[:PORT] rules.
 *
 * Rules come from two places: the user (`--allow-host`, the profile) and
 * pip's own index configuration (--index-url, --extra-index-url,
 * --find-links, PIP_INDEX_URL and friends, pip.conf files), so that a plain
 * `pipjail pip install foo` reaches the index the user already configured
 * and nothing else.
 *
 * Rule syntax (docs/proxy.md):
 *   example.org            the host, any port
 *   example.org:443        the host, that port only
 *   *.example.org[:PORT]   any subdomain at any depth (not example.org itself)
 *   *                      any host (explicit opt-out; port may follow: *:443)
 *   127.0.0.1[:PORT]       IPv4 literal
 *   [::1][:PORT], ::1      IPv6 literal (brackets needed with a port)
 *   HOST:*                 explicit "any port"
 * Host names match case-insensitively, a trailing dot ignored; IPv6 literals
 * match by address (so [::1] matches [0::1]). */
#ifndef PIPJAIL_HOSTRULE_H
#define PIPJAIL_HOSTRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pip/pip.h"

struct hostrule {
	char *host;        /* lower case, no brackets, no trailing dot; "*" for any;
	                    * for a wildcard the suffix without "*": ".example.org" */
	bool wildcard;     /* "*.suffix" or "*" */
	bool any_host;     /* "*" */
	uint16_t port;     /* 0: any port */
	char *source;      /* where it came from: "--allow-host", "PIP_INDEX_URL",
	                    * "/etc/pip.conf [global] index-url", ... */
	char *text;        /* as the user wrote it (URL with any password removed) */
};

struct hostrules {
	struct hostrule *v;
	size_t n, cap;
	/* Set by hostrules_add_pip_config(): pip's index configuration was
	 * found (or the PyPI default applies); for messages. */
	bool pypi_default;
};

/* Parse one "HOST[:PORT]" rule.  0, or -1 with a one-line message in err
 * that names source and the expected form. */
int hostrule_parse(const char *spec, const char *source, struct hostrule *out,
		   char *err, size_t errlen);

/* Add a parsed rule (the set takes ownership of its strings). */
void hostrules_push(struct hostrules *rs, struct hostrule *r);

/* Parse spec and add it.  0 or -1 (err as for hostrule_parse). */
int hostrules_add(struct hostrules *rs, const char *spec, const char *source,
		  char *err, size_t errlen);

/* Add the host of an index URL.  http:// and https:// URLs give HOST:PORT
 * (the scheme's default port when none is written); "file:" URLs and plain
 * paths give nothing and return 0 (pip reads them from disk); any other
 * scheme or a malformed URL returns -1 with err naming source. */
int hostrules_add_url(struct hostrules *rs, const char *url, const char *source,
		      char *err, size_t errlen);

/* The first rule that allows host:port, or NULL.  host is as the client
 * wrote it (IPv6 without brackets). */
const struct hostrule *hostrules_match(const struct hostrules *rs, const char *host, uint16_t port);

/* "127.0.0.1:8080 (--index-url), *.example.org (--allow-host)" into buf,
 * cut with "..." when long; "none" when empty. */
void hostrules_describe(const struct hostrules *rs, char *buf, size_t len);

/* Split a request authority ("host:port", "[v6]:port", "host") of len
 * bytes into host (lower case, no brackets) and port; default_port 0 means
 * the port is required.  NULL, or why it is not a valid authority. */
const char *hostrule_authority(const char *auth, size_t len, uint16_t default_port,
			       char *host, size_t hostlen, uint16_t *port);

void hostrule_clear(struct hostrule *r);
void hostrules_free(struct hostrules *rs);

/* Add the hosts of pip's index configuration, every setting that
 * pip_index_settings() finds: --index-url/-i, --extra-index-url,
 * --find-links/-f (also inside -r/-c requirement files), PIP_INDEX_URL,
 * PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS (space separated), and the pip.conf
 * files pip reads ([global], [install], [download], [wheel]: index-url,
 * extra-index-url, find-links).  When no
 * index URL is configured anywhere and --no-index is not given, pip uses
 * PyPI: pypi.org:443 and files.pythonhosted.org:443 are added.
 * The union of every place is allowed (a superset of the effective
 * configuration: every host is one the user configured).
 * Returns 0, or -1 with one message in err naming where the bad URL came
 * from (file and line, environment variable or option). */
int hostrules_add_pip_config(struct hostrules *rs, const struct pip_config_src *src,
			     char *err, size_t errlen);

#endif
