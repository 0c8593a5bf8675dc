/* The egress proxy, for real (root): the proxy listens inside a new net
 * namespace (only lo, like the jail's), an origin HTTP server runs on the
 * host's 127.0.0.1, and clients run inside the namespace (forked children
 * that setns into it), as pip would.
 *   - CONNECT and absolute-form GET to the allowed origin: bytes arrive
 *     intact both ways (hashed), Proxy-* headers stripped, Host rewritten
 *   - a destination outside the rules: 403 naming the rules and the fix
 *   - a client the attribution calls "build": 403 naming the process;
 *     one that nobody claims: 403 "unattributed"; one claimed late: works
 *   - a pip request whose line, a header field, CONNECT target or body
 *     start carries a secret (a stub matcher) gets 403 naming where
 *   - malformed, oversized, https-in-GET and silent requests get 4xx
 *   - 20 parallel downloads all complete; a 50 MB download leaves the
 *     process's peak RSS flat
 *   - the listener is not reachable from the host's netns; proxy_free()
 *     leaves no fd behind
 * Every address is 127.0.0.1 / ::1; no name is ever resolved. */
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

/* ---- attribution and logs ------------------------------------------------ */

struct logs {
	unsigned requests, refusals, refused_role, refused_host, refused_unattr, refused_token;
	unsigned token_asks;
	uint64_t last_bytes_down, last_bytes_up;
	enum proxy_outcome last_outcome;
	char last_reason[1024];
};
static struct logs logs;

static int who(uint16_t port, uint32_t *hpid, const char **role, void *ctx)
{
	(void)ctx;
	*role = port >= PORT_BUILD && port < PORT_BUILD + RANGE ? "build" : "pip";
	*hpid = 100000u + port;
	if (port >= PORT_PIP && port < PORT_PIP + RANGE)
		return PROXY_CLIENT_PIP;
	if (port >= PORT_BUILD && port < PORT_BUILD + RANGE)
		return PROXY_CLIENT_OTHER;
	if (port >= PORT_NOBODY && port < PORT_NOBODY + RANGE)
		return PROXY_CLIENT_UNKNOWN;
	if (port >= PORT_LATE && port < PORT_LATE + RANGE) {
		uint64_t *first = &late_first_ns[port - PORT_LATE];

		if (!*first)
			*first = now_ns();
		return now_ns() - *first > 100000000ULL ? PROXY_CLIENT_PIP : PROXY_CLIENT_UNKNOWN;
	}
	return -1;
}

static void describe(uint32_t hpid, char *buf, size_t len, void *ctx)
{
	(void)ctx;
	(void)hpid;
	snprintf(buf, len, "demo build_wheel");
}

static void on_refused(const struct proxy_log *l, void *ctx)
{
	(void)ctx;
	logs.refusals++;
	logs.refused_role += l->outcome == PROXY_REFUSED_ROLE;
	logs.refused_host += l->outcome == PROXY_REFUSED_HOST;
	logs.refused_unattr += l->outcome == PROXY_REFUSED_UNATTRIBUTED;
	logs.refused_token += l->outcome == PROXY_REFUSED_TOKEN;
}

/* A stub for decide/'s matcher: the secret is "SECRET42", as is. */
static bool find_token(const char *data, size_t n, char *what, size_t len, void *ctx)
{
	(void)ctx;
	logs.token_asks++;
	if (!memmem(data, n, "SECRET42", 8))
		return false;
	snprintf(what, len, "the value of the decoy $STUB (as is)");
	return true;
}

static void on_request(const struct proxy_log *l, void *ctx)
{
	cJSON *j = proxy_log_json(l);
	char *s = cJSON_PrintUnformatted(j);

	(void)ctx;
	logs.requests++;
	logs.last_bytes_down = l->bytes_down;
	logs.last_bytes_up = l->bytes_up;
	logs.last_outcome = l->outcome;
	snprintf(logs.last_reason, sizeof(logs.last_reason), "%s", l->reason ? l->reason : "");
	debugx(1, "log: %s", s);
	free(s);
	cJSON_Delete(j);
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

/* ---- the tests ------------------------------------------------------------ */

static void test_forwarding(struct proxy *p)
{
	struct result r;
	struct job j = { .kind = K_GET, .who = 0, .host = "127.0.0.1", .port = origin_port,
			 .path = "/blob/3000000" };
	uint64_t h3 = expected_hash(3000000);

	r = run1(p, &j);
	CHECK(r.ok && r.status == 200, "GET through the proxy: status %d %s", r.status, r.err);
	CHECK(r.body_len == 3000000 && r.hash == h3, "GET: 3 MB arrive intact (%llu bytes)",
	      (unsigned long long)r.body_len);
	CHECK(logs.last_outcome == PROXY_FORWARDED && logs.last_bytes_down >= 3000000,
	      "the log has the bytes down: %llu", (unsigned long long)logs.last_bytes_down);

	j.path = "/echo?x=1#frag";
	r = run1(p, &j);
	CHECK(r.status == 200, "GET /echo: %d", r.status);
	CHECK(strncmp(r.body, "GET /echo?x=1 HTTP/1.1\r\n", 24) == 0, "origin-form request line: %.40s", r.body);
	CHECK(!strcasestr(r.body, "proxy-"), "no Proxy-* header reaches the origin: %s", r.body);
	CHECK(!strstr(r.body, "keep-alive") && strstr(r.body, "Connection: close\r\n"),
	      "Connection: close upstream: %s", r.body);
	{
		char host[64];

		snprintf(host, sizeof(host), "Host: 127.0.0.1:%u\r\n", origin_port);
		CHECK(strstr(r.body, host) && !strstr(r.body, "wrong.example"),
		      "Host comes from the URL: %s", r.body);
	}
	CHECK(strstr(r.body, "User-Agent: test\r\n"), "other headers pass: %s", r.body);

	j = (struct job){ .kind = K_CONNECT, .who = 0, .host = "127.0.0.1", .port = origin_port,
			  .path = "/blob/3000000" };
	r = run1(p, &j);
	CHECK(r.ok && r.connect_status == 200 && r.status == 200, "CONNECT tunnel: %d/%d %s",
	      r.connect_status, r.status, r.err);
	CHECK(r.body_len == 3000000 && r.hash == h3, "CONNECT: 3 MB arrive intact");

	j.kind = K_CONNECT_PIPELINED;
	j.path = "/blob/100000";
	r = run1(p, &j);
	CHECK(r.connect_status == 200 && r.status == 200 && r.hash == expected_hash(100000),
	      "CONNECT with the first bytes in the same packet: %d/%d", r.connect_status, r.status);

	j = (struct job){ .kind = K_UPLOAD, .who = 0, .host = "127.0.0.1", .port = origin_port, .size = 4000000 };
	r = run1(p, &j);
	{
		char hex[17];

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)expected_hash(4000000));
		CHECK(r.status == 200 && strcmp(r.body, hex) == 0, "4 MB upload arrives intact: %d %s vs %s",
		      r.status, r.body, hex);
	}
	CHECK(logs.last_bytes_up >= 4000000, "the log has the bytes up: %llu",
	      (unsigned long long)logs.last_bytes_up);

	/* IPv6 listener (the netns has ::1 once lo is up). */
	j = (struct job){ .kind = K_GET, .who = 0, .host = "127.0.0.1", .port = origin_port,
			  .path = "/blob/1000", .v6 = true };
	r = run1(p, &j);
	CHECK(r.status == 200 && r.body_len == 1000, "the proxy answers on [::1] too: %d %s", r.status, r.err);

	/* Allowed but nothing listens: 502 with the reason. */
	j = (struct job){ .kind = K_CONNECT, .who = 0, .host = "127.0.0.1", .port = closed_port, .path = "/" };
	r = run1(p, &j);
	CHECK(r.connect_status == 502 && strstr(r.body, "could not connect to 127.0.0.1:") && strstr(r.body, "refused"),
	      "a refused upstream gives 502 with the reason: %d %s", r.connect_status, r.body);
}

static void test_refusals(struct proxy *p)
{
	struct result r;
	struct job j = { .kind = K_CONNECT, .who = 0, .host = "127.0.0.1", .port = (uint16_t)(origin_port + 1),
			 .path = "/" };
	char want[128];
	unsigned before = logs.refusals;

	if (origin_port + 1 == closed_port)
		j.port = (uint16_t)(origin_port + 2);
	r = run1(p, &j);
	snprintf(want, sizeof(want), "127.0.0.1:%u (--index-url)", origin_port);
	CHECK(r.connect_status == 403, "another port is refused: %d", r.connect_status);
	CHECK(strstr(r.body, "not in the allowed hosts") && strstr(r.body, want) &&
	      strstr(r.body, "add --allow-host 127.0.0.1:"),
	      "the body names the rules and the fix: %s", r.body);
	CHECK(logs.refused_host == 1 && logs.refusals == before + 1, "reported once as a host refusal");

	j = (struct job){ .kind = K_GET, .who = 0, .host = "127.0.0.2", .port = origin_port, .path = "/blob/10" };
	r = run1(p, &j);
	CHECK(r.status == 403 && strstr(r.body, "127.0.0.2"), "another host is refused: %d %s", r.status, r.body);

	/* A name outside the rules is refused before any lookup. */
	j = (struct job){ .kind = K_CONNECT, .who = 0, .host = "files.example.invalid", .port = 443, .path = "/" };
	r = run1(p, &j);
	CHECK(r.connect_status == 403 && strstr(r.body, "--allow-host files.example.invalid:443"),
	      "a name outside the rules: %d %s", r.connect_status, r.body);

	/* A build process, to the allowed index. */
	j = (struct job){ .kind = K_CONNECT, .who = 1, .host = "127.0.0.1", .port = origin_port, .path = "/blob/10" };
	snprintf(want, sizeof(want), "build process %u (demo build_wheel) may not use the network", 100000u + next_port[1]);
	r = run1(p, &j);
	CHECK(r.connect_status == 403 && strstr(r.body, want) && strstr(r.body, "only pip may reach the index"),
	      "a build process is refused by name: %d %s", r.connect_status, r.body);
	CHECK(logs.refused_role == 1, "reported as a role refusal (%u)", logs.refused_role);

	/* Nobody claims the port. */
	j.who = 2;
	r = run1(p, &j);
	CHECK(r.connect_status == 403 && strstr(r.body, "could not be attributed"),
	      "an unattributed client is refused: %d %s", r.connect_status, r.body);
	CHECK(logs.refused_unattr == 1, "reported as unattributed");

	/* Claimed after 100 ms (the ring buffer lagged): served. */
	j.who = 3;
	r = run1(p, &j);
	CHECK(r.connect_status == 200 && r.status == 200 && r.body_len == 10,
	      "a late attribution is waited for: %d/%d", r.connect_status, r.status);
}

/* pip led to send a secret: refused before any upstream connection,
 * saying where it was; the others as before (a build: for its role). */
static void test_tokens(struct proxy *p)
{
	static const struct { const char *raw; int status; const char *where; } cases[] = {
		{ "GET http://127.0.0.1:@/f.whl?v=SECRET42 HTTP/1.1\r\nHost: x\r\n\r\n", 403, "in its request line" },
		{ "GET http://127.0.0.1:@/f.whl HTTP/1.1\r\nX-Note: a SECRET42\r\n\r\n", 403, "in its X-Note header" },
		{ "CONNECT SECRET42.example:@ HTTP/1.1\r\n\r\n", 403, "in its CONNECT target" },
		{ "POST http://127.0.0.1:@/up HTTP/1.1\r\nContent-Length: 12\r\n\r\nv=SECRET42\r\n", 403,
		  "in the start of its body" },
		{ "GET http://127.0.0.1:@/blob/10?v=SECRET4-2 HTTP/1.1\r\n\r\n", 200, NULL },
	};
	struct proxy_stats st0, st1;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char raw[256];
		unsigned refused = logs.refused_token;
		struct job j = { .kind = K_RAW, .who = 0, .raw = raw };
		struct result r;

		/* '@' is the origin's port */
		const char *at = strchr(cases[i].raw, '@');

		snprintf(raw, sizeof(raw), "%.*s%u%s", (int)(at - cases[i].raw), cases[i].raw, origin_port, at + 1);
		j.raw_len = strlen(raw);
		proxy_stats(p, &st0);
		r = run1(p, &j);
		proxy_stats(p, &st1);
		CHECK(r.status == cases[i].status, "'%.40s': %d, expected %d %s", raw, r.status, cases[i].status, r.body);
		if (!cases[i].where)
			continue;
		CHECK(strstr(r.body, "carries the value of the decoy $STUB (as is)") && strstr(r.body, cases[i].where),
		      "'%.40s': the body says what and where (%s): %s", raw, cases[i].where, r.body);
		CHECK(logs.refused_token == refused + 1 && logs.last_outcome == PROXY_REFUSED_TOKEN,
		      "'%.40s': reported once as refused-token", raw);
		CHECK(st1.forwarded == st0.forwarded, "'%.40s': nothing was forwarded", raw);
	}
	{
		/* A build's request is refused for its role, secret or not. */
		struct job j = { .kind = K_RAW, .who = 1, .raw = "CONNECT SECRET42.example:443 HTTP/1.1\r\n\r\n" };
		unsigned role = logs.refused_role;

		j.raw_len = strlen(j.raw);
		run1(p, &j);
		CHECK(logs.refused_role == role + 1 && logs.last_outcome == PROXY_REFUSED_ROLE,
		      "a build is refused for its role first");
	}
}

static void test_bad_requests(struct proxy *p)
{
	static const struct { const char *raw; int status; const char *why; } bad[] = {
		{ "GET /simple/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, "absolute http:// URL" },
		{ "GET https://127.0.0.1/ HTTP/1.1\r\n\r\n", 400, "CONNECT" },
		{ "CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", 400, "port is missing" },
		{ "CONNECT 127.0.0.1:80 HTTP/2\r\n\r\n", 400, "HTTP/1.1" },
		{ "CONNECT user@127.0.0.1:80 HTTP/1.1\r\n\r\n", 400, "not allowed" },
		{ "GET http://127.0.0.1/ HTTP/1.1\r\n folded\r\n\r\n", 400, "folding" },
		{ "GET ftp://127.0.0.1/ HTTP/1.1\r\n\r\n", 501, "only CONNECT" },
	};
	struct result r;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct job j = { .kind = K_RAW, .who = 0, .raw = bad[i].raw, .raw_len = strlen(bad[i].raw) };

		r = run1(p, &j);
		CHECK(r.status == bad[i].status && strstr(r.body, bad[i].why),
		      "'%.30s' gets %d '%s': %d %s", bad[i].raw, bad[i].status, bad[i].why, r.status, r.body);
	}
	{
		size_t n = PROXY_HEAD_MAX + 4096;
		char *big = xmalloc(n);
		struct job j = { .kind = K_RAW, .who = 0, .raw = big, .raw_len = n };

		memset(big, 'a', n);
		memcpy(big, "GET http://127.0.0.1/ HTTP/1.1\r\nX: ", 35);
		r = run1(p, &j);
		CHECK(r.status == 431, "an endless header gets 431: %d", r.status);
		free(big);
	}
	{
		struct job j = { .kind = K_RAW, .who = 0, .raw = "", .raw_len = 0 };

		r = run1(p, &j);
		CHECK(r.status == 408, "a silent client gets 408 after the header timeout: %d", r.status);
	}
}

static void test_parallel(struct proxy *p)
{
	struct child cs[20];
	uint64_t h = expected_hash(1000000);
	int good = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cs); i++) {
		struct job j = { .kind = i % 2 ? K_GET : K_CONNECT, .who = 0, .host = "127.0.0.1",
				 .port = origin_port, .path = "/blob/1000000" };

		cs[i] = spawn(&j);
	}
	run(p, cs, ARRAY_SIZE(cs));
	for (size_t i = 0; i < ARRAY_SIZE(cs); i++)
		good += cs[i].res.status == 200 && cs[i].res.body_len == 1000000 && cs[i].res.hash == h;
	CHECK(good == (int)ARRAY_SIZE(cs), "20 parallel downloads complete intact: %d", good);
	struct proxy_stats st;

	proxy_stats(p, &st);
	CHECK(st.max_active >= 10, "they ran at the same time (max %llu at once)", (unsigned long long)st.max_active);
}

static void test_memory(struct proxy *p)
{
	struct job j = { .kind = K_CONNECT, .who = 0, .host = "127.0.0.1", .port = origin_port,
			 .path = "/blob/52428800" };
	long before = vm_hwm_kb(), after;
	struct result r = run1(p, &j);

	after = vm_hwm_kb();
	CHECK(r.status == 200 && r.body_len == 52428800 && r.hash == expected_hash(52428800),
	      "50 MB arrive intact: %d %llu", r.status, (unsigned long long)r.body_len);
	CHECK(after - before < 2048, "peak RSS grew by %ld kB over a 50 MB transfer (limit 2048)", after - before);
	printf("test_proxy: VmHWM %ld kB before, %ld kB after a 50 MB download\n", before, after);
}

static void test_listen_errors(void)
{
	char err[512];
	struct proxy_opts o = { 0 };
	struct proxy *p = proxy_new(&o, err, sizeof(err));
	struct stat a, b;
	int notns = open("/", O_RDONLY | O_CLOEXEC);

	stat("/proc/thread-self/ns/net", &a);
	CHECK_INT_EQ(proxy_listen_in_netns(p, notns, PROXY_PORT, err, sizeof(err)), -1);
	CHECK(strstr(err, "entering the jail's net namespace"), "a bad netns fd is reported: %s", err);
	stat("/proc/thread-self/ns/net", &b);
	CHECK(a.st_ino == b.st_ino, "the thread is still in its own netns");
	close(notns);
	proxy_free(p);
}

int main(void)
{
	char err[512];
	struct hostrules rules = { 0 };
	struct proxy_opts o = {
		.allow = &rules, .who = who, .describe = describe, .on_refused = on_refused,
		.on_request = on_request, .find_token = find_token, .attrib_timeout_ms = 300,
		.header_timeout_ms = 1000, .numeric_only = true,
	};
	struct proxy *p;
	pid_t origin;
	int fds_before, fds_after;
	struct stat own_ns, after_ns;

	if (geteuid() != 0) {
		printf("test_proxy: skipped (needs root for network namespaces)\n");
		return 0;
	}
	if (getenv("PJ_VERBOSE"))
		pj_verbose = 2;
	signal(SIGPIPE, SIG_IGN);
	origin = start_origin();
	netns_fd = make_netns();
	{
		autofree char *url = xasprintf("http://127.0.0.1:%u/simple/", origin_port);

		autofree char *closed = xasprintf("127.0.0.1:%u", closed_port);

		if (hostrules_add_url(&rules, url, "--index-url", err, sizeof(err)) < 0 ||
		    hostrules_add(&rules, closed, "--allow-host", err, sizeof(err)) < 0)
			die("%s", err);
	}
	test_listen_errors();

	fds_before = count_fds();
	stat("/proc/thread-self/ns/net", &own_ns);
	p = proxy_new(&o, err, sizeof(err));
	CHECK(p != NULL, "proxy_new: %s", err);
	CHECK_INT_EQ(proxy_listen_in_netns(p, netns_fd, PROXY_PORT, err, sizeof(err)), 0);
	stat("/proc/thread-self/ns/net", &after_ns);
	CHECK(own_ns.st_ino == after_ns.st_ino, "the supervisor thread is back in its netns");
	{
		/* From the host's netns, the proxy's port is not there. */
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PROXY_PORT),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));

		if (rc == 0)
			printf("test_proxy: something on the host listens on %u; isolation check skipped\n", PROXY_PORT);
		else
			CHECK(errno == ECONNREFUSED, "the host's 127.0.0.1:%u refuses (%s)", PROXY_PORT, strerror(errno));
		close(fd);
	}

	test_forwarding(p);
	test_refusals(p);
	test_tokens(p);
	test_bad_requests(p);
	test_parallel(p);
	test_memory(p);

	{
		struct proxy_stats st;

		proxy_stats(p, &st);
		CHECK(st.accepted == logs.requests, "one log record per connection: %llu accepted, %u logged",
		      (unsigned long long)st.accepted, logs.requests);
		CHECK(st.active == 0, "no connection left open: %llu", (unsigned long long)st.active);
		CHECK(logs.token_asks >= st.forwarded, "every forwarded request was looked at: %u asks, %llu forwarded",
		      logs.token_asks, (unsigned long long)st.forwarded);
		printf("test_proxy: %llu connections, %llu forwarded, %llu refused, %llu failed, %.1f MB down\n",
		       (unsigned long long)st.accepted, (unsigned long long)st.forwarded,
		       (unsigned long long)st.refused, (unsigned long long)st.failed, (double)st.bytes_down / 1e6);
	}
	proxy_free(p);
	fds_after = count_fds();
	CHECK(fds_before == fds_after, "proxy_free leaves no fd behind (%d before, %d after)", fds_before, fds_after);

	close(netns_fd);
	hostrules_free(&rules);
	kill(origin, SIGKILL);
	waitpid(origin, NULL, 0);
	return unit_summary("test_proxy");
}
