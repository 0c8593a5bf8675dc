/* The egress proxy (see proxy.h and docs/proxy.md): its listeners inside
 * the jail's net namespace, accept, the timer, the event loop, setup and
 * teardown.  Runs in the supervisor; proxy_internal.h says which file does
 * what to a connection. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "net/proxy_internal.h"
#include "base/base.h"

#define ATTRIB_TICK_MS 5
#define SLOW_TICK_MS 250

/* ---- epoll bookkeeping -------------------------------------------------- */

void proxy_ep_set(struct proxy *p, struct endpoint *e, uint32_t events)
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

/* ---- accept ------------------------------------------------------------- */

static void on_accept(struct proxy *p, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				warn_errno("proxy: accept");
			return;
		}
		p->st.accepted++;
		if (p->n_conns >= p->o.max_conns)
			conn_overloaded(p, fd);
		else
			conn_new(p, fd);
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
		next = c->next;
		conn_tick(c, now);
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

/* Connections closed during the last batch of events. */
static void free_dead(struct proxy *p)
{
	while (p->dead) {
		struct conn *c = p->dead;

		p->dead = c->next;
		conn_free(c);
	}
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
			conn_event(e, evs[i].events);
			break;
		}
	}
	free_dead(p);
	update_timer(p);
}

/* ---- setup -------------------------------------------------------------- */

/* 0 in proxy_opts means the default. */
static unsigned or_default(unsigned v, unsigned dflt)
{
	return v ? v : dflt;
}

struct proxy *proxy_new(const struct proxy_opts *opts, char *err, size_t errlen)
{
	struct proxy *p = xcalloc(1, sizeof(*p));
	static const struct hostrules none;

	p->o = *opts;
	if (!p->o.allow)
		p->o.allow = &none;
	p->o.attrib_timeout_ms = or_default(p->o.attrib_timeout_ms, 500);
	p->o.header_timeout_ms = or_default(p->o.header_timeout_ms, 30000);
	p->o.connect_timeout_ms = or_default(p->o.connect_timeout_ms, 30000);
	p->o.idle_timeout_ms = or_default(p->o.idle_timeout_ms, 300000);
	p->o.max_conns = or_default(p->o.max_conns, 256);
	p->o.pipe_kib = or_default(p->o.pipe_kib, 256);
	p->listeners[0].fd = p->listeners[1].fd = -1;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->epfd < 0 || p->tfd < 0) {
		snprintf(err, errlen, "proxy: epoll/timerfd: %s", strerror(errno));
		proxy_free(p);
		return NULL;
	}
	p->timer = (struct endpoint){ .tag = TAG_TIMER, .fd = p->tfd };
	proxy_ep_set(p, &p->timer, EPOLLIN);
	return p;
}


static int listen_one(struct proxy *p, int family, uint16_t port, char *err, size_t errlen)
{
	const char *ip = family == AF_INET ? "127.0.0.1" : "::1";
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	autoclose int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sockaddr_of_ip(ip, port, &ss, &len);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "proxy: listening on %s%s%s:%u in the jail's netns: %s",
			 family == AF_INET ? "" : "[", ip, family == AF_INET ? "" : "]", port, strerror(errno));
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
	proxy_ep_set(p, e, EPOLLIN);
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
	free_dead(p);
	for (int i = 0; i < p->n_listeners; i++)
		if (p->listeners[i].fd >= 0)
			close(p->listeners[i].fd);
	if (p->tfd >= 0)
		close(p->tfd);
	if (p->epfd >= 0)
		close(p->epfd);
	free(p);
}
