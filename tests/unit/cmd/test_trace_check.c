/* `pipjail trace-check FILE` (cmd_trace_check): exit status 0 for a valid
 * trace, EXIT_PIPJAIL_ERROR for an invalid or missing file and for a
 * missing argument.  What the check finds in a damaged trace is tested
 * with the checker itself, in tests/unit/observe/test_trace.c. */
#include <fcntl.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "../unit.h"
#include "base/base.h"

static char dir[] = "/tmp/pipjail-test-trace-check.XXXXXX";

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

#define HDR "{\"type\":\"header\",\"format\":\"pipjail-trace\",\"format_version\":1,\"pipjail\":\"0.1.0\",\"kernel\":\"6.18\",\"argv\":[\"x\"],\"start_mono\":1.5,\"start_wall\":\"2026-01-01T00:00:00.000000Z\",\"options\":{}}\n"
#define EV(kind) "{\"type\":\"event\",\"kind\":\"" kind "\",\"t_mono\":2.0,\"t_wall\":\"2026-01-01T00:00:00.500000Z\",\"pid\":1,\"tid\":1,\"ppid\":0,\"hpid\":10,\"htid\":10,\"uid\":0,\"comm\":\"x\",\"exe\":null}\n"
#define SUM(n, kinds, lost, verdict) "{\"type\":\"summary\",\"t_mono\":3.0,\"duration_s\":1.5,\"events\":" #n ",\"by_kind\":{" kinds "},\"lost\":" #lost ",\"exit\":{\"status\":\"exited\",\"code\":0},\"verdict\":\"" verdict "\"}\n"

static int run_cmd(const char *path)
{
	char *argv[] = { "trace-check", (char *)path, NULL };
	int saved = dup(1), null = open("/dev/null", O_WRONLY), rc;

	/* keep the summary out of the test output */
	fflush(stdout);
	dup2(null, 1);
	rc = cmd_trace_check(2, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	return rc;
}

static void test_check(void)
{
	char *good = tpath("good.jsonl"), *bad = tpath("b-json.jsonl"), *none = tpath("nope.jsonl");

	write_file(good, HDR EV("open") EV("exec") SUM(2, "\"open\":1,\"exec\":1", 0, "complete"));
	CHECK_INT_EQ(run_cmd(good), 0);

	write_file(bad, HDR "not json\n");
	CHECK_INT_EQ(run_cmd(bad), EXIT_PIPJAIL_ERROR);
	CHECK_INT_EQ(run_cmd(none), EXIT_PIPJAIL_ERROR);
	{
		char *argv[] = { "trace-check", NULL };

		CHECK_INT_EQ(cmd_trace_check(1, argv), EXIT_PIPJAIL_ERROR);
	}
	unlink(good);
	unlink(bad);
	free(good);
	free(bad);
	free(none);
}

int main(void)
{
	int rc;

	if (!mkdtemp(dir))
		die_errno("mkdtemp");
	test_check();
	rc = unit_summary("test_trace_check");
	if (rmdir(dir) < 0)
		fprintf(stderr, "test_trace_check: could not remove %s\n", dir);
	return rc;
}
