/* The sinkhole: see sinkhole.h.  Everything here runs in the supervisor;
 * sockets are made inside the jail's net namespace by entering it on this
 * thread for the time of a socket() call (as net/proxy.c does), so that the
 * jail's own loopback is where they listen and nothing is ever bound on the
 * host's. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include "net/sinkhole.h"
#include "base/base.h"

/* The epoll data of each fd: what it is. */
enum sfd_kind { SFD_CTL = 1, SFD_NOTIFY, SFD_DNS, SFD_LISTEN, SFD_CONN, SFD_TIMER };

struct sfd {
	enum sfd_kind kind;
	int fd;
	uint16_t port;               /* listeners */
	struct conn *conn;           /* connections */
};

struct conn {
	struct sfd s;
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	uint32_t hpid;
	unsigned char *buf;
	size_t len, cap;
	bool truncated, answered;
	bool dead;                   /* reported and closed; freed after the batch */
	uint64_t last_ns;
	struct conn *next;
};

struct sinkhole {
	struct sinkhole_opts o;
	int epfd, netns, self_ns;
	struct sfd ctl, timer;
	struct sfd *notify[32];      /* one listener per command running (several checks at once) */
	size_t n_notify;
	struct sfd dns[2];
	struct sfd *listeners[2 * SINK_MAX_PORTS];
	size_t n_listeners;
	uint16_t ports[SINK_MAX_PORTS];   /* ports tried (listening or taken) */
	size_t n_ports;
	struct conn *conns;
	size_t n_conns;
	size_t total;                /* bytes kept over the run */
	struct seccomp_notif_sizes sizes;
};

static int ep_add(struct sinkhole *s, struct sfd *f)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, f->fd, &ev);
}

/* A new fd of the event loop (a listener or a seccomp listener), or NULL
 * with fd closed when it cannot be watched. */
static struct sfd *sfd_watch(struct sinkhole *s, enum sfd_kind kind, int fd, uint16_t port)
{
	struct sfd *f = xcalloc(1, sizeof(*f));

	*f = (struct sfd){ .kind = kind, .fd = fd, .port = port };
	if (ep_add(s, f) < 0) {
		close(fd);
		free(f);
		return NULL;
	}
	return f;
}

struct sinkhole *sinkhole_new(const struct sinkhole_opts *o, int notify_sock,
			      char *err, size_t errlen)
{
	struct sinkhole *s = xcalloc(1, sizeof(*s));
	struct itimerspec its = { .it_interval.tv_nsec = 250000000, .it_value.tv_nsec = 250000000 };

	s->o = *o;
	s->netns = s->self_ns = -1;
	s->dns[0].fd = s->dns[1].fd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->ctl = (struct sfd){ .kind = SFD_CTL, .fd = notify_sock };
	s->timer = (struct sfd){ .kind = SFD_TIMER,
				 .fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK) };
	if (s->epfd < 0 || s->timer.fd < 0 || timerfd_settime(s->timer.fd, 0, &its, NULL) < 0 ||
	    ep_add(s, &s->ctl) < 0 || ep_add(s, &s->timer) < 0) {
		snprintf(err, errlen, "sinkhole: epoll/timerfd: %s", strerror(errno));
		s->ctl.fd = -1; /* the caller's */
		sinkhole_free(s);
		return NULL;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s->sizes) < 0) {
		snprintf(err, errlen, "sinkhole: seccomp user notification is not available: %s",
			 strerror(errno));
		s->ctl.fd = -1;
		sinkhole_free(s);
		return NULL;
	}
	return s;
}

int sinkhole_fd(const struct sinkhole *s)
{
	return s->epfd;
}

/* --- the jail's net namespace -------------------------------------------- */

static int enter_jail(struct sinkhole *s)
{
	return setns(s->netns, CLONE_NEWNET);
}

static void leave_jail(struct sinkhole *s)
{
	/* Staying in the jail's namespace would put later sockets there; the
	 * supervisor cannot go on safely. */
	if (setns(s->self_ns, CLONE_NEWNET) < 0)
		die_errno("sinkhole: returning to the supervisor's net namespace");
}

/* "ip route add local 0.0.0.0/0 dev lo table local" (and ::/0): every
 * destination is an address of this namespace, so every connection and
 * datagram arrives at the jail's own loopback. */
static int anyip_route(int family, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req = { 0 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	struct rtattr *rta;
	unsigned int lo = if_nametoindex("lo");
	autoclose int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n;

	if (fd < 0 || lo == 0) {
		snprintf(err, errlen, "sinkhole: netlink socket: %s", strerror(errno));
		return -1;
	}
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_NEWROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = (unsigned char)family;
	req.rt.rtm_dst_len = 0;
	req.rt.rtm_table = RT_TABLE_LOCAL;
	req.rt.rtm_protocol = RTPROT_BOOT;
	req.rt.rtm_scope = RT_SCOPE_HOST;
	req.rt.rtm_type = RTN_LOCAL;
	rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	rta->rta_type = RTA_OIF;
	rta->rta_len = RTA_LENGTH(sizeof(int));
	memcpy(RTA_DATA(rta), &lo, sizeof(int));
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		goto fail;
	{
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_type == NLMSG_ERROR && e->error != 0) {
			errno = -e->error;
			goto fail;
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "sinkhole: adding the local route for every %s destination: %s",
		 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
	return -1;
}

static int bind_any(int fd, int family, uint16_t port)
{
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_ANY) };

		return bind(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					  .sin6_addr = IN6ADDR_ANY_INIT };

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		return bind(fd, (struct sockaddr *)&a, sizeof(a));
	}
}

static int dns_socket(struct sinkhole *s, int i, int family, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind_any(fd, family, 53) < 0) {
		snprintf(err, errlen, "sinkhole: the DNS responder on %s port 53: %s",
			 family == AF_INET ? "0.0.0.0" : "::", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* The answer must come from the address the query went to. */
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	s->dns[i] = (struct sfd){ .kind = SFD_DNS, .fd = fd };
	return ep_add(s, &s->dns[i]);
}

int sinkhole_setup_netns(struct sinkhole *s, int netns_fd, char *err, size_t errlen)
{
	char err6[256];
	int rc = -1;

	s->netns = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
	s->self_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->netns < 0 || s->self_ns < 0) {
		snprintf(err, errlen, "sinkhole: opening the net namespaces: %s", strerror(errno));
		return -1;
	}
	if (enter_jail(s) < 0) {
		snprintf(err, errlen, "sinkhole: entering the jail's net namespace: %s", strerror(errno));
		return -1;
	}
	if (netns_loopback_up(err, errlen) < 0 || anyip_route(AF_INET, err, errlen) < 0 ||
	    dns_socket(s, 0, AF_INET, err, errlen) < 0)
		goto back;
	/* IPv6 is optional: a jail without it still has the IPv4 sinkhole. */
	if (anyip_route(AF_INET6, err6, sizeof(err6)) < 0 ||
	    dns_socket(s, 1, AF_INET6, err6, sizeof(err6)) < 0)
		debugx(1, "%s (IPv6 sinkhole skipped)", err6);
	rc = 0;
back:
	leave_jail(s);
	return rc;
}

/* --- DNS ----------------------------------------------------------------- */

const char *sink_dns_type_name(uint16_t t)
{
	switch (t) {
	case 1:   return "A";
	case 2:   return "NS";
	case 5:   return "CNAME";
	case 12:  return "PTR";
	case 15:  return "MX";
	case 16:  return "TXT";
	case 28:  return "AAAA";
	case 33:  return "SRV";
	case 65:  return "HTTPS";
	case 255: return "ANY";
	default:  return "other";
	}
}

int sink_dns_parse(const unsigned char *pkt, size_t len, char *name, size_t namelen,
		   uint16_t *qtype, size_t *qend)
{
	size_t off = 12, out = 0;

	if (len < 12 || namelen == 0 || (pkt[2] & 0x80) || ((pkt[4] << 8) | pkt[5]) == 0)
		return -1;
	for (;;) {
		unsigned int l;

		if (off >= len)
			return -1;
		l = pkt[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len)
			return -1;      /* no compression in a question */
		if (out && out < namelen - 1)
			name[out++] = '.';
		for (unsigned int i = 0; i < l; i++) {
			unsigned char c = pkt[off + i];

			if (out < namelen - 1)
				name[out++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
		}
		off += l;
	}
	name[out] = '\0';
	if (off + 4 > len)
		return -1;
	*qtype = (uint16_t)(pkt[off] << 8 | pkt[off + 1]);
	*qend = off + 4;
	return 0;
}

size_t sink_dns_answer(const unsigned char *q, size_t qlen, unsigned char *out, size_t outlen)
{
	static const unsigned char v4[4] = { 127, 0, 0, 2 };
	static const unsigned char v6[16] = { [15] = 1 };
	char name[256];
	uint16_t qtype;
	size_t qend, n;
	bool answer;

	if (sink_dns_parse(q, qlen, name, sizeof(name), &qtype, &qend) < 0 || qend + 28 > outlen)
		return 0;
	answer = qtype == 1 || qtype == 28;
	memcpy(out, q, qend);
	out[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04); /* QR, opcode, AA, RD */
	out[3] = 0x80;                                         /* RA, NOERROR */
	out[4] = 0, out[5] = 1;                                /* one question */
	out[6] = 0, out[7] = answer ? 1 : 0;
	memset(out + 8, 0, 4);
	n = qend;
	if (answer) {
		const unsigned char *rd = qtype == 1 ? v4 : v6;
		size_t rdlen = qtype == 1 ? 4 : 16;

		out[n++] = 0xc0, out[n++] = 12;                /* the question's name */
		out[n++] = (unsigned char)(qtype >> 8), out[n++] = (unsigned char)qtype;
		out[n++] = 0, out[n++] = 1;                    /* IN */
		out[n++] = 0, out[n++] = 0, out[n++] = 0, out[n++] = 60;
		out[n++] = 0, out[n++] = (unsigned char)rdlen;
		memcpy(out + n, rd, rdlen);
		n += rdlen;
	}
	return n;
}

static void on_dns(struct sinkhole *s, int fd)
{
	for (int budget = 0; budget < 64; budget++) {
		unsigned char pkt[1500], ans[1600];
		char cbuf[256], name[256], addr[INET6_ADDRSTRLEN] = "";
		struct sockaddr_storage from;
		struct iovec iov = { pkt, sizeof(pkt) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		uint16_t qtype = 0;
		size_t qend, alen;

		if (n < 0)
			return;
		/* The destination the process asked for, and where to answer from. */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);

				inet_ntop(AF_INET, &pi->ipi_addr, addr, sizeof(addr));
				pi->ipi_spec_dst = pi->ipi_addr;
				pi->ipi_ifindex = 0;
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo *pi = (struct in6_pktinfo *)CMSG_DATA(c);

				inet_ntop(AF_INET6, &pi->ipi6_addr, addr, sizeof(addr));
				pi->ipi6_ifindex = 0;
			}
		}
		if (sink_dns_parse(pkt, (size_t)n, name, sizeof(name), &qtype, &qend) < 0)
			continue;
		if (s->o.on_capture && s->total + (size_t)n <= SINK_TOTAL_MAX_BYTES) {
			struct sink_capture c = { .proto = "dns", .addr = addr, .port = 53, .data = pkt,
						  .len = (size_t)n, .dns_name = name,
						  .dns_qtype = sink_dns_type_name(qtype) };
			uint16_t sport = from.ss_family == AF_INET
					 ? ntohs(((struct sockaddr_in *)&from)->sin_port)
					 : ntohs(((struct sockaddr_in6 *)&from)->sin6_port);

			(void)sport; /* UDP owners are not in /proc/net/tcp; the trace's send event names the sender */
			s->total += (size_t)n;
			s->o.on_capture(&c, s->o.ctx);
		}
		alen = sink_dns_answer(pkt, (size_t)n, ans, sizeof(ans));
		if (alen) {
			iov = (struct iovec){ ans, alen };
			mh.msg_iov = &iov;
			mh.msg_flags = 0;
			sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
	}
}

/* --- TCP: listeners made on demand, connections captured ------------------ */

static bool port_known(struct sinkhole *s, uint16_t port)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i] == port)
			return true;
	return false;
}

static void listen_on(struct sinkhole *s, int family, uint16_t port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sfd *f;

	if (fd < 0)
		return;
	/* A port the jail itself listens on is left to it. */
	if (bind_any(fd, family, port) < 0 || listen(fd, 64) < 0) {
		debugx(2, "sinkhole: port %u (%s) not taken: %s", port,
		       family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		close(fd);
		return;
	}
	f = sfd_watch(s, SFD_LISTEN, fd, port);
	if (f)
		s->listeners[s->n_listeners++] = f;
}

/* Make sure a connection to port finds a listener in the jail. */
static void ensure_listener(struct sinkhole *s, uint16_t port)
{
	if (port == 0 || port_known(s, port) || s->n_ports >= SINK_MAX_PORTS)
		return;
	s->ports[s->n_ports++] = port;
	if (enter_jail(s) < 0) {
		warn_errno("sinkhole: entering the jail's net namespace");
		return;
	}
	listen_on(s, AF_INET, port);
	listen_on(s, AF_INET6, port);
	leave_jail(s);
	debugx(1, "sinkhole: listening on port %u in the jail", port);
}

/* Report what the connection sent and close it.  It stays on the list,
 * marked dead, until reap(): another event of the same batch may name it. */
static void conn_finish(struct sinkhole *s, struct conn *c)
{
	struct sink_capture cap = { .proto = "tcp", .addr = c->addr, .port = c->port,
				    .hpid = c->hpid, .data = c->buf ? c->buf : (const unsigned char *)"",
				    .len = c->len, .truncated = c->truncated };

	if (c->dead)
		return;
	c->dead = true;
	if (s->o.on_capture)
		s->o.on_capture(&cap, s->o.ctx);
	closep(&c->s.fd);
}

static void reap(struct sinkhole *s)
{
	for (struct conn **pp = &s->conns; *pp;) {
		struct conn *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		s->n_conns--;
		free(c->buf);
		free(c);
	}
}

static void on_conn(struct sinkhole *s, struct conn *c);

static void on_accept(struct sinkhole *s, struct sfd *l)
{
	for (;;) {
		struct sockaddr_storage local, peer;
		socklen_t ll = sizeof(local), pl = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		uint16_t peer_port;

		if (fd < 0)
			return;
		if (s->n_conns >= SINK_MAX_CONNS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->s = (struct sfd){ .kind = SFD_CONN, .fd = fd, .conn = c };
		c->port = l->port;
		c->last_ns = now_ns();
		/* With AnyIP, the accepted socket's own address is the one the
		 * process connected to. */
		if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0) {
			if (local.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr, c->addr,
					  sizeof(c->addr));
			else
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&local)->sin6_addr, c->addr,
					  sizeof(c->addr));
		}
		peer_port = peer.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&peer)->sin_port)
						      : ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
		if (s->o.who && s->o.who(peer_port, &c->hpid, s->o.ctx) < 0)
			c->hpid = 0;
		c->next = s->conns;
		s->conns = c;
		s->n_conns++;
		if (ep_add(s, &c->s) < 0)
			conn_finish(s, c);
		else
			on_conn(s, c); /* data may be there already */
	}
}

/* An HTTP request is complete when its headers and Content-Length bytes
 * of body have arrived; then it gets a plain 200 so the client goes on. */
static bool http_complete(const struct conn *c)
{
	static const char *const methods[] = { "GET ", "POST ", "PUT ", "HEAD ", "PATCH ",
					       "DELETE ", "OPTIONS " };
	const unsigned char *end;
	bool http = false;
	size_t hdr, clen = 0;

	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		http |= c->len >= strlen(methods[i]) && memcmp(c->buf, methods[i], strlen(methods[i])) == 0;
	if (!http)
		return false;
	end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (!end)
		return false;
	hdr = (size_t)(end - c->buf) + 4;
	for (const unsigned char *p = c->buf; p && p < end;) {
		const unsigned char *nl = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (!nl)
			break;
		p = nl + 2;
		if ((size_t)(end - p) > 15 && strncasecmp((const char *)p, "content-length:", 15) == 0)
			clen = strtoul((const char *)p + 15, NULL, 10);
	}
	return c->len >= hdr + clen;
}

static void on_conn(struct sinkhole *s, struct conn *c)
{
	if (c->dead)
		return;
	for (;;) {
		unsigned char tmp[16384];
		ssize_t n = recv(c->s.fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		size_t keep;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_finish(s, c);
			return;
		}
		if (n < 0)
			break;
		c->last_ns = now_ns();
		keep = (size_t)n;
		if (c->len + keep > SINK_CONN_MAX_BYTES)
			keep = SINK_CONN_MAX_BYTES - c->len;
		if (s->total + keep > SINK_TOTAL_MAX_BYTES)
			keep = SINK_TOTAL_MAX_BYTES - s->total;
		if (keep < (size_t)n)
			c->truncated = true;
		if (keep) {
			if (c->len + keep > c->cap) {
				c->cap = c->len + keep + 4096;
				c->buf = xrealloc(c->buf, c->cap);
			}
			memcpy(c->buf + c->len, tmp, keep);
			c->len += keep;
			s->total += keep;
		}
		if (c->truncated) {
			conn_finish(s, c);
			return;
		}
	}
	if (!c->dead && !c->answered && http_complete(c)) {
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
					 "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";

		c->answered = true;
		send(c->s.fd, ok, sizeof(ok) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		shutdown(c->s.fd, SHUT_WR);
	}
}

/* A connection that has said nothing new for a second is done: TLS or a
 * protocol that waits for the server to speak first. */
static void on_timer(struct sinkhole *s)
{
	uint64_t ticks, now = now_ns();
	struct conn *c = s->conns, *next;

	if (read(s->timer.fd, &ticks, sizeof(ticks)) < 0)
		return;
	for (; c; c = next) {
		next = c->next;
		if (!c->dead && now - c->last_ns > 1000000000ull)
			conn_finish(s, c);
	}
}

/* --- seccomp user notification ------------------------------------------- */

static void on_ctl(struct sinkhole *s)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	struct sfd *f;
	int fd;

	ssize_t n = recvmsg(s->ctl.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->ctl.fd, NULL); /* no more commands */
	if (n <= 0)
		return;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (s->n_notify >= ARRAY_SIZE(s->notify)) {
		close(fd);
		return;
	}
	f = sfd_watch(s, SFD_NOTIFY, fd, 0);
	if (!f)
		return;
	s->notify[s->n_notify++] = f;
	debugx(2, "sinkhole: seccomp listener %d received", fd);
}

/* connect(fd, addr, len): read the address from the caller's memory. */
static bool connect_target(const struct seccomp_notif *req, int *family, char *addr,
			   size_t addrlen, uint16_t *port)
{
	struct sockaddr_storage ss = { 0 };
	size_t len = req->data.args[2] < sizeof(ss) ? (size_t)req->data.args[2] : sizeof(ss);
	struct iovec local = { &ss, len };
	struct iovec remote = { (void *)(uintptr_t)req->data.args[1], len };

	if (len < sizeof(sa_family_t) ||
	    process_vm_readv((pid_t)req->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return false;
	*family = ss.ss_family;
	if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, addr, (socklen_t)addrlen);
		*port = ntohs(a->sin_port);
		return true;
	}
	if (ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, addr, (socklen_t)addrlen);
		*port = ntohs(a->sin6_port);
		return true;
	}
	return false;
}

/* A listener whose filter is gone (every process of its command ended):
 * its slot is free for the next command's (the import checks run several
 * at once, one listener each). */
static void notify_forget(struct sinkhole *s, struct sfd *f)
{
	for (size_t i = 0; i < s->n_notify; i++) {
		if (s->notify[i] != f)
			continue;
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		free(f);
		s->notify[i] = s->notify[--s->n_notify];
		return;
	}
}

static void on_notify(struct sinkhole *s, struct sfd *f)
{
	autofree struct seccomp_notif *req = xcalloc(1, s->sizes.seccomp_notif > sizeof(*req)
						     ? s->sizes.seccomp_notif : sizeof(*req));
	autofree struct seccomp_notif_resp *resp = xcalloc(1, s->sizes.seccomp_notif_resp > sizeof(*resp)
							   ? s->sizes.seccomp_notif_resp : sizeof(*resp));
	const char *name;
	char detail[128] = "";

	if (ioctl(f->fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
		/* ENOENT: the caller died meanwhile.  Anything else: the filter
		 * is gone (its processes ended); stop watching it. */
		if (errno != ENOENT && errno != EINTR)
			notify_forget(s, f);
		return;
	}
	resp->id = req->id;
	name = req->data.nr == __NR_connect ? "connect" : "sleep";
	if (req->data.nr == __NR_connect) {
		char addr[INET6_ADDRSTRLEN] = "";
		uint16_t port = 0;
		int family = 0;
		bool ip = connect_target(req, &family, addr, sizeof(addr), &port);

		/* The memory was read from a pid: it counts only if that call is
		 * still the one waiting (the pid was not recycled meanwhile). */
		if (ioctl(f->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
			return;
		if (ip) {
			ensure_listener(s, port);
			snprintf(detail, sizeof(detail), "%s port %u", addr, port);
		}
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		/* A sleep: as if the time had passed. */
		resp->val = 0;
		resp->error = 0;
		snprintf(detail, sizeof(detail), "syscall %d", (int)req->data.nr);
	}
	if (ioctl(f->fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
		debugx(1, "sinkhole: answering a notification: %s", strerror(errno));
	if (s->o.on_notify && (detail[0] || req->data.nr != __NR_connect))
		s->o.on_notify(name, req->pid, detail, s->o.ctx);
}

void sinkhole_handle(struct sinkhole *s)
{
	struct epoll_event evs[16];
	int n = epoll_wait(s->epfd, evs, ARRAY_SIZE(evs), 0);

	for (int i = 0; i < n; i++) {
		struct sfd *f = evs[i].data.ptr;

		switch (f->kind) {
		case SFD_CTL:    on_ctl(s); break;
		case SFD_NOTIFY: on_notify(s, f); break;
		case SFD_DNS:    on_dns(s, f->fd); break;
		case SFD_LISTEN: on_accept(s, f); break;
		case SFD_CONN:   on_conn(s, f->conn); break;
		case SFD_TIMER:  on_timer(s); break;
		}
	}
	reap(s);
}

void sinkhole_flush(struct sinkhole *s)
{
	if (!s)
		return;
	/* What is still queued: DNS datagrams, connections not accepted yet,
	 * and the last bytes of the open ones. */
	for (int i = 0; i < 2; i++)
		if (s->dns[i].fd >= 0)
			on_dns(s, s->dns[i].fd);
	for (size_t i = 0; i < s->n_listeners; i++)
		on_accept(s, s->listeners[i]);
	for (struct conn *c = s->conns; c; c = c->next) {
		on_conn(s, c);
		conn_finish(s, c);
	}
	reap(s);
}

void sinkhole_free(struct sinkhole *s)
{
	if (!s)
		return;
	while (s->conns) {
		struct conn *c = s->conns;

		s->conns = c->next;
		closep(&c->s.fd);
		free(c->buf);
		free(c);
	}
	for (size_t i = 0; i < s->n_listeners; i++) {
		close(s->listeners[i]->fd);
		free(s->listeners[i]);
	}
	for (size_t i = 0; i < s->n_notify; i++) {
		close(s->notify[i]->fd);
		free(s->notify[i]);
	}
	for (int i = 0; i < 2; i++)
		closep(&s->dns[i].fd);
	closep(&s->ctl.fd);
	closep(&s->timer.fd);
	closep(&s->epfd);
	closep(&s->netns);
	closep(&s->self_ns);
	free(s);
}
