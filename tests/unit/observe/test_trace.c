/* The JSONL trace: the writer's output reads back field for field (escaping,
 * invalid UTF-8, lines longer than the buffer), the summary is consistent,
 * write errors surface, and trace-check rejects each kind of damage with the
 * right line number (the command's exit status: tests/unit/cmd/
 * test_trace_check.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "observe/trace.h"
#include "../unit.h"
#include "base/base.h"

static char dir[] = "/tmp/pipjail-test-trace.XXXXXX";

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static struct trace_writer *open_writer(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die_errno("%s", path);
	return trace_writer_open(fd);
}

static void base(struct trace_event *ev, const char *kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->t_mono_ns = 1234567890123ULL;
	ev->t_wall_ns = 1780000000123456789LL;
	ev->pid = 2;
	ev->tid = 2;
	ev->ppid = 1;
	ev->hpid = 4242;
	ev->htid = 4242;
	ev->hppid = 4241;
	ev->uid = 1000;
	ev->comm = "python3";
	ev->exe = "/usr/bin/python3.11";
	ev->mode = -1;
	ev->protocol = -1;
	ev->port = -1;
	ev->target_pid = -1;
	ev->exit_code = -1;
}

/* A trace with one event of each shape, written and read back. */
static void test_roundtrip(void)
{
	char *path = tpath("round.jsonl"), err[512];
	struct trace_writer *w = open_writer(path);
	const char *argv[] = { "pip", "install", "caf\xc3\xa9 \"q\"", NULL };
	struct trace_option opts[] = { { "buffer_mb", "16" }, { "profile", "default" } };
	struct trace_header h = { .argv = argv, .options = opts, .n_options = 2, .cgroup_id = 77 };
	struct trace_event ev;
	const char *eargv[] = { "echo", "one", "two", "three", NULL };
	const char weird[] = "/tmp/a\"b\\c\nd\x01" "e\xff" "f\xc3\xa9";
	cJSON *note = cJSON_CreateObject(), *o;
	struct trace_reader *r;
	int n = 0, rc = -1;

	CHECK_INT_EQ(trace_write_header(w, &h), 0);

	base(&ev, "open");
	ev.syscall = "openat";
	ev.nr = 257;
	ev.has_ret = true;
	ev.ret = 3;
	ev.path = weird;
	ev.abs = weird;
	ev.file = "/home/u/.ssh/id_rsa";
	ev.file_valid = true;
	ev.dev = makedev(8, 1);
	ev.ino = 99;
	ev.flags = "O_RDONLY|O_CLOEXEC";
	CHECK_INT_EQ(trace_write_event(w, &ev), 0);

	base(&ev, "open");
	ev.syscall = "openat";
	ev.has_ret = true;
	ev.ret = -ENOENT;
	ev.path = "missing";
	ev.abs = "/home/u/missing";
	CHECK_INT_EQ(trace_write_event(w, &ev), 0);

	base(&ev, "exec");
	ev.path = "/bin/echo";
	ev.abs = "/bin/echo";
	ev.argv = eargv;
	ev.cwd = "/home/u";
	CHECK_INT_EQ(trace_write_event(w, &ev), 0);

	base(&ev, "send");
	ev.syscall = "sendto";
	ev.has_ret = true;
	ev.ret = 40;
	ev.family = "AF_INET";
	ev.addr = "127.0.0.1";
	ev.port = 53;
	ev.dns_query = "x.example";
	ev.dns_qtype = "A";
	CHECK_INT_EQ(trace_write_event(w, &ev), 0);

	base(&ev, "exit");
	ev.exit_code = 7;
	CHECK_INT_EQ(trace_write_event(w, &ev), 0);

	cJSON_AddStringToObject(note, "what", "proxy refused");
	cJSON_AddNumberToObject(note, "port", 443);
	CHECK_INT_EQ(trace_write_note(w, "proxy", note), 0);
	cJSON_Delete(note);
	CHECK_INT_EQ(trace_writer_events(w), 5);
	{
		struct trace_summary s = { .lost = 0, .wait_status = 7 << 8 };

		CHECK_INT_EQ(trace_write_summary(w, &s), 0);
	}
	CHECK_INT_EQ(trace_writer_close(w), 0);

	r = trace_reader_open(path, err, sizeof(err));
	CHECK(r != NULL, "reader: %s", err);
	while (r && (rc = trace_reader_next(r, &o, err, sizeof(err))) > 0) {
		const char *type = cJSON_GetObjectItem(o, "type")->valuestring;

		n++;
		if (n == 1) {
			CHECK_STR_EQ(type, "header");
			CHECK_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "argv"), 2)->valuestring,
				     "caf\xc3\xa9 \"q\"");
			CHECK_STR_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "options"), "profile")->valuestring,
				     "default");
			CHECK_INT_EQ(cJSON_GetObjectItem(o, "cgroup_id")->valuedouble, 77);
		} else if (n == 2) {
			/* escapes: quote, backslash, newline, control, invalid byte as \u00ff */
			CHECK_STR_EQ(cJSON_GetObjectItem(o, "path")->valuestring,
				     "/tmp/a\"b\\c\nd\x01" "e\xc3\xbf" "f\xc3\xa9");
			CHECK_INT_EQ(cJSON_GetObjectItem(o, "ret")->valuedouble, 3);
			CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "errno")), "errno of a success is null");
			CHECK_STR_EQ(cJSON_GetObjectItem(o, "dev")->valuestring, "8:1");
			CHECK_STR_EQ(cJSON_GetObjectItem(o, "t_wall")->valuestring, "2026-05-28T20:26:40.123456Z");
			CHECK(cJSON_GetObjectItem(o, "t_mono")->valuedouble > 1234.56 &&
			      cJSON_GetObjectItem(o, "t_mono")->valuedouble < 1234.57, "t_mono in seconds");
		} else if (n == 3) {
			CHECK_INT_EQ(cJSON_GetObjectItem(o, "ret")->valuedouble, -1);
			CHECK_STR_EQ(cJSON_GetObjectItem(o, "errno")->valuestring, "ENOENT");
		} else if (n == 4) {
			cJSON *a = cJSON_GetObjectItem(o, "argv");

			CHECK_INT_EQ(cJSON_GetArraySize(a), 4);
			CHECK_STR_EQ(cJSON_GetArrayItem(a, 3)->valuestring, "three");
			CHECK(cJSON_IsFalse(cJSON_GetObjectItem(o, "argv_truncated")), "argv not truncated");
		} else if (n == 5) {
			CHECK_STR_EQ(cJSON_GetObjectItem(o, "dns_query")->valuestring, "x.example");
			CHECK_INT_EQ(cJSON_GetObjectItem(o, "port")->valuedouble, 53);
		} else if (n == 6) {
			CHECK_INT_EQ(cJSON_GetObjectItem(o, "exit_code")->valuedouble, 7);
		} else if (n == 7) {
			CHECK_STR_EQ(type, "note");
			CHECK_STR_EQ(cJSON_GetObjectItem(o, "what")->valuestring, "proxy refused");
		} else if (n == 8) {
			cJSON *bk = cJSON_GetObjectItem(o, "by_kind");

			CHECK_STR_EQ(type, "summary");
			CHECK_INT_EQ(cJSON_GetObjectItem(o, "events")->valuedouble, 5);
			CHECK_INT_EQ(cJSON_GetObjectItem(bk, "open")->valuedouble, 2);
			CHECK_INT_EQ(cJSON_GetObjectItem(bk, "exit")->valuedouble, 1);
			CHECK_STR_EQ(cJSON_GetObjectItem(o, "verdict")->valuestring, "complete");
			CHECK_INT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "exit"), "code")->valuedouble, 7);
		}
		cJSON_Delete(o);
	}
	CHECK(rc == 0, "reader stopped with: %s", err);
	CHECK_INT_EQ(n, 8);
	trace_reader_close(r);
	CHECK(trace_check_file(path, NULL, err, sizeof(err)) == 0, "trace-check: %s", err);
	free(path);
}

/* Lost events make the verdict "incomplete"; a line longer than the
 * writer's buffer is written whole. */
static void test_lost_and_long(void)
{
	char *path = tpath("lost.jsonl"), err[512], *big = xmalloc(600001);
	const char *argv[] = { big, NULL };
	struct trace_header h = { .argv = argv };
	struct trace_writer *w = open_writer(path);
	struct trace_summary s = { .lost = 3, .wait_status = -1 };
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len, longest = 0;

	for (int i = 0; i < 600000; i++)
		big[i] = (i % 7) ? 'a' : '\x02';  /* escapes grow it to ~1 MiB */
	big[600000] = 0;
	trace_write_header(w, &h);
	CHECK_INT_EQ(trace_write_summary(w, &s), 0);
	CHECK_INT_EQ(trace_writer_close(w), 0);
	CHECK(trace_check_file(path, NULL, err, sizeof(err)) == 0, "trace-check: %s", err);
	f = fopen(path, "r");
	while (f && (len = getline(&line, &cap, f)) > 0) {
		if (len > longest)
			longest = len;
		if (strstr(line, "\"type\":\"summary\""))
			CHECK(strstr(line, "\"verdict\":\"incomplete\"") && strstr(line, "\"lost\":3"),
			      "summary with lost events: %s", line);
	}
	CHECK(longest > 900000, "the long header line has %zd bytes", longest);
	if (f)
		fclose(f);
	free(line);
	free(big);
	free(path);
}

/* Streaming: many events, the file is complete and valid. */
static void test_many(void)
{
	char *path = tpath("many.jsonl"), err[512];
	struct trace_writer *w = open_writer(path);
	const char *argv[] = { "x", NULL };
	struct trace_header h = { .argv = argv };
	struct trace_summary s = { .wait_status = 0 };
	struct trace_event ev;
	char p[64];

	trace_write_header(w, &h);
	for (int i = 0; i < 100000; i++) {
		base(&ev, i % 3 ? "open" : "unlink");
		snprintf(p, sizeof(p), "/tmp/file-%d", i);
		ev.path = p;
		ev.abs = p;
		ev.syscall = "openat";
		ev.has_ret = true;
		ev.ret = i % 5 ? 3 : -EACCES;
		trace_write_event(w, &ev);
	}
	CHECK_INT_EQ(trace_write_summary(w, &s), 0);
	CHECK_INT_EQ(trace_writer_close(w), 0);
	CHECK(trace_check_file(path, NULL, err, sizeof(err)) == 0, "trace-check: %s", err);
	free(path);
}

/* A full disk is reported, not ignored. */
static void test_write_error(void)
{
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	struct trace_writer *w;
	const char *argv[] = { "x", NULL };
	struct trace_header h = { .argv = argv };
	struct trace_summary s = { .wait_status = 0 };

	if (fd < 0) {
		printf("test_trace: /dev/full missing, write-error case skipped\n");
		return;
	}
	w = trace_writer_open(fd);
	trace_write_header(w, &h);
	CHECK(trace_write_summary(w, &s) < 0, "a write to /dev/full succeeded");
	errno = 0;
	CHECK(trace_writer_close(w) < 0 && errno == ENOSPC, "close: errno %d", errno);
}

/* ---- trace-check on damaged files ----------------------------------------------- */

#define HDR "{\"type\":\"header\",\"format\":\"pipjail-trace\",\"format_version\":1,\"pipjail\":\"0.1.0\",\"kernel\":\"6.18\",\"argv\":[\"x\"],\"start_mono\":1.5,\"start_wall\":\"2026-01-01T00:00:00.000000Z\",\"options\":{}}\n"
#define EV(kind) "{\"type\":\"event\",\"kind\":\"" kind "\",\"t_mono\":2.0,\"t_wall\":\"2026-01-01T00:00:00.500000Z\",\"pid\":1,\"tid\":1,\"ppid\":0,\"hpid\":10,\"htid\":10,\"uid\":0,\"comm\":\"x\",\"exe\":null}\n"
#define SUM(n, kinds, lost, verdict) "{\"type\":\"summary\",\"t_mono\":3.0,\"duration_s\":1.5,\"events\":" #n ",\"by_kind\":{" kinds "},\"lost\":" #lost ",\"exit\":{\"status\":\"exited\",\"code\":0},\"verdict\":\"" verdict "\"}\n"

static void check_bad(const char *name, const char *content, const char *expect)
{
	char *path = tpath(name), err[512] = "";
	int rc;

	if (write_file(path, content) < 0)
		die_errno("%s", path);
	rc = trace_check_file(path, NULL, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, expect), "%s: expected an error with \"%s\", got rc %d \"%s\"", name,
	      expect, rc, err);
	free(path);
}

static void test_check(void)
{
	check_bad("b-json.jsonl", HDR EV("open") "{\"type\":\"event\",\"kind\":\n" SUM(1, "\"open\":1", 0, "complete"),
		  "line 3: not valid JSON");
	check_bad("b-nosum.jsonl", HDR EV("open") EV("open"), "line 3: the trace ends without a summary");
	check_bad("b-first.jsonl", EV("open") SUM(1, "\"open\":1", 0, "complete"), "line 1: expected the header");
	check_bad("b-kind.jsonl",
		  HDR "{\"type\":\"event\",\"t_mono\":2.0,\"t_wall\":\"x\",\"pid\":1,\"tid\":1,\"ppid\":0,\"hpid\":1,\"htid\":1,\"uid\":0,\"comm\":\"x\",\"exe\":null}\n"
		  SUM(1, "\"open\":1", 0, "complete"),
		  "line 2: missing field \"kind\"");
	check_bad("b-type.jsonl", HDR "{\"type\":\"weird\"}\n" SUM(0, "", 0, "complete"), "line 2: unknown type \"weird\"");
	check_bad("b-count.jsonl", HDR EV("open") EV("open") SUM(3, "\"open\":3", 0, "complete"),
		  "line 4: the summary counts 3 events, the trace has 2");
	check_bad("b-kinds.jsonl", HDR EV("open") EV("exec") SUM(2, "\"open\":2", 0, "complete"),
		  "line 4: the summary counts");
	check_bad("b-after.jsonl", HDR SUM(0, "", 0, "complete") EV("open"), "line 3: a \"event\" line after the summary");
	check_bad("b-lost.jsonl", HDR SUM(0, "", 5, "complete"), "line 2: events were lost but the verdict is \"complete\"");
	check_bad("b-trunc.jsonl", HDR EV("open") "{\"type\":\"summary\"", "line 3: not terminated by a newline");
	check_bad("b-empty.jsonl", "", "empty file");
	check_bad("b-ver.jsonl",
		  "{\"type\":\"header\",\"format\":\"pipjail-trace\",\"format_version\":9,\"pipjail\":\"9\",\"kernel\":\"6\",\"argv\":[],\"start_mono\":1,\"start_wall\":\"x\",\"options\":{}}\n",
		  "line 1: format_version 9 is newer");
	check_bad("b-array.jsonl", HDR "[1,2]\n", "line 2: not a JSON object");
	check_bad("b-field.jsonl",
		  HDR "{\"type\":\"event\",\"kind\":\"open\",\"t_mono\":\"soon\",\"t_wall\":\"x\",\"pid\":1,\"tid\":1,\"ppid\":0,\"hpid\":1,\"htid\":1,\"uid\":0,\"comm\":\"x\",\"exe\":null}\n",
		  "line 2: field \"t_mono\" should be a number");
}

/* The flags text of an open, as the engine judges it: whole names only. */
static void test_open_bits(void)
{
	CHECK(trace_open_bits(NULL) == 0, "no flags: no bits");
	CHECK(trace_open_bits("O_RDONLY|O_CLOEXEC") == 0, "a read-only open writes nothing");
	CHECK(trace_open_bits("O_WRONLY|O_CREAT|O_TRUNC") == (TOB_WRONLY | TOB_CREAT | TOB_TRUNC),
	      "O_WRONLY|O_CREAT|O_TRUNC");
	CHECK(trace_open_bits("O_RDWR") == TOB_RDWR, "O_RDWR alone");
	CHECK(trace_open_bits("O_PATH|O_NOFOLLOW") == TOB_PATH, "O_PATH first");
	CHECK(trace_open_bits("O_RDONLY|O_TMPFILE") == TOB_TMPFILE, "O_TMPFILE last");
	CHECK(trace_open_bits("O_RDONLY|O_CREATX|XO_TRUNC|O_WRONLY_") == 0,
	      "names that only contain a flag name are not that flag");
	CHECK(trace_open_bits("O_RDONLY||O_CREAT|") == TOB_CREAT, "empty tokens are skipped");
}

int main(void)
{
	char cmd[64];
	int rc;

	if (!mkdtemp(dir))
		die_errno("mkdtemp");
	test_open_bits();
	test_roundtrip();
	test_lost_and_long();
	test_many();
	test_write_error();
	test_check();
	rc = unit_summary("test_trace");
	if (rc == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_trace: could not remove %s\n", dir);
	} else {
		fprintf(stderr, "test_trace: files kept in %s\n", dir);
	}
	return rc;
}
