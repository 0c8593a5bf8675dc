/* The sinkhole of `pipjail analyze` (--net sinkhole): inside the jail's net
 * namespace every IPv4 and IPv6 destination is local ("AnyIP" routes on lo),
 * a DNS responder answers every A/AAAA query with a loopback address, and
 * every TCP port a jailed process connects to gets a listener just in time
 * (seccomp user notification on connect), so that what a package tries to
 * send is captured instead of lost.  Nothing has a route out: the jail's
 * only interface is lo.
 *
 * The same user-notification listener answers the sleep calls at once when
 * fast_time is set (see SINKHOLE_FAST_TIME_CALLS in seccomp.c). */
#ifndef PIPJAIL_SINKHOLE_H
#define PIPJAIL_SINKHOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what is kept of what the jail sends. */
#define SINK_CONN_MAX_BYTES  (64u * 1024)   /* per TCP connection */
#define SINK_TOTAL_MAX_BYTES (1024u * 1024) /* the whole run */
#define SINK_MAX_PORTS       256            /* listeners made on demand */
#define SINK_MAX_CONNS       128            /* open connections at once */

struct sink_capture {
	const char *proto;          /* "tcp" or "dns" */
	const char *addr;           /* the destination the process asked for */
	uint16_t port;
	uint32_t hpid;              /* the sender, 0 when unknown */
	const unsigned char *data;  /* tcp: the bytes received; dns: the query packet */
	size_t len;
	bool truncated;             /* cut at a bound */
	const char *dns_name;       /* dns: the queried name */
	const char *dns_qtype;      /* dns: "A", "AAAA", "TXT", ... */
};

struct sinkhole_opts {
	bool fast_time;             /* answer the sleep calls at once */
	/* The process holding the TCP socket whose local port is port (the
	 * client side of an accepted connection); 0 and *hpid, or -1. */
	int (*who)(uint16_t port, uint32_t *hpid, void *ctx);
	void (*on_capture)(const struct sink_capture *c, void *ctx);
	/* A connect or a sleep was answered (for the trace): what, by whom. */
	void (*on_notify)(const char *call, uint32_t hpid, const char *detail, void *ctx);
	void *ctx;
};

struct sinkhole;

/* notify_sock: the supervisor's end of the socketpair over which each
 * jailed command sends its seccomp listener fd (SCM_RIGHTS). */
struct sinkhole *sinkhole_new(const struct sinkhole_opts *o, int notify_sock,
			      char *err, size_t errlen);
/* In the jail's net namespace (netns_fd): lo up, the AnyIP routes, the DNS
 * responder on port 53 of 0.0.0.0 and ::.  0, or -1 with a reason. */
int sinkhole_setup_netns(struct sinkhole *s, int netns_fd, char *err, size_t errlen);
/* An fd to poll for input (an epoll fd); then call sinkhole_handle. */
int sinkhole_fd(const struct sinkhole *s);
void sinkhole_handle(struct sinkhole *s);
/* The jail is gone: read what is left on the open connections and hand
 * every capture to on_capture. */
void sinkhole_flush(struct sinkhole *s);
void sinkhole_free(struct sinkhole *s);

/* Helpers, exposed for the unit tests. */
/* The name in a DNS query (dotted, lower case kept as sent) into name,
 * and its type; 0, or -1 when the packet is not a query. */
int sink_dns_parse(const unsigned char *pkt, size_t len, char *name, size_t namelen,
		   uint16_t *qtype, size_t *qend);
/* The answer to a query: A 127.0.0.2, AAAA ::1, others no data.  Bytes
 * written to out, or 0 when the query is not answerable. */
size_t sink_dns_answer(const unsigned char *q, size_t qlen, unsigned char *out, size_t outlen);
const char *sink_dns_type_name(uint16_t qtype);

#endif
