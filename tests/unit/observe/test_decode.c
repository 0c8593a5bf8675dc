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
	char kind[32], comm[64], path[256], addr[4096], exe[256], file[256], pseudo[256], abs[256];
	char flags[256], last_arg[64];
	size_t argc;
	bool has_abs, file_valid, truncated;
	uint32_t repeat;
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
	copy(last.file, sizeof(last.file), ev->file);
	copy(last.abs, sizeof(last.abs), ev->abs);
	copy(last.pseudo, sizeof(last.pseudo), ev->pseudo);
	copy(last.flags, sizeof(last.flags), ev->flags);
	last.has_abs = ev->abs != NULL;
	last.file_valid = ev->file_valid;
	last.truncated = ev->truncated;
	last.repeat = ev->repeat;
	for (last.argc = 0; ev->argv && ev->argv[last.argc]; last.argc++)
		copy(last.last_arg, sizeof(last.last_arg), ev->argv[last.argc]);
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
 * child (a malformed record: the kernel never sends one) is a bad record
 * and must not lose it; so are child ids past 32 bits, a thread in another
 * process, a new process that is not its own thread group. */
static void test_fork_of_itself(void)
{
	size_t size;
	struct ev_record *r = rec_new(EV_EXEC, 16, 200, &size);

	slot(r, SLOT_PATH, 0, "/usr/bin/tool", 14);
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.exe, "/usr/bin/tool");
	r = rec_new(EV_FORK, 0, 200, &size);
	r->args[0] = r->args[1] = 200;
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_FORK, 0, 200, &size);
	r->args[0] = r->args[1] = 200 + (1ull << 32);  /* 200 once cut to 32 bits */
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_FORK, 0, 200, &size);
	r->args[0] = 201;
	r->args[1] = 300;                              /* a thread of another process */
	r->flags = EVF_THREAD;
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_FORK, 0, 200, &size);
	r->args[0] = 201;
	r->args[1] = 200;                              /* a process in its parent's group */
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_FORK, 0, 200, &size);
	r->args[0] = r->args[1] = 201;
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.exe, "/usr/bin/tool");
	r = rec_new(EV_EXIT, 0, 200, &size);
	r->flags = EVF_THREAD;  /* not the last task: the process stays known */
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.exe, "/usr/bin/tool");
}

/* openat(dirfd, path) where the kernel resolved dirfd to dir (sflags). */
static int openat_rel(const char *path, const char *dir, uint8_t dirflags)
{
	size_t size, n = strlen(path) + 1;
	struct ev_record *r = rec_new(EV_SYSCALL, 64, 100, &size);

	r->nr = SYS_openat;
	slot(r, SLOT_PATH, 0, path, n);
	slot(r, SLOT_DIR, n, dir, strlen(dir) + 1);
	r->sflags[SLOT_DIR] = dirflags;
	return decode(r, size);
}

/* A file of no directory (SF_PSEUDO) is named, never a file; a
 * kernel-resolved path that is neither absolute nor such a name is a bad
 * record; a relative path against a dirfd of no directory has no abs. */
static void test_pseudo_files(void)
{
	size_t size;
	struct ev_record *r = rec_new(EV_SYSCALL, 32, 100, &size);

	r->nr = SYS_fchmod;
	slot(r, SLOT_FILE, 0, "pipe:[12]", 10);
	r->sflags[SLOT_FILE] = SF_PSEUDO;
	r->flags |= EVF_FILE_VALID;
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.pseudo, "pipe:[12]");
	CHECK_STR_EQ(last.file, "");
	CHECK_INT_EQ(last.file_valid, 0);
	CHECK_INT_EQ(openat_rel("x", "anon_inode:[eventfd]", SF_PSEUDO), 1);
	CHECK_STR_EQ(last.path, "x");
	CHECK_INT_EQ(last.has_abs, 0);
	CHECK_STR_EQ(last.pseudo, "");
	CHECK_INT_EQ(openat_rel("", "socket:[7]", SF_PSEUDO), 1);  /* AT_EMPTY_PATH: the fd itself */
	CHECK_STR_EQ(last.pseudo, "socket:[7]");
	CHECK_INT_EQ(last.has_abs, 0);
	r = rec_new(EV_SYSCALL, 32, 100, &size);
	r->nr = SYS_fchmod;
	slot(r, SLOT_FILE, 0, "anon_inode", 11);     /* not a path, not marked a name */
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_EXEC, 32, 100, &size);
	slot(r, SLOT_FILE, 0, "/usr/bin/gcc", 13);   /* a name that looks like a path */
	r->sflags[SLOT_FILE] = SF_PSEUDO;
	CHECK_INT_EQ(decode(r, size), 0);
	r = rec_new(EV_EXIT, 0, 0, &size);           /* no task of the jail has host id 0 */
	CHECK_INT_EQ(decode(r, size), 0);
	CHECK_INT_EQ(openat_rel("y", "/srv", SF_UNREACH), 1);  /* outside the root: no abs either */
	CHECK_INT_EQ(last.has_abs, 0);
	CHECK_INT_EQ(openat_rel("y", "/srv", 0), 1);
	CHECK_STR_EQ(last.abs, "/srv/y");
}

/* A failed openat of path by thread 300 at ts, a base for repeat counts. */
static int fold_base_rec(const char *path, uint64_t ts, uint16_t len)
{
	size_t size;
	struct ev_record *r = rec_new(EV_SYSCALL, 16, 300, &size);

	r->nr = SYS_openat;
	r->ret = -2;
	r->ts = ts;
	r->flags = EVF_FOLD_BASE;
	slot(r, SLOT_PATH, 0, path, strlen(path) + 1);
	r->len[SLOT_PATH] = len;
	return decode(r, size);
}

/* count more of thread 300's openat at ts, naming the base of base_ts */
static int repeat_rec(uint64_t ts, uint64_t base_ts, uint32_t count)
{
	size_t size;
	struct ev_record *r = rec_new(EV_REPEAT, 0, 300, &size);

	r->nr = SYS_openat;
	r->ts = ts;
	r->ts_enter = base_ts;
	r->repeat = count;
	return decode(r, size);
}

/* A repeat count is the base it names again: the base by its time and
 * call, not any earlier record of the thread; a base that did not decode
 * is no base. */
static void test_repeats(void)
{
	CHECK_INT_EQ(fold_base_rec("/usr/include/a", 1000, 15), 1);
	CHECK_INT_EQ(repeat_rec(1500, 1000, 4), 1);
	CHECK_STR_EQ(last.path, "/usr/include/a");
	CHECK_INT_EQ(last.repeat, 4);
	CHECK_INT_EQ(repeat_rec(1700, 1000, 2), 1);   /* the same base counted again */
	CHECK_INT_EQ(last.repeat, 2);
	CHECK_INT_EQ(repeat_rec(2500, 2000, 3), 0);   /* a base that was lost */
	CHECK_INT_EQ(fold_base_rec("/usr/include/b", 3000, 17), 0);  /* malformed: not kept */
	CHECK_INT_EQ(repeat_rec(3500, 3000, 3), 0);
}

/* A 32-bit call's number means another call: its arguments are not read
 * as the native call's (i386's 263 is not unlinkat). */
static void test_compat_args(void)
{
	size_t size;
	struct ev_record *r = rec_new(EV_SYSCALL, 0, 100, &size);

	r->nr = SYS_unlinkat;
	r->flags = EVF_COMPAT;
	r->args[2] = 0x200;  /* AT_REMOVEDIR, natively */
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.kind, "syscall");
	CHECK_STR_EQ(last.flags, "");
}

/* Every argument of an argv the kernel sends reaches the event, however
 * many empty ones come first; a NUL inside a string slot cuts it there and
 * says so. */
static void test_many_empty_args(void)
{
	uint16_t n = EV_ARGV_MAX;
	size_t size;
	struct ev_record *r = rec_new(EV_EXEC, n, 100, &size);

	memcpy(r->data + n - 4, "tok", 4);  /* 4092 empty arguments, then "tok" */
	r->off[SLOT_STR] = 0;
	r->len[SLOT_STR] = n;
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_INT_EQ(last.argc, n - 3);
	CHECK_STR_EQ(last.last_arg, "tok");
	r = rec_new(EV_SYSCALL, 16, 100, &size);
	r->nr = SYS_openat;
	slot(r, SLOT_PATH, 0, "/etc\0/x", 8);
	r->data[4] = 0;
	CHECK_INT_EQ(decode(r, size), 1);
	CHECK_STR_EQ(last.path, "/etc");
	CHECK_INT_EQ(last.truncated, 1);
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
	test_pseudo_files();
	test_repeats();
	test_compat_args();
	test_many_empty_args();
	decoder_fini(dec);
	free(dec);
	return unit_summary("test_decode");
}
