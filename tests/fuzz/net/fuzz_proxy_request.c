/* libFuzzer target for the egress proxy's request parser (and the
 * HOST[:PORT] / URL parsers it relies on).  Besides memory errors
 * (ASan/UBSan), it checks what the proxy relies on for every accepted
 * request: the header length is inside the input, the destination is a
 * non-empty host with a port, and the header sent upstream ends the header
 * once, carries "Connection: close" and no Proxy-* field.
 *
 * Build and run (60 s), from the repository root (`make fuzz` runs every
 * target; this one links src/net/ and the layers it may call):
 *   make build-fuzz/fuzz_proxy_request
 *   mkdir -p fuzz-out/proxy_request
 *   build-fuzz/fuzz_proxy_request -max_total_time=60 -max_len=20000 \
 *     -artifact_prefix=tests/fuzz/corpus/proxy_request/crash- fuzz-out/proxy_request tests/fuzz/corpus/proxy_request
 * Crash inputs land in tests/fuzz/corpus/proxy_request/ (kept as regression seeds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/hostrule.h"
#include "net/proxy.h"

static void require(int cond)
{
	if (!cond)
		abort();
}

static void check_upstream(const struct proxy_request *r)
{
	const char *h = r->upstream_head, *end;

	require(h && r->upstream_len == strlen(h));
	end = strstr(h, "\r\n\r\n");
	require(end && (size_t)(end + 4 - h) == r->upstream_len);
	require(strstr(h, "\r\nConnection: close\r\n") != NULL);
	for (const char *l = strstr(h, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
		require(strncasecmp(l + 2, "proxy-", 6) != 0);
	require(r->path && r->path[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_request r;
	char err[512];
	int status = 0, rc;

	rc = proxy_parse_request((const char *)data, size, &r, &status, err, sizeof(err));
	require(rc >= -1 && rc <= 1);
	if (rc == 1) {
		require(r.head_len > 0 && r.head_len <= size && r.head_len <= PROXY_HEAD_MAX);
		require(r.host[0] != '\0' && r.port != 0);
		if (r.connect)
			require(r.upstream_head == NULL);
		else
			check_upstream(&r);
	} else if (rc == -1) {
		require(status == 400 || status == 431 || status == 501);
		require(err[0] != '\0');
	}
	proxy_request_clear(&r);

	/* The same bytes as an allow rule and as an index URL. */
	{
		char *s = strndup((const char *)data, size > 600 ? 600 : size);
		struct hostrules rs = { 0 };

		if (s) {
			if (hostrules_add(&rs, s, "fuzz", err, sizeof(err)) == 0)
				require(rs.n == 1 && rs.v[0].host != NULL);
			if (hostrules_add_url(&rs, s, "fuzz", err, sizeof(err)) == 0 && rs.n)
				require(hostrules_match(&rs, rs.v[rs.n - 1].host, rs.v[rs.n - 1].port ? rs.v[rs.n - 1].port : 1) != NULL ||
					rs.v[rs.n - 1].wildcard);
			hostrules_free(&rs);
			free(s);
		}
	}
	return 0;
}
