/* The egress proxy's way out, for a request it allowed: resolve the
 * destination, connect to it without blocking, then splice both ways
 * through a pipe per direction (memory stays flat whatever the size).
 * Runs in the supervisor (host netns): upstream sockets are the host's. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/proxy_internal.h"
#include "base/base.h"

/* ---- tunnel ------------------------------------------------------------- */

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

void tunnel_close(struct conn *c)
{
	dir_close(&c->c2u);
	dir_close(&c->u2c);
}

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
	proxy_ep_set(c->p, &c->cl, want_in(&c->c2u) | want_out(&c->u2c));
	proxy_ep_set(c->p, &c->up, want_in(&c->u2c) | want_out(&c->c2u));
}

void tunnel_run(struct conn *c)
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
		conn_reply(c, 503, "Service Unavailable", PROXY_UPSTREAM_FAILED,
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
	conn_set_state(c, C_TUNNEL);
	tunnel_run(c);
}

/* ---- upstream connect --------------------------------------------------- */

static void upstream_failed(struct conn *c, const char *what, int err)
{
	autofree char *reason = xasprintf("%s %s:%u: %s", what, c->req.host, c->req.port, strerror(err));

	conn_reply(c, 502, "Bad Gateway", PROXY_UPSTREAM_FAILED, reason, NULL);
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
			conn_set_state(c, C_CONNECTING);
			proxy_ep_set(p, &c->up, EPOLLOUT);
			return;
		}
		err = errno;
		close(fd);
	}
	upstream_failed(c, "could not connect to", err);
}

/* Give up the connecting socket (it failed, or took too long). */
static void upstream_drop(struct conn *c)
{
	proxy_ep_set(c->p, &c->up, 0);
	close(c->up.fd);
	c->up.fd = -1;
}

void upstream_ready(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		proxy_ep_set(c->p, &c->up, 0);
		tunnel_start(c);
		return;
	}
	upstream_drop(c);
	if (c->addr_i < c->n_addrs)
		upstream_try(c);
	else
		upstream_failed(c, "could not connect to", err);
}

/* An IP literal as a socket address: no lookup. */
bool sockaddr_of_ip(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return true;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return true;
	}
	return false;
}

/* IP literals need no lookup; names go through getaddrinfo (blocking,
 * outside the jail: see docs/proxy.md). */
static int resolve(struct conn *c, const char **why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res = NULL;
	char port[8];
	int rc;

	memset(c->addrs, 0, sizeof(c->addrs));
	c->n_addrs = c->addr_i = 0;
	if (sockaddr_of_ip(c->req.host, c->req.port, &c->addrs[0], &c->addrlens[0])) {
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

void upstream_connect(struct conn *c)
{
	const char *why = NULL;

	if (resolve(c, &why) < 0) {
		autofree char *reason = xasprintf("could not resolve %s: %s", c->req.host, why);

		conn_reply(c, 502, "Bad Gateway", PROXY_UPSTREAM_FAILED, reason, NULL);
		return;
	}
	upstream_try(c);
}

void upstream_timeout(struct conn *c)
{
	struct proxy *p = c->p;

	upstream_drop(c);
	if (c->addr_i < c->n_addrs) {
		upstream_try(c);
	} else {
		autofree char *r = xasprintf("connecting to %s:%u timed out after %u ms",
					     c->req.host, c->req.port, p->o.connect_timeout_ms);

		conn_reply(c, 504, "Gateway Timeout", PROXY_UPSTREAM_FAILED, r, NULL);
	}
}
