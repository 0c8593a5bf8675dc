/* The egress proxy's test bench (tests/unit/net/test_proxy.c): a
 * deterministic origin HTTP server on the host's 127.0.0.1, a jail-like net
 * namespace (only lo), and clients forked into it that bind a source port
 * of a range (the test's attribution callback reads who they are from it),
 * send a request and hash what comes back; the supervisor's loop in small
 * (run).  Static functions: one test program includes it. */
#ifndef PIPJAIL_TEST_PROXY_FIXTURE_H
#define PIPJAIL_TEST_PROXY_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>

#include "net/proxy.h"
#include "../unit.h"
#include "base/base.h"

#define PROXY_PORT 3128
/* Client source ports tell the fake attribution who the client is. */
#define PORT_PIP      40000
#define PORT_BUILD    42000
#define PORT_NOBODY   44000
#define PORT_LATE     46000
#define RANGE         2000

static uint16_t origin_port, closed_port;
static int netns_fd = -1;
static uint16_t next_port[4] = { PORT_PIP, PORT_BUILD, PORT_NOBODY, PORT_LATE };
static uint64_t late_first_ns[RANGE];

/* ---- deterministic data and its hash ------------------------------------ */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void gen(uint64_t off, unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(mix((off + i) / 8) >> (8 * ((off + i) % 8)));
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}
#define FNV0 0xcbf29ce484222325ULL

static uint64_t expected_hash(uint64_t n)
{
	unsigned char buf[65536];
	uint64_t h = FNV0;

	for (uint64_t off = 0; off < n;) {
		size_t k = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);

		gen(off, buf, k);
		h = fnv(h, buf, k);
		off += k;
	}
	return h;
}

/* ---- the origin server (host netns, 127.0.0.1) -------------------------- */

static void origin_conn(int fd)
{
	char head[16384], resp[256];
	size_t len = 0;
	char *end = NULL;

	while (!end && len < sizeof(head) - 1) {
		ssize_t n = read(fd, head + len, sizeof(head) - 1 - len);

		if (n <= 0)
			_exit(1);
		len += (size_t)n;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	if (!end)
		_exit(1);
	size_t hlen = (size_t)(end + 4 - head);
	unsigned long long n = 0;

	if (sscanf(head, "GET /blob/%llu ", &n) == 1) {
		unsigned char buf[65536];

		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n", n);
		write_all(fd, resp, strlen(resp));
		for (uint64_t off = 0; off < n;) {
			size_t k = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);

			gen(off, buf, k);
			if (write_all(fd, buf, k) < 0)
				_exit(1);
			off += k;
		}
	} else if (strncmp(head, "GET /echo", 9) == 0) {
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", hlen);
		write_all(fd, resp, strlen(resp));
		write_all(fd, head, hlen);
	} else if (strncmp(head, "POST /upload", 12) == 0) {
		const char *cl = strcasestr(head, "\r\nContent-Length:");
		unsigned long long want = cl ? strtoull(cl + 17, NULL, 10) : 0, got = len - hlen;
		uint64_t h = fnv(FNV0, (unsigned char *)head + hlen, got);
		unsigned char buf[65536];
		char hex[17];

		while (got < want) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r <= 0)
				_exit(1);
			h = fnv(h, buf, (size_t)r);
			got += (size_t)r;
		}
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: 16\r\nConnection: close\r\n\r\n%s", hex);
		write_all(fd, resp, strlen(resp));
	} else {
		static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

		write_all(fd, nf, sizeof(nf) - 1);
	}
	_exit(0);
}

static int listen_local(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		die_errno("origin listen");
	*port = ntohs(a.sin_port);
	return fd;
}

static pid_t start_origin(void)
{
	int lfd = listen_local(&origin_port);
	pid_t pid = fork();

	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		signal(SIGCHLD, SIG_IGN);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				continue;
			if (fork() == 0) {
				close(lfd);
				origin_conn(fd);
			}
			close(fd);
		}
	}
	close(lfd);
	/* A port that refuses: bound and closed again. */
	close(listen_local(&closed_port));
	return pid;
}

/* ---- the jail-like net namespace ----------------------------------------- */

static int make_netns(void)
{
	int p[2], fd;
	char path[64], c;
	pid_t pid;

	if (pipe(p) < 0)
		die_errno("pipe");
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		write_all(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		die("the netns child failed");
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("%s", path);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return fd;
}

/* ---- clients (inside the netns) ------------------------------------------ */

enum kind { K_GET, K_CONNECT, K_CONNECT_PIPELINED, K_UPLOAD, K_RAW };

struct job {
	enum kind kind;
	int who;                  /* 0 pip, 1 build, 2 nobody, 3 late, -1 ephemeral */
	const char *host;         /* destination host (as written in the request) */
	uint16_t port;
	const char *path;         /* GET path */
	uint64_t size;            /* /blob size, or upload size */
	const char *raw;          /* K_RAW: bytes to send as they are */
	size_t raw_len;
	bool v6;                  /* connect to the proxy on [::1] */
	unsigned silent_ms;       /* K_RAW: stay silent first */
};

struct result {
	int ok;                   /* the client ran to the end */
	int connect_status;       /* CONNECT reply status, 0 for GET */
	int status;               /* final response status */
	uint64_t body_len, hash;
	char body[1024];          /* first bytes of the body */
	char err[128];
};

struct child {
	pid_t pid;
	int rfd;
	struct result res;
	bool done;
};

/* Parse one response header from the stream; returns its status. */
static int parse_status(const char *head)
{
	int st = 0;

	if (sscanf(head, "HTTP/1.%*d %d", &st) != 1)
		return -1;
	return st;
}

/* stage: 0 a CONNECT reply comes first, 1 a response, 2 only a body */
static void read_response(int fd, int stage, struct result *res)
{
	static unsigned char buf[65536];
	char head[16384];
	size_t hlen = 0;

	res->hash = FNV0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t i = 0;

		if (n < 0) {
			snprintf(res->err, sizeof(res->err), "read: %s", strerror(errno));
			return;
		}
		if (n == 0)
			break;
		while (i < (size_t)n) {
			if (stage == 2) {
				size_t k = (size_t)n - i;

				if (res->body_len < sizeof(res->body) - 1) {
					size_t c = sizeof(res->body) - 1 - res->body_len;

					memcpy(res->body + res->body_len, buf + i, c < k ? c : k);
				}
				res->hash = fnv(res->hash, buf + i, k);
				res->body_len += k;
				i += k;
				continue;
			}
			head[hlen++] = (char)buf[i++];
			head[hlen] = '\0';
			if (hlen >= 4 && memcmp(head + hlen - 4, "\r\n\r\n", 4) == 0) {
				int st = parse_status(head);

				if (stage == 0) {
					res->connect_status = st;
					if (st != 200) {
						res->status = st;
						stage = 2;
					} else {
						stage = 1;
					}
				} else {
					res->status = st;
					stage = 2;
				}
				hlen = 0;
			}
			if (hlen >= sizeof(head) - 2) {
				snprintf(res->err, sizeof(res->err), "header too long");
				return;
			}
		}
	}
	res->ok = 1;
}

static void client_main(const struct job *j, struct result *res)
{
	char req[2048];
	int fd;
	struct sockaddr_storage ss = { 0 };
	socklen_t slen;
	bool connect_first = j->kind == K_CONNECT || j->kind == K_CONNECT_PIPELINED || j->kind == K_UPLOAD;

	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		snprintf(res->err, sizeof(res->err), "setns: %s", strerror(errno));
		return;
	}
	fd = socket(j->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (j->who >= 0) {
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (j->v6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			a->sin6_family = AF_INET6;
			a->sin6_addr = in6addr_loopback;
			a->sin6_port = htons(next_port[j->who]);
			slen = sizeof(*a);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			a->sin_family = AF_INET;
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			a->sin_port = htons(next_port[j->who]);
			slen = sizeof(*a);
		}
		if (bind(fd, (struct sockaddr *)&ss, slen) < 0) {
			snprintf(res->err, sizeof(res->err), "bind: %s", strerror(errno));
			return;
		}
	}
	memset(&ss, 0, sizeof(ss));
	if (j->v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(PROXY_PORT);
		slen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(PROXY_PORT);
		slen = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		snprintf(res->err, sizeof(res->err), "connect to the proxy: %s", strerror(errno));
		return;
	}
	switch (j->kind) {
	case K_GET:
		snprintf(req, sizeof(req),
			 "GET http://%s:%u%s HTTP/1.1\r\nHost: wrong.example\r\nProxy-Authorization: Basic c2VjcmV0\r\n"
			 "Proxy-Connection: keep-alive\r\nConnection: keep-alive\r\nUser-Agent: test\r\n\r\n",
			 j->host, j->port, j->path);
		write_all(fd, req, strlen(req));
		break;
	case K_CONNECT:
	case K_CONNECT_PIPELINED: {
		char inner[512];
		struct result pre = { 0 };

		snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", j->host, j->port,
			 j->host, j->port);
		snprintf(inner, sizeof(inner), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", j->path);
		if (j->kind == K_CONNECT_PIPELINED) {
			strcat(req, inner);
			write_all(fd, req, strlen(req));
			break;
		}
		write_all(fd, req, strlen(req));
		/* Wait for the 200 line (byte by byte: nothing more comes yet). */
		char line[512];
		size_t l = 0;

		while (l < sizeof(line) - 1 && read(fd, line + l, 1) == 1) {
			line[++l] = '\0';
			if (l >= 4 && strcmp(line + l - 4, "\r\n\r\n") == 0)
				break;
		}
		line[l] = '\0';
		pre.connect_status = parse_status(line);
		if (pre.connect_status != 200) {
			/* Our own refusal: the body follows. */
			read_response(fd, 2, res);
			res->connect_status = res->status = pre.connect_status;
			close(fd);
			return;
		}
		write_all(fd, inner, strlen(inner));
		read_response(fd, 1, res);
		res->connect_status = 200;
		close(fd);
		return;
	}
	case K_UPLOAD: {
		unsigned char buf[65536];

		snprintf(req, sizeof(req),
			 "CONNECT %s:%u HTTP/1.1\r\n\r\nPOST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %llu\r\n\r\n",
			 j->host, j->port, (unsigned long long)j->size);
		write_all(fd, req, strlen(req));
		for (uint64_t off = 0; off < j->size;) {
			size_t k = j->size - off < sizeof(buf) ? (size_t)(j->size - off) : sizeof(buf);

			gen(off, buf, k);
			if (write_all(fd, buf, k) < 0)
				break;
			off += k;
		}
		break;
	}
	case K_RAW:
		if (j->silent_ms)
			poll(NULL, 0, (int)j->silent_ms);
		if (j->raw_len)
			write_all(fd, j->raw, j->raw_len);
		break;
	}
	read_response(fd, connect_first ? 0 : 1, res);
	close(fd);
}

static struct child spawn(const struct job *j)
{
	struct child c = { 0 };
	int p[2];

	if (pipe(p) < 0)
		die_errno("pipe");
	c.pid = fork();
	if (c.pid < 0)
		die_errno("fork");
	if (c.pid == 0) {
		struct result res = { 0 };

		close(p[0]);
		client_main(j, &res);
		write_all(p[1], &res, sizeof(res));
		_exit(0);
	}
	if (j->who >= 0)
		next_port[j->who]++;
	close(p[1]);
	c.rfd = p[0];
	return c;
}

/* The supervisor's loop, in small: nest proxy_fd in an epoll and call
 * proxy_handle when it is readable, until every child is done. */
static void run(struct proxy *p, struct child *cs, size_t n)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t deadline = now_ns() + 120ULL * 1000000000ULL;
	size_t left = n;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, proxy_fd(p), &ev) < 0)
		die_errno("epoll");
	while (left && now_ns() < deadline) {
		struct epoll_event out;

		if (epoll_wait(ep, &out, 1, 20) > 0)
			proxy_handle(p);
		for (size_t i = 0; i < n; i++) {
			int st;

			if (cs[i].done || waitpid(cs[i].pid, &st, WNOHANG) != cs[i].pid)
				continue;
			cs[i].done = true;
			left--;
			if (read_all(cs[i].rfd, &cs[i].res, sizeof(cs[i].res)) != (ssize_t)sizeof(cs[i].res))
				snprintf(cs[i].res.err, sizeof(cs[i].res.err), "no result from the client");
			close(cs[i].rfd);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!cs[i].done) {
			kill(cs[i].pid, SIGKILL);
			waitpid(cs[i].pid, NULL, 0);
			close(cs[i].rfd);
			snprintf(cs[i].res.err, sizeof(cs[i].res.err), "timed out");
		}
	}
	/* Let the proxy see the last closes. */
	for (int i = 0; i < 10; i++) {
		struct epoll_event out;

		if (epoll_wait(ep, &out, 1, 10) > 0)
			proxy_handle(p);
	}
	close(ep);
}

static struct result run1(struct proxy *p, const struct job *j)
{
	struct child c = spawn(j);

	run(p, &c, 1);
	return c.res;
}

static long vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

#endif
