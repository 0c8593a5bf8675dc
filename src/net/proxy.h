/* The egress proxy: the only way out of the jail's network namespace.
 *
 * It listens on 127.0.0.1:PORT (and [::1]:PORT) *inside* the jail's net
 * namespace, serves from the supervisor (host netns), and forwards
 * `CONNECT host:port` tunnels and absolute-form `GET http://host/path`
 * requests only (a) to destinations that the allow rules name and (b) for
 * connections that the eBPF trace attributes to a process of role pip.
 * Everything else gets a clear HTTP error, is reported and logged.
 *
 * Single-threaded and non-blocking, driven by the supervisor's epoll: the
 * proxy has its own epoll fd (proxy_fd) to nest in the supervisor's; call
 * proxy_handle() when it is readable.  Bytes are moved with splice(2)
 * through a pipe per direction: memory stays flat whatever the file size.
 *
 * Call order for the supervisor (docs/proxy.md):
 *   1. hostrules: --allow-host, the profile, hostrules_add_pip_config()
 *   2. proxy_new(&opts)                     (before clone3 or after; no netns needed)
 *   3. clone3(CLONE_NEWNET ...) -> init waits on the "go" pipe
 *   4. netns_fd = open("/proc/<init>/ns/net"); proxy_listen_in_netns(p, netns_fd, 3128)
 *      (brings lo up in the jail's netns; before "go", so pip never finds
 *      the port closed), close(netns_fd)
 *   5. write "go"; epoll_add(proxy_fd(p)); proxy_handle(p) when readable
 *   6. when the jail is gone: proxy_stats(), proxy_free() (closes every socket)
 */
#ifndef PIPJAIL_PROXY_H
#define PIPJAIL_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "net/hostrule.h"

#define PROXY_DEFAULT_PORT 3128
#define PROXY_HEAD_MAX     16384   /* request line + headers */

struct proxy;

/* What happened to one client connection. */
enum proxy_outcome {
	PROXY_FORWARDED = 0,      /* allowed and forwarded (the tunnel ran) */
	PROXY_REFUSED_ROLE,       /* the client is a build/tool/import process */
	PROXY_REFUSED_UNATTRIBUTED, /* no process known for the client port in time */
	PROXY_REFUSED_HOST,       /* destination not in the allow rules */
	PROXY_BAD_REQUEST,        /* not an HTTP proxy request we serve */
	PROXY_UPSTREAM_FAILED,    /* allowed, but name lookup or connect failed */
	PROXY_TIMEOUT,            /* the client sent no complete request in time */
	PROXY_OVERLOADED,         /* too many connections at once */
	PROXY_REFUSED_TOKEN,      /* the request carries a secret of the run (opts.find_token) */
};
const char *proxy_outcome_name(enum proxy_outcome o);

/* One record per client connection: given to on_refused when a refusal is
 * decided, and to on_request when the connection ends.  Strings are valid
 * during the call only; NULL when not known (no request read yet). */
struct proxy_log {
	uint16_t client_port;      /* the client's source port in the jail's netns */
	uint32_t hpid;             /* host pid of the client, 0 when unknown */
	const char *role;          /* the client's role as opts.who named it, "unknown" when not known */
	const char *who;           /* from opts.describe: "demo 1.0 build_wheel", or NULL */
	const char *method;        /* "CONNECT", "GET", ... */
	const char *host;          /* destination as asked (IPv6 without brackets) */
	uint16_t port;
	const char *path;          /* plain HTTP: the origin-form target */
	enum proxy_outcome outcome;
	bool allowed;              /* outcome == PROXY_FORWARDED */
	const char *reason;        /* one line: why refused or failed; NULL when forwarded */
	const char *hint;          /* how to allow it: "add --allow-host HOST:PORT", or NULL */
	const char *rule;          /* the allow rule that matched: "127.0.0.1:8080 (--index-url)" */
	int status;                /* status pipjail answered (200 for CONNECT, 403, 502, ...);
	                            * 0 for forwarded plain HTTP (the origin's status) */
	uint64_t bytes_up;         /* client -> destination, after the request header */
	uint64_t bytes_down;       /* destination -> client (for CONNECT: without our 200 line) */
	uint64_t start_mono_ns;
	uint64_t dur_ns;
};

/* What opts.who says of a client. */
enum proxy_client {
	PROXY_CLIENT_UNKNOWN = 0,  /* not known (yet) */
	PROXY_CLIENT_PIP,          /* pip: may reach the allowed hosts */
	PROXY_CLIENT_OTHER,        /* a build, a tool, ...: refused */
};

struct proxy_opts {
	/* Destinations allowed.  Borrowed: must outlive the proxy. */
	const struct hostrules *allow;
	/* Who owns the client socket bound to client_port in the jail?
	 * Returns PROXY_CLIENT_PIP (trusted to reach the index) or
	 * PROXY_CLIENT_OTHER, sets *hpid and *role (a static name for logs:
	 * "build", "tool", ...); PROXY_CLIENT_UNKNOWN: not known yet (the
	 * ring buffer lags): the proxy asks again every few ms until
	 * attrib_timeout_ms, then refuses as unattributed; < 0: never known,
	 * refuse now.  The callback may drain the monitor (monitor_consume)
	 * before answering PROXY_CLIENT_UNKNOWN.  It should forget the entry
	 * once answered (one connect event attributes one accept), so that a
	 * reused port cannot inherit pip's attribution.  NULL: every client
	 * counts as pip (tests, benchmarks). */
	int (*who)(uint16_t client_port, uint32_t *hpid, const char **role, void *ctx);
	/* Optional: fill buf with "<package> <hook>" for hpid (for messages);
	 * leave it empty when not known. */
	void (*describe)(uint32_t hpid, char *buf, size_t len, void *ctx);
	/* A refusal was decided (role, unattributed, host).  The lead turns it
	 * into engine_report() (+ kill in enforce mode).  May be NULL.  Must
	 * not call proxy_free(). */
	void (*on_refused)(const struct proxy_log *l, void *ctx);
	/* Exactly once per accepted connection, when it ends (trace note).
	 * May be NULL. */
	void (*on_request)(const struct proxy_log *l, void *ctx);
	/* Optional: does data, part of a request of a pip client, carry a
	 * secret of the run (a decoy token, in any encoding the callback
	 * knows)?  data (n bytes, not NUL-terminated) is what the proxy holds
	 * of the request: its line, its header fields and the bytes that
	 * arrived with them (for plain HTTP, the start of a body); never what
	 * goes through a CONNECT tunnel after our 200 (TLS).  true, with one
	 * line for the reason in what
	 * ("the value of the decoy $GITHUB_TOKEN (hex)"): the request is
	 * refused (403, outcome refused-token) and on_refused hears of it.
	 * Asked once per request (then once per part on a hit, to say where):
	 * it must be fast. */
	bool (*find_token)(const char *data, size_t n, char *what, size_t whatlen, void *ctx);
	void *ctx;

	unsigned attrib_timeout_ms;   /* 0: 500 */
	unsigned header_timeout_ms;   /* complete request within; 0: 30000 */
	unsigned connect_timeout_ms;  /* upstream connect; 0: 30000 */
	unsigned idle_timeout_ms;     /* tunnel without a byte either way; 0: 300000 */
	unsigned max_conns;           /* at once; 0: 256 */
	unsigned pipe_kib;            /* splice pipe per direction; 0: 256 */
	/* Never call getaddrinfo: destinations must be IP literals (tests:
	 * nothing may go through the system resolver). */
	bool numeric_only;
};

struct proxy_stats {
	uint64_t accepted, forwarded, refused, failed;
	uint64_t active, max_active;
	uint64_t bytes_up, bytes_down;
};

/* NULL with err on failure (epoll/timerfd). */
struct proxy *proxy_new(const struct proxy_opts *opts, char *err, size_t errlen);

/* Listen on 127.0.0.1:port and [::1]:port (when the netns has IPv6) inside
 * the net namespace netns_fd (-1: the current one).  The calling thread
 * enters it with setns() and comes back before returning; the sockets stay
 * in the jail's namespace.  lo is brought up there (idempotent).  port 0:
 * any free port (proxy_port tells which).  0, or -1 with err. */
int proxy_listen_in_netns(struct proxy *p, int netns_fd, uint16_t port, char *err, size_t errlen);
uint16_t proxy_port(const struct proxy *p);

/* The epoll fd to wait on; readable when proxy_handle() has work. */
int proxy_fd(const struct proxy *p);
/* Do everything that is ready, without blocking (except a getaddrinfo of
 * an allowed host name, see docs/proxy.md). */
void proxy_handle(struct proxy *p);
void proxy_stats(const struct proxy *p, struct proxy_stats *st);
/* Close every socket, pipe and fd; on_request is called for connections
 * still open (outcome as far as known).  Safe on NULL. */
void proxy_free(struct proxy *p);

/* The log record as JSON fields for trace_write_note(w, "proxy", obj). */
cJSON *proxy_log_json(const struct proxy_log *l);

/* ---- the request parser (exposed for tests and the fuzzer) -------------- */

struct proxy_request {
	char method[16];
	bool connect;
	char host[256];
	uint16_t port;
	char *path;             /* plain HTTP: origin-form target (allocated) */
	char *upstream_head;    /* plain HTTP: the header to send upstream (allocated) */
	size_t upstream_len;
	size_t head_len;        /* bytes of buf the request header took */
};

/* Parse the request header at the start of buf.  1: complete (req filled;
 * bytes after head_len are the body or the start of the tunnel); 0: more
 * bytes needed; -1: not acceptable: *status (400, 431, 501) and err say
 * why.  len beyond PROXY_HEAD_MAX without the end of the header is 431. */
int proxy_parse_request(const char *buf, size_t len, struct proxy_request *req,
			int *status, char *err, size_t errlen);
void proxy_request_clear(struct proxy_request *req);

#endif
