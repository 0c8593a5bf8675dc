/* Inside src/net/: the egress proxy's connection, shared by its files.
 * Everything runs in the supervisor (host netns), single-threaded.
 *   proxy.c         the listeners in the jail's netns, accept, the timer,
 *                   the event loop (proxy_handle), setup and teardown
 *   proxy_conn.c    one connection: the request, who the client is, the
 *                   decision, our own replies, the log record
 *   proxy_tunnel.c  the way out of an allowed one: resolve, connect, splice
 *   proxy_request.c the HTTP request parser (no state; fuzzed)
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
 * later events of the same epoll batch never touch freed memory.
 * Outside the layer, include net/net.h. */
#ifndef PIPJAIL_PROXY_INTERNAL_H
#define PIPJAIL_PROXY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/proxy.h"

#define MAX_ADDRS    8

enum tag { TAG_LISTEN = 1, TAG_TIMER, TAG_CLIENT, TAG_UPSTREAM };
enum cstate { C_HEAD, C_CONNECTING, C_TUNNEL, C_REPLY, C_DRAIN, C_DEAD };

struct conn;

/* What an epoll event points at: a listener, the timer, or one side of a
 * connection. */
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

/* proxy.c: the interest registered for e becomes events (0: none). */
void proxy_ep_set(struct proxy *p, struct endpoint *e, uint32_t events);

/* proxy_conn.c */
/* A new client connection on fd (accepted, non-blocking): read at once. */
void conn_new(struct proxy *p, int fd);
/* Too many connections at once: a 503 of our own, the log record, closed. */
void conn_overloaded(struct proxy *p, int fd);
void conn_event(struct endpoint *e, uint32_t events);
/* The timer ticked: attribution retries and every timeout. */
void conn_tick(struct conn *c, uint64_t now);
void conn_set_state(struct conn *c, enum cstate st);
/* Answer the client ourselves (refusal or error) and close. */
void conn_reply(struct conn *c, int status, const char *phrase, enum proxy_outcome outcome,
		const char *reason, const char *hint);
/* Log, count and close; onto the dead list until proxy_handle frees it. */
void conn_close(struct conn *c);
void conn_free(struct conn *c);

/* proxy_tunnel.c */
/* An allowed request: resolve the destination and start connecting. */
void upstream_connect(struct conn *c);
/* The connecting socket is writable (connected, or failed). */
void upstream_ready(struct conn *c);
/* No connection within connect_timeout_ms: the next address, or 504. */
void upstream_timeout(struct conn *c);
/* Move what can move both ways; closes the connection when done. */
void tunnel_run(struct conn *c);
/* Close both pipes and drop what was not sent. */
void tunnel_close(struct conn *c);
/* An IP literal (no lookup) as a socket address with port; false: not one. */
bool sockaddr_of_ip(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

#endif
