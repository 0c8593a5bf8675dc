/* The record decoder (src/observe/decode.c) on records made by hand, no
 * kernel needed: a well-formed record decodes; a record whose lengths or
 * offsets do not fit is counted as bad and never read past; fields the
 * decoder copies into its fixed buffers (comm, a Unix socket path, argv)
 * stay within them whatever the record says; a fork that names its own
 * process keeps that process's exe.  Run it in the SANITIZE=1 build too:
 * ASan turns a read or write past a buffer into a failure. */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "observe/decode.h"
#include "observe/plan.h"
#include "../unit.h"
#include "base/base.h"

static struct decoder *dec;
static struct sc_spec specs[SC_NR_MAX];

/* The last event delivered, its strings copied. */
static struct {
	int n;
	char kind[32], comm[64], path[256], addr[4096], exe[256];
	size_t argc;
} last;

static void copy(char *to, size_t len, const char *s)
{
	snprintf(to, len, "%s", s ? s : "");
}

static void on_event(const struct trace_event *ev, void *ctx)
{
	(void)ctx;
	last.n++;
	copy(last.kind, sizeof(last.kind), ev->kind);
	copy(last.comm, sizeof(last.comm), ev->comm);
	copy(last.path, sizeof(last.path), ev->path);
	copy(last.addr, sizeof(last.addr), ev->addr);
	copy(last.exe, sizeof(last.exe), ev->exe);
	for (last.argc = 0; ev->argv && ev->argv[last.argc]; last.argc++)
		;
}

/* A record of type with data_len bytes of data (zeroed), for host pid hpid. */
static struct ev_record *rec_new(uint32_t type, uint32_t data_len, uint32_t hpid, size_t *size)
{
	struct ev_record *r;

	*size = sizeof(*r) + data_len;
	r = xcalloc(1, *size);
	r->type = type;
	r->nr = -1;
	r->hpid = r->htid = hpid;
	r->data_len = data_len;
	memcpy(r->comm, "test", 5);
	return r;
}

static void slot(struct ev_record *r, int s, uint16_t off, const void *bytes, uint16_t len)
{
	r->off[s] = off;
	r->len[s] = len;
	memcpy(r->data + off, bytes, len);
}

/* Decode r; 1 when an event came out, 0 when it was counted as bad. */
static int decode(struct ev_record *r, size_t size)
{
	int n = last.n;
	uint64_t bad = dec->bad_records;

	decode_record(dec, r, size);
	free(r);
	CHECK(last.n - n + (int)(dec->bad_records - bad) == 1, "one event or one bad record per record");
	return last.n - n;
}

static void test_well_formed(void)
{
	size_t size;
	struct ev_record *r = rec_new(EV_SYSCALL, 16, 100, &size);

	r->nr = SYS_openat;
	r->ret = 3;
	slot(r, SLOT_PATH, 0, "/etc/x", 7);
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.kind, "open");
	CHECK_STR_EQ(last.path, "/etc/x");
	CHECK_STR_EQ(last.comm, "test");
}

static void test_bad_bounds(void)
{
	size_t size;
	struct ev_record *r = rec_new(EV_SYSCALL, 16, 100, &size);

	r->nr = SYS_openat;
	CHECK_INT_EQ(decode(r, sizeof(*r) - 1), 0);  /* shorter than a record */
	r = rec_new(EV_SYSCALL, 16, 100, &size);
	r->data_len = 17;                           /* more data than the sample holds */
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_SYSCALL, 16, 100, &size);
	r->nr = SYS_openat;
	slot(r, SLOT_PATH, 10, "/etc/x", 6);       /* past data_len */
	r->len[SLOT_PATH] = 7;
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_SYSCALL, 16, 100, &size);
	r->nr = SYS_openat;
	slot(r, SLOT_PATH, 0, "/etc/xy", 7);        /* a string slot without its NUL */
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_REPEAT, 0, 4242, &size);     /* a repeat count without its event */
	r->repeat = 3;
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(99, 0, 100, &size);             /* an unknown type */
	CHECK_INT_EQ(decode(r, size), 0);
}

/* comm is 16 bytes; a record's may lack its NUL. */
static void test_comm_without_nul(void)
{
	size_t size;
	struct ev_record *r = rec_new(EV_EXIT, 64, 100, &size);

	memset(r->comm, 'c', sizeof(r->comm));  /* then data_len (64: not a NUL), ... */
	memset(r->data, 'd', 64);
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_INT_EQ(strlen(last.comm), EV_COMM_LEN);
}

/* A Unix socket path as long as a slot can say (the kernel sends at most
 * EV_ADDR_MAX bytes): the address text stays within its buffer. */
static void test_long_unix_path(void)
{
	uint16_t n = 3000;
	size_t size;
	struct ev_record *r = rec_new(EV_SYSCALL, n, 100, &size);
	sa_family_t fam = AF_UNIX;

	r->nr = SYS_connect;
	memcpy(r->data, &fam, sizeof(fam));
	memset(r->data + sizeof(fam), 'a', n - sizeof(fam));
	r->off[SLOT_ADDR] = 0;
	r->len[SLOT_ADDR] = n;
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK(strlen(last.addr) > 0 && strlen(last.addr) < sizeof(dec->addr),
	      "the address has %zu bytes", strlen(last.addr));
}

/* An argv longer than the kernel sends (EV_ARGV_MAX) is a bad record. */
static void test_long_argv(void)
{
	uint16_t n = 6000;
	size_t size;
	struct ev_record *r = rec_new(EV_EXEC, n, 100, &size);

	memset(r->data, 'x', n);
	for (int i = 1; i < n; i += 2)
		r->data[i] = 0;
	r->off[SLOT_STR] = 0;
	r->len[SLOT_STR] = n;
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_EXEC, 8, 100, &size);
	slot(r, SLOT_STR, 0, "pip\0x\0y", 8);
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_INT_EQ(last.argc, 3);
}

/* exec gives process 200 its exe; a fork record that names 200 as its own
 * child (a malformed record) must not lose it. */
static void test_fork_of_itself(void)
{
	size_t size;
	struct ev_record *r = rec_new(EV_EXEC, 16, 200, &size);

	slot(r, SLOT_PATH, 0, "/usr/bin/tool", 14);
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.exe, "/usr/bin/tool");
	r = rec_new(EV_FORK, 0, 200, &size);
	r->args[0] = r->args[1] = 200;
	CHECK_INT_EQ(decode(r, size), 1);
	r = rec_new(EV_EXIT, 0, 200, &size);
	r->flags = EVF_THREAD;  /* not the last task: the process stays known */
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.exe, "/usr/bin/tool");
}

int main(void)
{
	dec = xcalloc(1, sizeof(*dec));
	dec->on_event = on_event;
	plan_fill(specs, dec->kind_of);
	decoder_name_syscalls(dec);
	test_well_formed();
	test_bad_bounds();
	test_comm_without_nul();
	test_long_unix_path();
	test_long_argv();
	test_fork_of_itself();
	decoder_fini(dec);
	free(dec);
	return unit_summary("test_decode");
}
