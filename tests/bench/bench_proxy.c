/* Benchmark of the egress proxy on loopback (scripts/bench_proxy.sh):
 *   throughput: a large download (CONNECT tunnel) against the same download
 *               straight from the origin; median of several runs, as a ratio
 *   latency:    one small plain-HTTP request per new connection (what pip
 *               does through a proxy that closes after each request),
 *               direct and through the proxy; medians, and the difference;
 *               then through a second proxy that looks for 14 decoy tokens
 *               in every request (decide/'s scanner, as a run has it)
 *   token check: the scanner alone on a pip request and on a full 16 KiB
 *               header, in the proxy's process: CPU time per request.
 * The origin, the proxy and the client are separate processes on two CPUs at
 * most, so the ratio is what a jail would see.  No namespace is needed: the
 * proxy listens on the host's 127.0.0.1 here (the jail's netns only changes
 * where the listening socket lives, not the data path). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "decide/engine.h"
#include "net/net.h"
#include "base/base.h"

static uint16_t origin_port, proxy_port_;
static uint16_t tok_port_;              /* the proxy that looks for tokens */
static struct decoy_scanner *scanner;   /* NULL: the proxy looks for no token */
static unsigned pipe_kib;   /* 0: the proxy's default */

static int tcp_listen(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		die_errno("listen");
	*port = ntohs(a.sin_port);
	return fd;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die_errno("connect to %u", port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* GET /blob/N: N bytes from a static buffer. */
static void origin_serve(int fd)
{
	static char buf[1 << 20];
	char head[4096], resp[128];
	size_t len = 0;
	unsigned long long n = 0;

	while (len < sizeof(head) - 1) {
		ssize_t r = read(fd, head + len, sizeof(head) - 1 - len);

		if (r <= 0)
			_exit(0);
		len += (size_t)r;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
	}
	sscanf(head, "GET /blob/%llu", &n);
	snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n", n);
	write_all(fd, resp, strlen(resp));
	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);

		if (write_all(fd, buf, k) < 0)
			break;
		n -= k;
	}
	_exit(0);
}

static pid_t start_origin(void)
{
	int lfd = tcp_listen(&origin_port);
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGCHLD, SIG_IGN);
		for (;;) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				continue;
			if (fork() == 0)
				origin_serve(fd);
			close(fd);
		}
	}
	close(lfd);
	return pid;
}

static bool find_token(const char *data, size_t n, char *what, size_t len, void *ctx)
{
	const char *how;

	(void)ctx;
	if (decoy_scanner_find(scanner, (const unsigned char *)data, n, false, &how) < 0)
		return false;
	snprintf(what, len, "a decoy (%s)", how);
	return true;
}

/* Tokens shaped like a run's (jail/decoys.c): prefix + random hex. */
static struct engine *decoy_engine(void)
{
	static const char *const prefixes[] = { "PIPJAIL", "", "pypi-AgEIcHlwaS5vcmc", "", "ghp_", "", "",
						"gho_", "ghp_", "AKIA", "", "pypi-AgEIcHlwaS5vcmc", "npm_", "glpat-" };
	static const size_t hexlen[] = { 48, 40, 48, 32, 36, 40, 48, 36, 36, 16, 40, 48, 36, 20 };
	struct engine *e = engine_new(NULL, false);
	char hex[64], tok[128];

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		random_hex(hex, hexlen[i]);
		snprintf(tok, sizeof(tok), "%s%s", prefixes[i], hex);
		engine_add_decoy(e, "$BENCH", tok);
	}
	return e;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CPU time of one token check, in ns (thread CPU time: what the
 * supervisor's loop spends, whatever else the machine runs): a request
 * like pip's, and a full 16 KiB header (the most the proxy holds). */
static void bench_scan(double *pip_ns, double *full_ns)
{
	static const char req[] =
		"GET http://127.0.0.1:8080/files/pjtl_dep-1.0-py3-none-any.whl?channel=stable HTTP/1.1\r\n"
		"Host: 127.0.0.1:8080\r\nUser-Agent: pip/23.0.1 {\"ci\":null,\"cpu\":\"x86_64\",\"distro\":"
		"{\"id\":\"bookworm\",\"libc\":{\"lib\":\"glibc\",\"version\":\"2.36\"},\"name\":\"Debian "
		"GNU/Linux\",\"version\":\"12\"},\"implementation\":{\"name\":\"CPython\",\"version\":"
		"\"3.11.2\"},\"installer\":{\"name\":\"pip\",\"version\":\"23.0.1\"},\"openssl_version\":"
		"\"OpenSSL 3.0.11 19 Sep 2023\",\"python\":\"3.11.2\",\"setuptools_version\":\"66.1.1\","
		"\"system\":{\"name\":\"Linux\",\"release\":\"6.1.0-13-amd64\"}}\r\n"
		"Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n";
	static char full[PROXY_HEAD_MAX];
	const char *how;
	int reps = 20000;
	uint64_t t0;

	/* The worst case: escapes that take three rounds to decode. */
	static const char pattern[] = "X-Field: abcdefghij0123456789%252541+/=&\r\n";

	for (size_t i = 0; i < sizeof(full); i++)
		full[i] = pattern[i % (sizeof(pattern) - 1)];
	t0 = cpu_ns();
	for (int i = 0; i < reps; i++)
		if (decoy_scanner_find(scanner, (const unsigned char *)req, sizeof(req) - 1, false, &how) >= 0)
			die("the benchmark's request carries a token");
	*pip_ns = (double)(cpu_ns() - t0) / reps;
	reps = 500;
	t0 = cpu_ns();
	for (int i = 0; i < reps; i++)
		if (decoy_scanner_find(scanner, (const unsigned char *)full, sizeof(full), false, &how) >= 0)
			die("the benchmark's header carries a token");
	*full_ns = (double)(cpu_ns() - t0) / reps;
}

static pid_t start_proxy(void)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready) < 0)
		die_errno("pipe");
	pid = fork();
	if (pid == 0) {
		static struct hostrules rules;
		char err[512];
		struct proxy_opts o = { .allow = &rules, .numeric_only = true, .max_conns = 1024,
				       .pipe_kib = pipe_kib, .find_token = scanner ? find_token : NULL };
		struct proxy *p;
		autofree char *rule = xasprintf("127.0.0.1:%u", origin_port);
		int ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };

		if (hostrules_add(&rules, rule, "bench", err, sizeof(err)) < 0 ||
		    !(p = proxy_new(&o, err, sizeof(err))) ||
		    proxy_listen_in_netns(p, -1, 0, err, sizeof(err)) < 0)
			die("%s", err);
		proxy_port_ = proxy_port(p);
		write_all(ready[1], &proxy_port_, sizeof(proxy_port_));
		epoll_ctl(ep, EPOLL_CTL_ADD, proxy_fd(p), &ev);
		for (;;) {
			if (epoll_wait(ep, &ev, 1, -1) > 0)
				proxy_handle(p);
		}
	}
	close(ready[1]);
	if (read(ready[0], &proxy_port_, sizeof(proxy_port_)) != sizeof(proxy_port_))
		die("the proxy did not start");
	close(ready[0]);
	(void)c;
	return pid;
}

/* Read a whole response; returns body bytes after the first header (or the
 * second, after a CONNECT 200). */
static uint64_t drain_response(int fd, int headers)
{
	static char buf[1 << 20];
	uint64_t body = 0;
	int seen = 0;
	unsigned match = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (seen >= headers) {
				body += (uint64_t)(n - i);
				break;
			}
			/* count "\r\n\r\n" */
			static const char pat[] = "\r\n\r\n";

			match = buf[i] == pat[match] ? match + 1 : (buf[i] == '\r' ? 1 : 0);
			if (match == 4) {
				seen++;
				match = 0;
			}
		}
	}
	return body;
}

static double download(bool via_proxy, uint64_t size)
{
	char req[256];
	uint64_t t0 = now_ns(), got;
	int fd = tcp_connect(via_proxy ? proxy_port_ : origin_port);

	if (via_proxy)
		snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\nGET /blob/%llu HTTP/1.1\r\n\r\n",
			 origin_port, (unsigned long long)size);
	else
		snprintf(req, sizeof(req), "GET /blob/%llu HTTP/1.1\r\n\r\n", (unsigned long long)size);
	write_all(fd, req, strlen(req));
	got = drain_response(fd, via_proxy ? 2 : 1);
	close(fd);
	if (got != size)
		die("download: %llu of %llu bytes", (unsigned long long)got, (unsigned long long)size);
	return (double)size / ((double)(now_ns() - t0) / 1e9) / 1e6;   /* MB/s */
}

static double request_us(bool via_proxy)
{
	char req[256];
	uint64_t t0 = now_ns();
	int fd = tcp_connect(via_proxy ? proxy_port_ : origin_port);

	if (via_proxy)
		snprintf(req, sizeof(req), "GET http://127.0.0.1:%u/blob/100 HTTP/1.1\r\nHost: x\r\n\r\n", origin_port);
	else
		snprintf(req, sizeof(req), "GET /blob/100 HTTP/1.1\r\nHost: x\r\n\r\n");
	write_all(fd, req, strlen(req));
	if (drain_response(fd, 1) != 100)
		die("a small request failed");
	close(fd);
	return (double)(now_ns() - t0) / 1e3;
}

/* CPU seconds (user + system) a process used so far. */
static double cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	unsigned long long mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
	int runs = argc > 2 ? atoi(argv[2]) : 5, nreq = argc > 3 ? atoi(argv[3]) : 500;

	pipe_kib = argc > 4 ? (unsigned)atoi(argv[4]) : 0;
	double d[32], p[32], *ld, *lp, *lt, md, mp, lmd, lmp, lmt, scan_pip, scan_full;
	pid_t origin, proxy, proxy_tok;
	uint16_t plain_port;
	struct engine *e;

	if (runs < 1 || runs > 32 || nreq < 1)
		die("usage: bench_proxy [MB [RUNS [REQUESTS [PIPE_KIB]]]]");
	signal(SIGPIPE, SIG_IGN);
	origin = start_origin();
	proxy = start_proxy();
	plain_port = proxy_port_;
	e = decoy_engine();
	scanner = engine_decoy_scanner(e);
	proxy_tok = start_proxy();   /* the same, looking for the tokens */
	tok_port_ = proxy_port_;
	proxy_port_ = plain_port;
	ld = xcalloc((size_t)nreq, sizeof(double));
	lp = xcalloc((size_t)nreq, sizeof(double));
	lt = xcalloc((size_t)nreq, sizeof(double));
	download(false, 1 << 20);   /* warm up */
	download(true, 1 << 20);
	double cpu = 0;

	for (int i = 0; i < runs; i++) {
		double c0;

		d[i] = download(false, mb << 20);
		c0 = cpu_s(proxy);
		p[i] = download(true, mb << 20);
		cpu += cpu_s(proxy) - c0;
	}
	for (int i = 0; i < nreq; i++) {
		ld[i] = request_us(false);
		lp[i] = request_us(true);
		/* the same proxy looking for the tokens, interleaved so that both
		 * see the same machine load */
		proxy_port_ = tok_port_;
		lt[i] = request_us(true);
		proxy_port_ = plain_port;
	}
	bench_scan(&scan_pip, &scan_full);
	md = median(d, (size_t)runs);
	mp = median(p, (size_t)runs);
	lmd = median(ld, (size_t)nreq);
	lmp = median(lp, (size_t)nreq);
	lmt = median(lt, (size_t)nreq);
	printf("proxy throughput (%llu MiB, median of %d): direct %.0f MB/s, through the proxy %.0f MB/s: %.0f%% of direct\n",
	       mb, runs, md, mp, 100.0 * mp / md);
	printf("proxy CPU: %.2f s per GiB moved (user + system)\n", cpu / ((double)(mb * (unsigned long long)runs) / 1024.0));
	printf("proxy latency per request (median of %d, new connection each): direct %.0f us, "
	       "through the proxy %.0f us: +%.0f us\n", nreq, lmd, lmp, lmp - lmd);
	printf("decoy-token check (14 tokens): through the proxy with it %.0f us (%+.0f us against without); "
	       "CPU per check %.1f us for a pip request, %.1f us for a full %d-byte header\n",
	       lmt, lmt - lmp, scan_pip / 1e3, scan_full / 1e3, PROXY_HEAD_MAX);
	kill(proxy_tok, SIGKILL);
	waitpid(proxy_tok, NULL, 0);
	decoy_scanner_free(scanner);
	engine_free(e);
	free(lt);
	kill(proxy, SIGKILL);
	kill(origin, SIGKILL);
	waitpid(proxy, NULL, 0);
	waitpid(origin, NULL, 0);
	free(ld);
	free(lp);
	return 0;
}
