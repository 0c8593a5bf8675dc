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
#include "proxy_fixture.h"

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
