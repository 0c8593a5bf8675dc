/* The egress proxy (see proxy.h and docs/proxy.md).
 *
 * One connection goes through these states:
 *   HEAD        read the request header (bounded), ask who the client is
 *   CONNECTING  allowed: non-blocking connect to the destination
 *   TUNNEL      splice both ways through a pipe per direction
 *   REPLY       refused or failed: write our own response, then
 *   DRAIN       shut our side, discard what the client still sends (so the
 *               kernel does not reset the connection before the client read
 *               the response), close on EOF or after a short time.
 * A closed connection is freed only at the end of proxy_handle(), so that
 * later events of the same epoll batch never touch freed memory. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "net/proxy.h"
#include "base/base.h"

#define MAX_ADDRS    8
#define DRAIN_MS     2000
#define ATTRIB_TICK_MS 5
#define SLOW_TICK_MS 250

enum tag { TAG_LISTEN = 1, TAG_TIMER, TAG_CLIENT, TAG_UPSTREAM };
enum cstate { C_HEAD, C_CONNECTING, C_TUNNEL, C_REPLY, C_DRAIN, C_DEAD };

struct conn;

struct endpoint {
	enum tag tag;
	struct conn *c;
	int fd;
	uint32_t events;       /* registered interest; 0: not in the epoll set */
};

/* One direction of the tunnel: pre-bytes (our own, or read with the
 * header) are written first, then splice in -> pipe -> out. */
struct dir {
	int pr, pw;
	size_t in_pipe, cap;
	char *pre;
	size_t pre_len, pre_off;
	bool in_eof, in_full, out_shut;
	uint64_t bytes;        /* payload bytes delivered to the out side */
};

struct conn {
	struct proxy *p;
	struct conn *next, *prev;
	struct endpoint cl, up;
	enum cstate st;
	char *head;
	size_t head_len;
	bool req_done;
	struct proxy_request req;
	/* attribution */
	bool attributed;
	enum proxy_client client;
	const char *role;          /* opts.who's name for it */
	uint32_t hpid;
	uint16_t client_port;
	char who[128];
	/* the outcome so far */
	enum proxy_outcome outcome;
	bool refusal_reported;
	int status;
	char *reason, *hint;
	const struct hostrule *rule;
	/* upstream addresses to try */
	struct sockaddr_storage addrs[MAX_ADDRS];
	socklen_t addrlens[MAX_ADDRS];
	int n_addrs, addr_i;
	uint64_t t_start, t_state, t_last;
	struct dir c2u, u2c;
	uint64_t own_down;     /* bytes of our own response (CONNECT 200, errors) */
	uint64_t own_up;       /* bytes of the rewritten request header (plain HTTP) */
};

struct proxy {
	struct proxy_opts o;
	int epfd, tfd;
	struct endpoint listeners[2], timer;
	int n_listeners;
	uint16_t port;
	struct conn *conns, *dead;
	unsigned n_conns;
	uint64_t timer_ms;     /* current period, 0: disarmed */
	struct proxy_stats st;
};

const char *proxy_outcome_name(enum proxy_outcome o)
{
	switch (o) {
	case PROXY_FORWARDED: return "forwarded";
	case PROXY_REFUSED_ROLE: return "refused-role";
	case PROXY_REFUSED_UNATTRIBUTED: return "refused-unattributed";
	case PROXY_REFUSED_HOST: return "refused-host";
	case PROXY_BAD_REQUEST: return "bad-request";
	case PROXY_UPSTREAM_FAILED: return "upstream-failed";
	case PROXY_TIMEOUT: return "timeout";
	case PROXY_OVERLOADED: return "overloaded";
	}
	return "?";
}

/* ---- request parser ----------------------------------------------------- */

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

#define BAD(code, ...)                                          \
	do {                                                    \
		*status = (code);                               \
		snprintf(err, errlen, __VA_ARGS__);             \
		goto bad;                                       \
	} while (0)

int proxy_parse_request(const char *buf, size_t len, struct proxy_request *req,
			int *status, char *err, size_t errlen)
{
	size_t end, pos, line_len, tlen, vlen;
	const char *line, *sp1, *sp2, *target, *version, *why;
	struct sbuf up = { 0 };
	char authority[300] = "";
	bool is_http;

	memset(req, 0, sizeof(*req));
	*status = 0;
	if (len > PROXY_HEAD_MAX)
		len = PROXY_HEAD_MAX;
	end = head_end(buf, len);
	if (end == 0) {
		/* A request line alone longer than the bound, or garbage. */
		if (len >= PROXY_HEAD_MAX)
			BAD(431, "the request header is larger than %d bytes", PROXY_HEAD_MAX);
		if (memchr(buf, '\0', len))
			BAD(400, "the request contains a NUL byte");
		return 0;
	}
	/* The request line: METHOD SP TARGET SP HTTP/1.x */
	line = buf;
	line_len = (size_t)((const char *)memchr(buf, '\n', end) - buf);
	if (line_len && line[line_len - 1] == '\r')
		line_len--;
	sp1 = memchr(line, ' ', line_len);
	if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof(req->method))
		BAD(400, "the request line is not METHOD TARGET HTTP/1.1");
	for (const char *c = line; c < sp1; c++)
		if (!is_tchar(*c))
			BAD(400, "the method contains a character that is not allowed");
	memcpy(req->method, line, (size_t)(sp1 - line));
	target = sp1 + 1;
	sp2 = memchr(target, ' ', line_len - (size_t)(target - line));
	if (!sp2 || sp2 == target)
		BAD(400, "the request line is not METHOD TARGET HTTP/1.1");
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = line_len - (size_t)(version - line);
	if (!(vlen == 8 && (memcmp(version, "HTTP/1.1", 8) == 0 || memcmp(version, "HTTP/1.0", 8) == 0)))
		BAD(400, "the request line does not end with HTTP/1.1 or HTTP/1.0");
	for (const char *c = target; c < sp2; c++)
		if (!isgraph((unsigned char)*c))
			BAD(400, "the request target contains a space or a control character");

	req->connect = strcmp(req->method, "CONNECT") == 0;
	if (req->connect) {
		why = hostrule_authority(target, tlen, 0, req->host, sizeof(req->host), &req->port);
		if (why)
			BAD(400, "CONNECT %.*s: %s", (int)(tlen > 200 ? 200 : tlen), target, why);
	} else {
		const char *auth, *rest;
		size_t alen;

		is_http = tlen > 7 && strncasecmp(target, "http://", 7) == 0;
		if (!is_http) {
			if (tlen > 8 && strncasecmp(target, "https://", 8) == 0)
				BAD(400, "an https:// URL must be reached with CONNECT, not %s", req->method);
			if (target[0] == '/')
				BAD(400, "this is a proxy: the request target must be an absolute http:// URL");
			BAD(501, "only CONNECT and absolute-form http:// requests are forwarded");
		}
		auth = target + 7;
		for (alen = 0; auth + alen < sp2 && !strchr("/?#", auth[alen]); alen++)
			;
		rest = auth + alen;
		/* user:password@ never goes into the upstream request line. */
		const char *at = memrchr(auth, '@', alen);

		if (at) {
			alen -= (size_t)(at + 1 - auth);
			auth = at + 1;
		}
		why = hostrule_authority(auth, alen, 80, req->host, sizeof(req->host), &req->port);
		if (why)
			BAD(400, "%s %.*s: %s", req->method, (int)(tlen > 200 ? 200 : tlen), target, why);
		snprintf(authority, sizeof(authority), "%.*s", (int)alen, auth);
		/* The fragment is not sent; a query without a path gets "/". */
		size_t plen = (size_t)(sp2 - rest);
		const char *hash = memchr(rest, '#', plen);

		if (hash)
			plen = (size_t)(hash - rest);
		req->path = rest[0] == '/' ? strndup(rest, plen) : xasprintf("/%.*s", (int)plen, rest);
		if (!req->path)
			die("out of memory");

		sb_add(&up, req->method, strlen(req->method));
		sb_str(&up, " ");
		sb_str(&up, req->path);
		sb_str(&up, " ");
		sb_add(&up, version, 8);
		sb_str(&up, "\r\nHost: ");
		sb_str(&up, authority);
		sb_str(&up, "\r\n");
	}

	/* Header fields: NAME ":" VALUE; no obsolete line folding. */
	pos = (size_t)((const char *)memchr(buf, '\n', end) - buf) + 1;
	while (pos < end) {
		const char *nl = memchr(buf + pos, '\n', end - pos), *colon;
		size_t l = (size_t)(nl - (buf + pos));

		line = buf + pos;
		pos += l + 1;
		if (l && line[l - 1] == '\r')
			l--;
		if (l == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			BAD(400, "obsolete header line folding is not accepted");
		colon = memchr(line, ':', l);
		if (!colon || colon == line)
			BAD(400, "a header line is not NAME: VALUE");
		for (const char *c = line; c < colon; c++)
			if (!is_tchar(*c))
				BAD(400, "a header name contains a character that is not allowed");
		for (const char *c = colon + 1; c < line + l; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				BAD(400, "a header value contains a control character");
		if (req->connect || drop_header(line, (size_t)(colon - line)))
			continue;
		sb_add(&up, line, l);
		sb_str(&up, "\r\n");
	}
	if (!req->connect) {
		/* One request per upstream connection (docs/proxy.md). */
		sb_str(&up, "Connection: close\r\n\r\n");
		req->upstream_head = up.s;
		req->upstream_len = up.n;
		up.s = NULL;
	}
	req->head_len = end;
	return 1;
bad:
	free(up.s);
	free(req->path);
	req->path = NULL;
	return -1;
}

/* ---- epoll bookkeeping -------------------------------------------------- */

static void ep_set(struct proxy *p, struct endpoint *e, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = e };
	int op;

	if (e->fd < 0 || e->events == events)
		return;
	if (events == 0)
		op = EPOLL_CTL_DEL;
	else
		op = e->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(p->epfd, op, e->fd, &ev) < 0)
		warn_errno("proxy: epoll_ctl on fd %d", e->fd);
	e->events = events;
}

static void arm_timer(struct proxy *p, uint64_t ms)
{
	struct itimerspec its = { 0 };

	if (p->timer_ms == ms)
		return;
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_interval = its.it_value;
	if (timerfd_settime(p->tfd, 0, &its, NULL) < 0)
		warn_errno("proxy: timerfd_settime");
	p->timer_ms = ms;
}

/* ---- logging ------------------------------------------------------------ */

static void fill_log(const struct conn *c, struct proxy_log *l, char *rulebuf, size_t rlen)
{
	memset(l, 0, sizeof(*l));
	l->client_port = c->client_port;
	l->hpid = c->hpid;
	l->role = c->attributed && c->role ? c->role : "unknown";
	l->who = c->who[0] ? c->who : NULL;
	if (c->req_done) {
		l->method = c->req.method;
		l->host = c->req.host;
		l->port = c->req.port;
		l->path = c->req.path;
	}
	l->outcome = c->outcome;
	l->allowed = c->outcome == PROXY_FORWARDED;
	l->reason = c->reason;
	l->hint = c->hint;
	if (c->rule) {
		snprintf(rulebuf, rlen, "%s (%s)", c->rule->text, c->rule->source);
		l->rule = rulebuf;
	}
	l->status = c->status;
	l->bytes_up = c->c2u.bytes >= c->own_up ? c->c2u.bytes - c->own_up : 0;
	l->bytes_down = c->u2c.bytes >= c->own_down ? c->u2c.bytes - c->own_down : 0;
	l->start_mono_ns = c->t_start;
	l->dur_ns = now_ns() - c->t_start;
}

cJSON *proxy_log_json(const struct proxy_log *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "client_port", l->client_port);
	cJSON_AddNumberToObject(o, "hpid", l->hpid);
	cJSON_AddStringToObject(o, "role", l->role);
	if (l->who)
		cJSON_AddStringToObject(o, "package", l->who);
	if (l->method)
		cJSON_AddStringToObject(o, "method", l->method);
	if (l->host) {
		cJSON_AddStringToObject(o, "host", l->host);
		cJSON_AddNumberToObject(o, "port", l->port);
	}
	if (l->path)
		cJSON_AddStringToObject(o, "path", l->path);
	cJSON_AddBoolToObject(o, "allowed", l->allowed);
	cJSON_AddStringToObject(o, "outcome", proxy_outcome_name(l->outcome));
	if (l->reason)
		cJSON_AddStringToObject(o, "reason", l->reason);
	if (l->hint)
		cJSON_AddStringToObject(o, "hint", l->hint);
	if (l->rule)
		cJSON_AddStringToObject(o, "rule", l->rule);
	if (l->status)
		cJSON_AddNumberToObject(o, "status", l->status);
	cJSON_AddNumberToObject(o, "bytes_up", (double)l->bytes_up);
	cJSON_AddNumberToObject(o, "bytes_down", (double)l->bytes_down);
	cJSON_AddNumberToObject(o, "dur_ms", (double)l->dur_ns / 1e6);
	return o;
}

static void report_refusal(struct conn *c)
{
	struct proxy_log l;
	char rule[400];

	if (c->refusal_reported)
		return;
	c->refusal_reported = true;
	c->p->st.refused++;
	if (!c->p->o.on_refused)
		return;
	fill_log(c, &l, rule, sizeof(rule));
	c->p->o.on_refused(&l, c->p->o.ctx);
}

/* ---- connection lifetime ------------------------------------------------ */

static void dir_close(struct dir *d)
{
	if (d->pr >= 0)
		close(d->pr);
	if (d->pw >= 0)
		close(d->pw);
	d->pr = d->pw = -1;
	free(d->pre);
	d->pre = NULL;
}

static void conn_close(struct conn *c)
{
	struct proxy *p = c->p;
	struct proxy_log l;
	char rule[400];

	if (c->st == C_DEAD)
		return;
	if (c->outcome == PROXY_FORWARDED && c->attributed && c->client != PROXY_CLIENT_PIP) {
		/* A build process that only connected and hung up still tried. */
		c->outcome = PROXY_REFUSED_ROLE;
		if (!c->reason)
			c->reason = xasprintf("%s process %u (%s) connected to the proxy; only pip may reach the index",
					      c->role ? c->role : "unknown", c->hpid, c->who[0] ? c->who : "unknown package");
	} else if (c->outcome == PROXY_FORWARDED && c->st != C_TUNNEL) {
		/* The client went away (or the jail ended) before a decision. */
		c->outcome = PROXY_BAD_REQUEST;
		if (!c->reason)
			c->reason = xstrdup("the connection closed before a complete request was decided");
	}
	if (c->outcome == PROXY_REFUSED_ROLE || c->outcome == PROXY_REFUSED_HOST ||
	    c->outcome == PROXY_REFUSED_UNATTRIBUTED)
		report_refusal(c);
	else if (c->outcome != PROXY_FORWARDED)
		p->st.failed++;
	p->st.bytes_up += c->c2u.bytes >= c->own_up ? c->c2u.bytes - c->own_up : 0;
	p->st.bytes_down += c->u2c.bytes;
	if (p->o.on_request) {
		fill_log(c, &l, rule, sizeof(rule));
		p->o.on_request(&l, p->o.ctx);
	}
	debugx(2, "proxy: port %u %s %s:%u: %s, %llu up, %llu down", c->client_port,
	       c->req_done ? c->req.method : "-", c->req_done ? c->req.host : "-", c->req.port,
	       proxy_outcome_name(c->outcome), (unsigned long long)c->c2u.bytes,
	       (unsigned long long)c->u2c.bytes);
	if (c->cl.fd >= 0)
		close(c->cl.fd);
	if (c->up.fd >= 0)
		close(c->up.fd);
	c->cl.fd = c->up.fd = -1;
	c->cl.events = c->up.events = 0;
	dir_close(&c->c2u);
	dir_close(&c->u2c);
	c->st = C_DEAD;
	/* unlink from the live list, onto the dead list */
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = p->dead;
	p->dead = c;
	p->n_conns--;
	p->st.active = p->n_conns;
}

static void conn_free(struct conn *c)
{
	free(c->head);
	free(c->reason);
	free(c->hint);
	proxy_request_clear(&c->req);
	free(c);
}

static void set_state(struct conn *c, enum cstate st)
{
	c->st = st;
	c->t_state = c->t_last = now_ns();
}

/* Answer the client ourselves (refusal or error) and close. */
static void reply(struct conn *c, int status, const char *phrase, enum proxy_outcome outcome,
		  const char *reason, const char *hint)
{
	autofree char *body = NULL;

	c->outcome = outcome;
	c->status = status;
	free(c->reason);
	c->reason = xstrdup(reason);
	if (hint) {
		free(c->hint);
		c->hint = xstrdup(hint);
	}
	body = hint ? xasprintf("pipjail: refused: %s; %s\n", reason, hint)
		    : xasprintf("pipjail: %s: %s\n", status == 403 ? "refused" : "error", reason);
	free(c->u2c.pre);
	c->u2c.pre = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			       "Content-Length: %zu\r\nConnection: close\r\n"
			       "X-Pipjail-Outcome: %s\r\n\r\n%s",
			       status, phrase, strlen(body), proxy_outcome_name(outcome), body);
	c->u2c.pre_len = strlen(c->u2c.pre);
	c->u2c.pre_off = 0;
	c->own_down = c->u2c.pre_len;
	if (c->up.fd >= 0) {
		ep_set(c->p, &c->up, 0);
		close(c->up.fd);
		c->up.fd = -1;
	}
	if (outcome == PROXY_REFUSED_ROLE || outcome == PROXY_REFUSED_HOST ||
	    outcome == PROXY_REFUSED_UNATTRIBUTED)
		report_refusal(c);
	set_state(c, C_REPLY);
	ep_set(c->p, &c->cl, EPOLLOUT);
}

/* ---- tunnel ------------------------------------------------------------- */

static int dir_init(struct dir *d, unsigned pipe_kib)
{
	int fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	d->pr = fds[0];
	d->pw = fds[1];
	/* A larger pipe means fewer wake-ups; the pages are the kernel's,
	 * not our heap, and bounded per connection. */
	if (fcntl(d->pw, F_SETPIPE_SZ, (int)pipe_kib * 1024) < 0)
		debugx(2, "proxy: F_SETPIPE_SZ: %s", strerror(errno));
	int sz = fcntl(d->pw, F_GETPIPE_SZ);

	d->cap = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

/* Move what can move in one direction.  -1: the connection broke. */
static int pump(struct dir *d, int in, int out, bool *progress)
{
	for (;;) {
		bool moved = false;

		if (d->pre && d->pre_off < d->pre_len) {
			ssize_t n = send(out, d->pre + d->pre_off, d->pre_len - d->pre_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				return -1;
			}
			d->pre_off += (size_t)n;
			d->bytes += (size_t)n;
			*progress = true;
			if (d->pre_off < d->pre_len)
				return 0;
			free(d->pre);
			d->pre = NULL;
			d->pre_len = d->pre_off = 0;
		}
		if (!d->in_eof && d->in_pipe < d->cap && in >= 0) {
			ssize_t n = splice(in, NULL, d->pw, NULL, d->cap - d->in_pipe,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

			if (n > 0) {
				d->in_pipe += (size_t)n;
				d->in_full = false;
				moved = true;
			} else if (n == 0) {
				d->in_eof = true;
				moved = true;
			} else if (errno == EAGAIN) {
				/* Either the socket is empty or the pipe ran out of
				 * slots: wait for the out side before reading again. */
				d->in_full = d->in_pipe > 0;
			} else if (errno != EINTR) {
				return -1;
			}
		}
		if (d->in_pipe > 0) {
			ssize_t n = splice(d->pr, NULL, out, NULL, d->in_pipe,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

			if (n > 0) {
				d->in_pipe -= (size_t)n;
				d->bytes += (size_t)n;
				d->in_full = false;
				moved = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (d->in_eof && d->in_pipe == 0 && !d->pre && !d->out_shut) {
			shutdown(out, SHUT_WR);
			d->out_shut = true;
			moved = true;
		}
		if (!moved)
			return 0;
		*progress = true;
	}
}

static uint32_t want_in(const struct dir *d)
{
	return !d->in_eof && !d->pre && d->in_pipe < d->cap && !d->in_full ? EPOLLIN : 0;
}

static uint32_t want_out(const struct dir *d)
{
	return (d->pre && d->pre_off < d->pre_len) || d->in_pipe > 0 ? EPOLLOUT : 0;
}

static void tunnel_update(struct conn *c)
{
	ep_set(c->p, &c->cl, want_in(&c->c2u) | want_out(&c->u2c));
	ep_set(c->p, &c->up, want_in(&c->u2c) | want_out(&c->c2u));
}

static void tunnel_run(struct conn *c)
{
	bool progress = false;

	if (pump(&c->c2u, c->cl.fd, c->up.fd, &progress) < 0 ||
	    pump(&c->u2c, c->up.fd, c->cl.fd, &progress) < 0) {
		conn_close(c);
		return;
	}
	if (progress)
		c->t_last = now_ns();
	/* Done when the destination finished and everything reached the
	 * client (plain HTTP is one request per connection), or both ways
	 * are shut. */
	if ((c->u2c.out_shut && (!c->req.connect || c->c2u.out_shut))) {
		conn_close(c);
		return;
	}
	tunnel_update(c);
}

static void tunnel_start(struct conn *c)
{
	struct proxy *p = c->p;
	size_t extra = c->head_len - c->req.head_len;

	if (dir_init(&c->c2u, p->o.pipe_kib) < 0 || dir_init(&c->u2c, p->o.pipe_kib) < 0) {
		reply(c, 503, "Service Unavailable", PROXY_UPSTREAM_FAILED,
		      "the proxy could not create a pipe (too many open files?)", NULL);
		return;
	}
	/* Upstream gets the rewritten header (plain HTTP) and whatever the
	 * client sent after its header (a body, or the TLS ClientHello). */
	if (c->req.connect) {
		c->c2u.pre = extra ? xmalloc(extra) : NULL;
		c->c2u.pre_len = extra;
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";

		c->u2c.pre = xstrdup(ok);
		c->u2c.pre_len = sizeof(ok) - 1;
		c->own_down = c->u2c.pre_len;
		c->status = 200;
		if (extra)
			memcpy(c->c2u.pre, c->head + c->req.head_len, extra);
	} else {
		c->c2u.pre = xmalloc(c->req.upstream_len + extra + 1);
		memcpy(c->c2u.pre, c->req.upstream_head, c->req.upstream_len);
		memcpy(c->c2u.pre + c->req.upstream_len, c->head + c->req.head_len, extra);
		c->c2u.pre_len = c->req.upstream_len + extra;
		c->own_up = c->req.upstream_len;
	}
	free(c->head);
	c->head = NULL;
	p->st.forwarded++;
	set_state(c, C_TUNNEL);
	tunnel_run(c);
}

/* ---- upstream connect --------------------------------------------------- */

static void upstream_try(struct conn *c);

static void upstream_failed(struct conn *c, const char *what, int err)
{
	autofree char *reason = xasprintf("%s %s:%u: %s", what, c->req.host, c->req.port, strerror(err));

	reply(c, 502, "Bad Gateway", PROXY_UPSTREAM_FAILED, reason, NULL);
}

static void upstream_try(struct conn *c)
{
	struct proxy *p = c->p;
	int err = ECONNREFUSED;

	while (c->addr_i < c->n_addrs) {
		int i = c->addr_i++;
		int fd = socket(c->addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&c->addrs[i], c->addrlens[i]) == 0 || errno == EINPROGRESS) {
			c->up.fd = fd;
			c->up.events = 0;
			set_state(c, C_CONNECTING);
			ep_set(p, &c->up, EPOLLOUT);
			return;
		}
		err = errno;
		close(fd);
	}
	upstream_failed(c, "could not connect to", err);
}

static void upstream_ready(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		ep_set(c->p, &c->up, 0);
		tunnel_start(c);
		return;
	}
	ep_set(c->p, &c->up, 0);
	close(c->up.fd);
	c->up.fd = -1;
	if (c->addr_i < c->n_addrs) {
		upstream_try(c);
		return;
	}
	upstream_failed(c, "could not connect to", err);
}

/* IP literals need no lookup; names go through getaddrinfo (blocking,
 * outside the jail: see docs/proxy.md). */
static int resolve(struct conn *c, const char **why)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&c->addrs[0];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->addrs[0];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res = NULL;
	char port[8];
	int rc;

	memset(c->addrs, 0, sizeof(c->addrs));
	c->n_addrs = c->addr_i = 0;
	if (inet_pton(AF_INET, c->req.host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->req.port);
		c->addrlens[0] = sizeof(*s4);
		c->n_addrs = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, c->req.host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->req.port);
		c->addrlens[0] = sizeof(*s6);
		c->n_addrs = 1;
		return 0;
	}
	if (c->p->o.numeric_only) {
		*why = "name lookups are disabled for this proxy (numeric_only)";
		return -1;
	}
	snprintf(port, sizeof(port), "%u", c->req.port);
	rc = getaddrinfo(c->req.host, port, &hints, &res);
	if (rc != 0) {
		*why = gai_strerror(rc);
		return -1;
	}
	for (struct addrinfo *ai = res; ai && c->n_addrs < MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(c->addrs[0]))
			continue;
		memcpy(&c->addrs[c->n_addrs], ai->ai_addr, ai->ai_addrlen);
		c->addrlens[c->n_addrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (c->n_addrs == 0) {
		*why = "no address";
		return -1;
	}
	return 0;
}

/* ---- decision ----------------------------------------------------------- */

static void ask_who(struct conn *c)
{
	struct proxy *p = c->p;
	uint32_t hpid = 0;
	const char *role = NULL;
	int r;

	if (c->attributed)
		return;
	if (!p->o.who) {
		c->attributed = true;
		c->client = PROXY_CLIENT_PIP;
		c->role = "pip";
		return;
	}
	r = p->o.who(c->client_port, &hpid, &role, p->o.ctx);
	if (r == PROXY_CLIENT_UNKNOWN &&
	    now_ns() - c->t_start < (uint64_t)p->o.attrib_timeout_ms * 1000000ULL)
		return;
	c->attributed = true;
	c->client = r > 0 ? (enum proxy_client)r : PROXY_CLIENT_UNKNOWN;
	c->role = r > 0 ? role : NULL;
	c->hpid = r > 0 ? hpid : 0;
	if (r > 0 && c->hpid && p->o.describe)
		p->o.describe(c->hpid, c->who, sizeof(c->who), p->o.ctx);
}

static void decide(struct conn *c)
{
	struct proxy *p = c->p;
	char rules[600];
	const char *why = NULL;

	if (c->st != C_HEAD || !c->req_done || !c->attributed)
		return;
	if (c->client != PROXY_CLIENT_PIP) {
		autofree char *reason = NULL;

		if (c->client == PROXY_CLIENT_UNKNOWN)
			reason = xasprintf("the connection from port %u could not be attributed to a process "
					   "of the jail within %u ms; only pip may reach the index",
					   c->client_port, p->o.attrib_timeout_ms);
		else
			reason = xasprintf("%s process %u (%s) may not use the network; only pip may reach the index",
					   c->role ? c->role : "unknown", c->hpid, c->who[0] ? c->who : "unknown package");
		reply(c, 403, "Forbidden",
		      c->client == PROXY_CLIENT_UNKNOWN ? PROXY_REFUSED_UNATTRIBUTED : PROXY_REFUSED_ROLE, reason, NULL);
		return;
	}
	c->rule = hostrules_match(p->o.allow, c->req.host, c->req.port);
	if (!c->rule) {
		autofree char *reason = NULL, *hint = NULL;
		bool v6 = strchr(c->req.host, ':') != NULL;

		hostrules_describe(p->o.allow, rules, sizeof(rules));
		reason = xasprintf("%s%s%s:%u is not in the allowed hosts (%s)", v6 ? "[" : "", c->req.host,
				   v6 ? "]" : "", c->req.port, rules);
		hint = xasprintf("add --allow-host %s%s%s:%u to allow it", v6 ? "[" : "", c->req.host,
				 v6 ? "]" : "", c->req.port);
		reply(c, 403, "Forbidden", PROXY_REFUSED_HOST, reason, hint);
		return;
	}
	if (resolve(c, &why) < 0) {
		autofree char *reason = xasprintf("could not resolve %s: %s", c->req.host, why);

		reply(c, 502, "Bad Gateway", PROXY_UPSTREAM_FAILED, reason, NULL);
		return;
	}
	upstream_try(c);
}

static void head_read(struct conn *c)
{
	char err[300];
	int status;
	ssize_t n;

	if (!c->head)
		c->head = xmalloc(PROXY_HEAD_MAX + 1);
	n = recv(c->cl.fd, c->head + c->head_len, PROXY_HEAD_MAX - c->head_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		conn_close(c);
		return;
	}
	c->head_len += (size_t)n;
	c->t_last = now_ns();
	switch (proxy_parse_request(c->head, c->head_len, &c->req, &status, err, sizeof(err))) {
	case 0:
		return;
	case 1:
		c->req_done = true;
		ep_set(c->p, &c->cl, 0);   /* the rest waits for the decision */
		decide(c);
		return;
	default:
		reply(c, status, status == 431 ? "Request Header Fields Too Large" :
				 status == 501 ? "Not Implemented" : "Bad Request",
		      PROXY_BAD_REQUEST, err, NULL);
	}
}

static void drain(struct conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->cl.fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(c);
		return;
	}
}

static void reply_write(struct conn *c)
{
	struct dir *d = &c->u2c;

	while (d->pre && d->pre_off < d->pre_len) {
		ssize_t n = send(c->cl.fd, d->pre + d->pre_off, d->pre_len - d->pre_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_close(c);
			return;
		}
		d->pre_off += (size_t)n;
		d->bytes += (size_t)n;
	}
	shutdown(c->cl.fd, SHUT_WR);
	set_state(c, C_DRAIN);
	ep_set(c->p, &c->cl, EPOLLIN);
	drain(c);
}

static void on_conn_event(struct endpoint *e, uint32_t events)
{
	struct conn *c = e->c;

	if (c->st == C_DEAD)
		return;
	switch (c->st) {
	case C_HEAD:
		if (e->tag == TAG_CLIENT)
			head_read(c);
		break;
	case C_CONNECTING:
		if (e->tag == TAG_UPSTREAM && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			upstream_ready(c);
		break;
	case C_TUNNEL:
		tunnel_run(c);
		break;
	case C_REPLY:
		reply_write(c);
		break;
	case C_DRAIN:
		drain(c);
		break;
	case C_DEAD:
		break;
	}
}

/* ---- accept ------------------------------------------------------------- */

static uint16_t peer_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static void overloaded(struct proxy *p, int fd)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
				  "Content-Length: 51\r\nConnection: close\r\n\r\n"
				  "pipjail: error: too many connections to the proxy\n";
	struct proxy_log l = { .client_port = peer_port(fd), .outcome = PROXY_OVERLOADED,
			       .reason = "too many connections to the proxy", .status = 503,
			       .start_mono_ns = now_ns() };

	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		debugx(2, "proxy: 503: %s", strerror(errno));
	close(fd);
	p->st.failed++;
	if (p->o.on_request)
		p->o.on_request(&l, p->o.ctx);
}

static void on_accept(struct proxy *p, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				warn_errno("proxy: accept");
			return;
		}
		p->st.accepted++;
		if (p->n_conns >= p->o.max_conns) {
			overloaded(p, fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->p = p;
		c->cl = (struct endpoint){ .tag = TAG_CLIENT, .c = c, .fd = fd };
		c->up = (struct endpoint){ .tag = TAG_UPSTREAM, .c = c, .fd = -1 };
		c->c2u.pr = c->c2u.pw = c->u2c.pr = c->u2c.pw = -1;
		c->client_port = peer_port(fd);
		c->t_start = now_ns();
		set_state(c, C_HEAD);
		c->next = p->conns;
		if (p->conns)
			p->conns->prev = c;
		p->conns = c;
		p->n_conns++;
		p->st.active = p->n_conns;
		if (p->n_conns > p->st.max_active)
			p->st.max_active = p->n_conns;
		ep_set(p, &c->cl, EPOLLIN);
		ask_who(c);
		/* Read at once: the request is usually already there. */
		head_read(c);
	}
}

/* ---- timers ------------------------------------------------------------- */

static void on_tick(struct proxy *p)
{
	uint64_t now = now_ns(), exp;
	struct conn *next;

	if (read(p->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		warn_errno("proxy: reading the timer");
	for (struct conn *c = p->conns; c; c = next) {
		uint64_t age = (now - c->t_state) / 1000000ULL, idle = (now - c->t_last) / 1000000ULL;

		next = c->next;
		switch (c->st) {
		case C_HEAD:
			if (!c->attributed) {
				ask_who(c);
				decide(c);
			}
			if (c->st == C_HEAD && age >= p->o.header_timeout_ms) {
				if (c->attributed && c->client != PROXY_CLIENT_PIP)
					conn_close(c);   /* reported as a refusal there */
				else
					reply(c, 408, "Request Timeout", PROXY_TIMEOUT,
					      "no complete request in time", NULL);
			}
			break;
		case C_CONNECTING:
			if (age >= p->o.connect_timeout_ms) {
				ep_set(p, &c->up, 0);
				close(c->up.fd);
				c->up.fd = -1;
				if (c->addr_i < c->n_addrs) {
					upstream_try(c);
				} else {
					autofree char *r = xasprintf("connecting to %s:%u timed out after %u ms",
								     c->req.host, c->req.port,
								     p->o.connect_timeout_ms);

					reply(c, 504, "Gateway Timeout", PROXY_UPSTREAM_FAILED, r, NULL);
				}
			}
			break;
		case C_TUNNEL:
			if (idle >= p->o.idle_timeout_ms)
				conn_close(c);
			break;
		case C_REPLY:
		case C_DRAIN:
			if (age >= DRAIN_MS)
				conn_close(c);
			break;
		case C_DEAD:
			break;
		}
	}
}

static void update_timer(struct proxy *p)
{
	bool pending = false;

	for (struct conn *c = p->conns; c; c = c->next)
		if (c->st == C_HEAD && !c->attributed)
			pending = true;
	arm_timer(p, pending ? ATTRIB_TICK_MS : p->conns ? SLOW_TICK_MS : 0);
}

void proxy_handle(struct proxy *p)
{
	struct epoll_event evs[64];
	int n = epoll_wait(p->epfd, evs, ARRAY_SIZE(evs), 0);

	if (n < 0 && errno != EINTR)
		warn_errno("proxy: epoll_wait");
	for (int i = 0; i < n; i++) {
		struct endpoint *e = evs[i].data.ptr;

		switch (e->tag) {
		case TAG_LISTEN:
			on_accept(p, e->fd);
			break;
		case TAG_TIMER:
			on_tick(p);
			break;
		case TAG_CLIENT:
		case TAG_UPSTREAM:
			on_conn_event(e, evs[i].events);
			break;
		}
	}
	while (p->dead) {
		struct conn *c = p->dead;

		p->dead = c->next;
		conn_free(c);
	}
	update_timer(p);
}

/* ---- setup -------------------------------------------------------------- */

struct proxy *proxy_new(const struct proxy_opts *opts, char *err, size_t errlen)
{
	struct proxy *p = xcalloc(1, sizeof(*p));
	static const struct hostrules none;

	p->o = *opts;
	if (!p->o.allow)
		p->o.allow = &none;
	if (!p->o.attrib_timeout_ms)
		p->o.attrib_timeout_ms = 500;
	if (!p->o.header_timeout_ms)
		p->o.header_timeout_ms = 30000;
	if (!p->o.connect_timeout_ms)
		p->o.connect_timeout_ms = 30000;
	if (!p->o.idle_timeout_ms)
		p->o.idle_timeout_ms = 300000;
	if (!p->o.max_conns)
		p->o.max_conns = 256;
	if (!p->o.pipe_kib)
		p->o.pipe_kib = 256;
	p->listeners[0].fd = p->listeners[1].fd = -1;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->epfd < 0 || p->tfd < 0) {
		snprintf(err, errlen, "proxy: epoll/timerfd: %s", strerror(errno));
		proxy_free(p);
		return NULL;
	}
	p->timer = (struct endpoint){ .tag = TAG_TIMER, .fd = p->tfd };
	ep_set(p, &p->timer, EPOLLIN);
	return p;
}


static int listen_one(struct proxy *p, int family, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int one = 1;
	autoclose int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	}
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "proxy: listening on %s:%u in the jail's netns: %s",
			 family == AF_INET ? "127.0.0.1" : "[::1]", port, strerror(errno));
		return -1;
	}
	if (port == 0) {
		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
			snprintf(err, errlen, "proxy: getsockname: %s", strerror(errno));
			return -1;
		}
		p->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		p->port = port;
	}
	struct endpoint *e = &p->listeners[p->n_listeners++];

	*e = (struct endpoint){ .tag = TAG_LISTEN, .fd = steal_fd(&fd) };
	ep_set(p, e, EPOLLIN);
	return 0;
}

int proxy_listen_in_netns(struct proxy *p, int netns_fd, uint16_t port, char *err, size_t errlen)
{
	autoclose int self = -1;
	char err6[256];
	int rc = -1;

	if (p->n_listeners) {
		snprintf(err, errlen, "proxy: already listening");
		return -1;
	}
	if (netns_fd >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0) {
			snprintf(err, errlen, "proxy: opening /proc/thread-self/ns/net: %s", strerror(errno));
			return -1;
		}
		if (setns(netns_fd, CLONE_NEWNET) < 0) {
			snprintf(err, errlen, "proxy: entering the jail's net namespace: %s", strerror(errno));
			return -1;
		}
		if (netns_loopback_up(err, errlen) < 0)
			goto back;
	}
	if (listen_one(p, AF_INET, port, err, errlen) < 0)
		goto back;
	/* IPv6 is optional: a kernel or netns without it still works on 127.0.0.1. */
	if (listen_one(p, AF_INET6, p->port, err6, sizeof(err6)) < 0)
		debugx(1, "%s (IPv6 skipped)", err6);
	rc = 0;
back:
	/* Staying in the jail's netns would send every upstream connection
	 * into a namespace with no route: there is no safe way on. */
	if (netns_fd >= 0 && setns(self, CLONE_NEWNET) < 0)
		die_errno("proxy: returning to the supervisor's net namespace");
	if (rc < 0) {
		for (int i = 0; i < p->n_listeners; i++) {
			close(p->listeners[i].fd);
			p->listeners[i].fd = -1;
		}
		p->n_listeners = 0;
	}
	return rc;
}

uint16_t proxy_port(const struct proxy *p)
{
	return p->port;
}

int proxy_fd(const struct proxy *p)
{
	return p->epfd;
}

void proxy_stats(const struct proxy *p, struct proxy_stats *st)
{
	*st = p->st;
	st->active = p->n_conns;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	while (p->conns) {
		struct conn *c = p->conns;

		if (c->outcome == PROXY_FORWARDED && c->st == C_HEAD && !c->reason)
			c->reason = xstrdup("the jail ended before the request was complete");
		conn_close(c);
	}
	while (p->dead) {
		struct conn *c = p->dead;

		p->dead = c->next;
		conn_free(c);
	}
	for (int i = 0; i < p->n_listeners; i++)
		if (p->listeners[i].fd >= 0)
			close(p->listeners[i].fd);
	if (p->tfd >= 0)
		close(p->tfd);
	if (p->epfd >= 0)
		close(p->epfd);
	free(p);
}
