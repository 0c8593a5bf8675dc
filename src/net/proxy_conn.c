/* The egress proxy's connections: read the request, ask who the client
 * is, decide (only pip, only to the allowed hosts), answer refusals and
 * errors ourselves, keep the log record, and close.  Runs in the
 * supervisor; the sockets' other ends are in the jail's netns. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/proxy_internal.h"
#include "base/base.h"

#define DRAIN_MS     2000

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
	case PROXY_REFUSED_TOKEN: return "refused-token";
	}
	return "?";
}

/* ---- logging ------------------------------------------------------------ */

/* The outcomes that on_refused hears of (a violation of the run). */
static bool is_refusal(enum proxy_outcome o)
{
	return o == PROXY_REFUSED_ROLE || o == PROXY_REFUSED_HOST || o == PROXY_REFUSED_UNATTRIBUTED ||
	       o == PROXY_REFUSED_TOKEN;
}

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

/* A string field of the log record, left out when not known. */
static void add_known(cJSON *o, const char *key, const char *val)
{
	if (val)
		cJSON_AddStringToObject(o, key, val);
}

cJSON *proxy_log_json(const struct proxy_log *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "client_port", l->client_port);
	cJSON_AddNumberToObject(o, "hpid", l->hpid);
	cJSON_AddStringToObject(o, "role", l->role);
	add_known(o, "package", l->who);
	add_known(o, "method", l->method);
	if (l->host) {
		cJSON_AddStringToObject(o, "host", l->host);
		cJSON_AddNumberToObject(o, "port", l->port);
	}
	add_known(o, "path", l->path);
	cJSON_AddBoolToObject(o, "allowed", l->allowed);
	cJSON_AddStringToObject(o, "outcome", proxy_outcome_name(l->outcome));
	add_known(o, "reason", l->reason);
	add_known(o, "hint", l->hint);
	add_known(o, "rule", l->rule);
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

/* A connection that closes before its tunnel ran was not forwarded. */
static void settle_outcome(struct conn *c)
{
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
}

void conn_close(struct conn *c)
{
	struct proxy *p = c->p;
	struct proxy_log l;
	char rule[400];

	if (c->st == C_DEAD)
		return;
	settle_outcome(c);
	if (is_refusal(c->outcome))
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
	tunnel_close(c);
	c->st = C_DEAD;
	/* unlink from the live list (c->prev's next, or the head), onto the
	 * dead list */
	*(c->prev ? &c->prev->next : &p->conns) = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = p->dead;
	p->dead = c;
	p->n_conns--;
	p->st.active = p->n_conns;
}

void conn_free(struct conn *c)
{
	free(c->head);
	free(c->reason);
	free(c->hint);
	proxy_request_clear(&c->req);
	free(c);
}

void conn_set_state(struct conn *c, enum cstate st)
{
	c->st = st;
	c->t_state = c->t_last = now_ns();
}

/* Answer the client ourselves (refusal or error) and close. */
void conn_reply(struct conn *c, int status, const char *phrase, enum proxy_outcome outcome,
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
		proxy_ep_set(c->p, &c->up, 0);
		close(c->up.fd);
		c->up.fd = -1;
	}
	if (is_refusal(outcome))
		report_refusal(c);
	conn_set_state(c, C_REPLY);
	proxy_ep_set(c->p, &c->cl, EPOLLOUT);
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

/* Where in the request the secret is: the first part that carries it on
 * its own (request line, one header field, the start of the body). */
static char *token_where(struct conn *c)
{
	struct proxy *p = c->p;
	const char *h = c->head, *end = h + c->req.head_len, *line = h, *nl;
	char what[16];
	bool first = true;

	for (; line < end && (nl = memchr(line, '\n', (size_t)(end - line))); line = nl + 1, first = false) {
		size_t l = (size_t)(nl - line);
		const char *colon;

		if (l && line[l - 1] == '\r')
			l--;
		if (l == 0 || !p->o.find_token(line, l, what, sizeof(what), p->o.ctx))
			continue;
		if (first)
			return xstrdup(c->req.connect ? "its CONNECT target" : "its request line");
		colon = memchr(line, ':', l);
		return xasprintf("its %.*s header field", colon ? (int)(colon - line > 64 ? 64 : colon - line) : 0,
				 line);
	}
	if (c->head_len > c->req.head_len &&
	    p->o.find_token(end, c->head_len - c->req.head_len, what, sizeof(what), p->o.ctx))
		return xstrdup("the start of its body");
	return xstrdup("its header");
}

/* A pip client's request that carries a secret of the run: pip was led
 * to send it (a requirement or a link named this URL).  Refused. */
static bool refused_for_token(struct conn *c)
{
	struct proxy *p = c->p;
	char what[256];
	autofree char *where = NULL, *reason = NULL;

	/* What we hold: the header, and what came with it (body bytes). */
	if (!p->o.find_token || !p->o.find_token(c->head, c->head_len, what, sizeof(what), p->o.ctx))
		return false;
	where = token_where(c);
	reason = xasprintf("the request carries %s in %s; nothing that leaves the jail may carry a "
			   "secret of the jail", what, where);
	conn_reply(c, 403, "Forbidden", PROXY_REFUSED_TOKEN, reason, NULL);
	return true;
}

static void decide(struct conn *c)
{
	struct proxy *p = c->p;
	char rules[600];

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
		conn_reply(c, 403, "Forbidden",
			   c->client == PROXY_CLIENT_UNKNOWN ? PROXY_REFUSED_UNATTRIBUTED : PROXY_REFUSED_ROLE,
			   reason, NULL);
		return;
	}
	if (refused_for_token(c))
		return;
	c->rule = hostrules_match(p->o.allow, c->req.host, c->req.port);
	if (!c->rule) {
		autofree char *reason = NULL, *hint = NULL;
		bool v6 = strchr(c->req.host, ':') != NULL;

		hostrules_describe(p->o.allow, rules, sizeof(rules));
		reason = xasprintf("%s%s%s:%u is not in the allowed hosts (%s)", v6 ? "[" : "", c->req.host,
				   v6 ? "]" : "", c->req.port, rules);
		hint = xasprintf("add --allow-host %s%s%s:%u to allow it", v6 ? "[" : "", c->req.host,
				 v6 ? "]" : "", c->req.port);
		conn_reply(c, 403, "Forbidden", PROXY_REFUSED_HOST, reason, hint);
		return;
	}
	upstream_connect(c);
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
		proxy_ep_set(c->p, &c->cl, 0);   /* the rest waits for the decision */
		decide(c);
		return;
	default:
		conn_reply(c, status, status == 431 ? "Request Header Fields Too Large" :
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
	conn_set_state(c, C_DRAIN);
	proxy_ep_set(c->p, &c->cl, EPOLLIN);
	drain(c);
}

void conn_event(struct endpoint *e, uint32_t events)
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


/* ---- new connections and timeouts --------------------------------------- */

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

/* Too many connections at once: a 503 of our own, the log record, closed. */
void conn_overloaded(struct proxy *p, int fd)
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


void conn_new(struct proxy *p, int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->p = p;
	c->cl = (struct endpoint){ .tag = TAG_CLIENT, .c = c, .fd = fd };
	c->up = (struct endpoint){ .tag = TAG_UPSTREAM, .c = c, .fd = -1 };
	c->c2u.pr = c->c2u.pw = c->u2c.pr = c->u2c.pw = -1;
	c->client_port = peer_port(fd);
	c->t_start = now_ns();
	conn_set_state(c, C_HEAD);
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->n_conns++;
	p->st.active = p->n_conns;
	if (p->n_conns > p->st.max_active)
		p->st.max_active = p->n_conns;
	proxy_ep_set(p, &c->cl, EPOLLIN);
	ask_who(c);
	/* Read at once: the request is usually already there. */
	head_read(c);
}

void conn_tick(struct conn *c, uint64_t now)
{
	struct proxy *p = c->p;
	uint64_t age = (now - c->t_state) / 1000000ULL, idle = (now - c->t_last) / 1000000ULL;

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
				conn_reply(c, 408, "Request Timeout", PROXY_TIMEOUT,
					   "no complete request in time", NULL);
		}
		break;
	case C_CONNECTING:
		if (age >= p->o.connect_timeout_ms)
			upstream_timeout(c);
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
