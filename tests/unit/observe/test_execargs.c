/* An exec's whole argv and environment, joined by the decoder from the
 * EV_ARGS pieces that come before its exec record (src/observe/execargs.c):
 * in order, interleaved with another thread's, with a piece missing, with
 * pieces that lie about their sizes, and with no exec record at all.  Run
 * it in the SANITIZE=1 build too. */
#include <stdlib.h>

#include "observe/decode.h"
#include "observe/plan.h"
#include "../unit.h"
#include "base/base.h"

static struct decoder *dec;
static struct sc_spec specs[SC_NR_MAX];

static struct {
	int n;
	size_t argc, envc;
	bool env_known, truncated;
	char last_arg[64], last_env[64];
	size_t last_arg_len;
} got;

static void on_event(const struct trace_event *ev, void *ctx)
{
	(void)ctx;
	got.n++;
	got.argc = got.envc = 0;
	while (ev->argv && ev->argv[got.argc])
		got.argc++;
	got.env_known = ev->env != NULL;
	while (ev->env && ev->env[got.envc])
		got.envc++;
	got.truncated = ev->argv_truncated;
	got.last_arg_len = got.argc ? strlen(ev->argv[got.argc - 1]) : 0;
	snprintf(got.last_arg, sizeof(got.last_arg), "%s", got.argc ? ev->argv[got.argc - 1] : "");
	snprintf(got.last_env, sizeof(got.last_env), "%s", got.envc ? ev->env[got.envc - 1] : "");
}

/* The area of an exec: argc arguments of arglen bytes (the last is "END"),
 * then envc variables. */
static char *area(size_t argc, size_t arglen, size_t envc, size_t *argvlen, size_t *total)
{
	size_t cap = argc * (arglen + 1) + envc * 32 + 16, o = 0;
	char *a = xcalloc(1, cap);

	for (size_t i = 0; i + 1 < argc; i++) {
		memset(a + o, 'a' + (char)(i % 26), arglen);
		o += arglen + 1;
	}
	o += (size_t)snprintf(a + o, cap - o, "END") + 1;
	*argvlen = o;
	for (size_t i = 0; i < envc; i++)
		o += (size_t)snprintf(a + o, cap - o, "VAR%zu=value", i) + 1;
	*total = o;
	return a;
}

static void piece(uint32_t htid, const char *a, size_t off, size_t n, size_t total, size_t argvlen)
{
	size_t size = sizeof(struct ev_record) + n;
	struct ev_record *r = xcalloc(1, size);

	r->type = EV_ARGS;
	r->hpid = r->htid = htid;
	r->data_len = (uint32_t)n;
	r->args[0] = off;
	r->args[1] = total;
	r->args[2] = argvlen;
	memcpy(r->data, a + off, n);
	decode_record(dec, r, size);
	free(r);
}

static void exec_record(uint32_t htid, const char *a, size_t total, size_t argvlen, uint32_t flags)
{
	size_t head = argvlen < EV_ARGV_MAX ? argvlen : EV_ARGV_MAX;
	size_t size = sizeof(struct ev_record) + head + 8;
	struct ev_record *r = xcalloc(1, size);

	r->type = EV_EXEC;
	r->nr = -1;
	r->hpid = r->htid = htid;
	r->data_len = (uint32_t)(head + 8);
	memcpy(r->data, "/bin/x", 7);
	r->off[SLOT_PATH] = 0;
	r->len[SLOT_PATH] = 7;
	r->off[SLOT_STR] = 8;
	r->len[SLOT_STR] = (uint16_t)head;
	memcpy(r->data + 8, a, head);
	r->args[1] = total;
	r->args[2] = argvlen;
	r->flags = flags | (total > head ? EVF_ARGS_MORE : 0);
	decode_record(dec, r, size);
	free(r);
}

/* All pieces of a, chunk bytes each, for htid. */
static void pieces(uint32_t htid, const char *a, size_t total, size_t argvlen, size_t chunk)
{
	size_t head = argvlen < EV_ARGV_MAX ? argvlen : EV_ARGV_MAX;

	for (size_t off = head; off < total; off += chunk)
		piece(htid, a, off, total - off < chunk ? total - off : chunk, total, argvlen);
}

static void test_whole(void)
{
	size_t argvlen, total;
	char *a = area(400, 40, 30, &argvlen, &total);

	pieces(300, a, total, argvlen, 4096);
	exec_record(300, a, total, argvlen, 0);
	CHECK_INT_EQ(got.argc, 400);
	CHECK_STR_EQ(got.last_arg, "END");
	CHECK(got.env_known && got.envc == 30, "the environment: %zu", got.envc);
	CHECK_STR_EQ(got.last_env, "VAR29=value");
	CHECK(!got.truncated, "whole");
	free(a);

	/* one argument far longer than a piece */
	a = area(3, 100000, 2, &argvlen, &total);
	pieces(301, a, total, argvlen, 16384);
	exec_record(301, a, total, argvlen, 0);
	CHECK_INT_EQ(got.argc, 3);
	CHECK_STR_EQ(got.last_arg, "END");
	CHECK(got.env_known && got.envc == 2, "env after a long argument");
	free(a);

	/* a short argv, the environment alone in the pieces */
	a = area(2, 5, 40, &argvlen, &total);
	pieces(302, a, total, argvlen, 16384);
	exec_record(302, a, total, argvlen, 0);
	CHECK(got.argc == 2 && got.env_known && got.envc == 40, "env only: %zu %zu", got.argc, got.envc);
	free(a);
}

static void test_interleaved(void)
{
	size_t al, at, bl, bt;
	char *a = area(300, 50, 10, &al, &at), *b = area(200, 70, 20, &bl, &bt);
	size_t ha = EV_ARGV_MAX, hb = EV_ARGV_MAX;

	/* two threads' pieces, alternating */
	for (size_t i = 0; ha < at || hb < bt; i++) {
		if (ha < at) {
			piece(400, a, ha, at - ha < 1000 ? at - ha : 1000, at, al);
			ha += 1000;
		}
		if (hb < bt) {
			piece(401, b, hb, bt - hb < 1000 ? bt - hb : 1000, bt, bl);
			hb += 1000;
		}
	}
	exec_record(401, b, bt, bl, 0);
	CHECK(got.argc == 200 && got.envc == 20 && got.env_known, "b: %zu %zu", got.argc, got.envc);
	exec_record(400, a, at, al, 0);
	CHECK(got.argc == 300 && got.envc == 10 && got.env_known, "a: %zu %zu", got.argc, got.envc);
	free(a);
	free(b);
}

static void test_missing(void)
{
	size_t argvlen, total;
	char *a = area(400, 40, 30, &argvlen, &total);
	uint64_t bad = dec->bad_records;

	/* the second piece lost */
	piece(500, a, EV_ARGV_MAX, 4096, total, argvlen);
	piece(500, a, EV_ARGV_MAX + 8192, total - EV_ARGV_MAX - 8192, total, argvlen);
	exec_record(500, a, total, argvlen, 0);
	CHECK(got.truncated && !got.env_known, "a missing piece: argv cut, environment not known");
	CHECK(got.argc > 0 && got.argc < 400, "what arrived: %zu", got.argc);
	/* none at all */
	exec_record(501, a, total, argvlen, 0);
	CHECK(got.truncated && !got.env_known && got.argc >= 90, "only the record's share: %zu", got.argc);
	/* the kernel said it could not send everything */
	pieces(502, a, total, argvlen, 4096);
	exec_record(502, a, total, argvlen, EVF_ARGS_LOST);
	CHECK(!got.env_known, "EVF_ARGS_LOST: environment not known");
	CHECK_INT_EQ(dec->bad_records, bad);
	free(a);
}

static void test_lies(void)
{
	size_t argvlen, total;
	char *a = area(400, 40, 30, &argvlen, &total);
	uint64_t bad = dec->bad_records;
	int n = got.n;

	/* pieces whose numbers do not fit: counted as bad, no event */
	piece(600, a, 10, 100, total, argvlen);                 /* before the record's share */
	piece(600, a, EV_ARGV_MAX, 100, 50, 40);                /* past its own total */
	piece(600, a, EV_ARGV_MAX, 100, (size_t)XARGS_MAX + 1, argvlen);
	piece(600, a, EV_ARGV_MAX, 100, total, total + 1);       /* argv longer than the area */
	CHECK_INT_EQ(dec->bad_records, bad + 4);
	CHECK_INT_EQ(got.n, n);
	/* an exec record whose sizes do not fit its share */
	pieces(601, a, total, argvlen, 4096);
	exec_record(601, a, total, 100, 0);
	CHECK(!got.env_known, "sizes that do not fit: nothing joined");
	/* a piece of a thread that then exits: forgotten */
	pieces(602, a, total, argvlen, 4096);
	{
		size_t size = sizeof(struct ev_record);
		struct ev_record *r = xcalloc(1, size);

		r->type = EV_EXIT;
		r->nr = -1;
		r->hpid = r->htid = 602;
		decode_record(dec, r, size);
		free(r);
	}
	exec_record(602, a, total, argvlen, 0);
	CHECK(!got.env_known, "its pieces went with it");
	/* more threads with pieces than slots: the oldest is reused */
	for (uint32_t t = 0; t < XARGS_SLOTS + 5; t++)
		pieces(700 + t, a, total, argvlen, 4096);
	exec_record(700 + XARGS_SLOTS + 4, a, total, argvlen, 0);
	CHECK(got.env_known && got.argc == 400, "the newest kept");
	exec_record(700, a, total, argvlen, 0);
	CHECK(!got.env_known, "the oldest reused");
	free(a);
}

int main(void)
{
	dec = xcalloc(1, sizeof(*dec));
	dec->on_event = on_event;
	plan_fill(specs, dec->kind_of);
	decoder_name_syscalls(dec);
	test_whole();
	test_interleaved();
	test_missing();
	test_lies();
	decoder_fini(dec);
	free(dec);
	return unit_summary("test_execargs");
}
