/* Does an exec's argv look like pip?  The kernel's half of pipjail's one
 * is-pip rule (src/pip/ holds user space's half; the cases both must agree
 * on are tests/unit/pip/is_pip_cases.txt, run against this code by
 * tests/unit/observe/test_is_pip.c): pip's console script (argv[0] or,
 * after a #! line, argv[1] named pip, pip3, pip3.11), `python -m pip`, and
 * pip's own runner for build dependencies (argv[1] ends with
 * __pip-runner__.py).
 *
 * The argv bytes (NUL separated, as in the exec record's SLOT_STR) are read
 * from the per-CPU record (map recs) at an offset: the verifier sees a
 * bounded index, not a pointer into a variable-size buffer. */
#pragma once

#include "helpers/records.bpf.h"

/* Where the first three arguments end (their NUL) and their last '/'. */
struct argv_scan {
	__u32 off, len;      /* of the argv bytes in the record's data */
	__u32 n;             /* arguments seen */
	__u32 end[3];        /* index of the NUL of argument k (relative to off) */
	__u32 start[3];      /* index of argument k's first byte */
	__u32 base[3];       /* index of the byte after its last '/' (its basename) */
};

#define ARGV_SCAN 1024      /* bytes of argv looked at: argv[0..2] must fit */
#define ARGV_DATA_MASK 8191 /* argv lies within data[0, EV_PATH_MAX + EV_ARGV_MAX) */

static __always_inline __u8 argv_byte(__u32 i)
{
	struct rec_buf *rb = rec_get();

	if (!rb)
		return 0;
	return rec_of(rb)->data[i & ARGV_DATA_MASK];
}

static long argv_step(__u32 i, void *arg)
{
	struct argv_scan *c = arg;
	__u8 ch;

	if (i >= c->len || c->n >= 3)
		return 1;
	ch = argv_byte(c->off + i);
	if (ch == '/') {
		if (c->n == 0) c->base[0] = i + 1;
		else if (c->n == 1) c->base[1] = i + 1;
		else c->base[2] = i + 1;
	} else if (ch == 0) {
		if (c->n == 0) {
			c->end[0] = i;
			c->start[1] = c->base[1] = i + 1;
		} else if (c->n == 1) {
			c->end[1] = i;
			c->start[2] = c->base[2] = i + 1;
		} else {
			c->end[2] = i;
		}
		c->n++;
	}
	return 0;
}

/* "pip", "pip3", "pip3.11": pip followed by digits and dots only (at most
 * 8 of them).  Global: checked once, not once per call site. */
__noinline int pj_argv_name_is_pip(__u32 off, __u32 b, __u32 e)
{
	__u32 k;

	if (e < b + 3 || argv_byte(off + b) != 'p' || argv_byte(off + b + 1) != 'i' ||
	    argv_byte(off + b + 2) != 'p')
		return false;
	if (e > b + 3 + 8)
		return false;
	for (k = 0; k < 8; k++) {
		__u8 ch;

		if (b + 3 + k >= e)
			break;
		ch = argv_byte(off + b + 3 + k);
		if (ch != '.' && (ch < '0' || ch > '9'))
			return false;
	}
	return true;
}

/* Does argument k (start s, end e) equal (whole) or end with lit (n bytes)? */
static __always_inline bool argv_ends_with(__u32 off, __u32 s, __u32 e, const char *lit, __u32 n,
					   bool whole)
{
	__u32 k;

	if (e < s + n || (whole && e != s + n))
		return false;
	for (k = 0; k < n; k++)
		if (argv_byte(off + e - n + k) != (__u8)lit[k])
			return false;
	return true;
}

/* The argv (len bytes at off in the record's data) starts pip. */
__noinline int pj_argv_is_pip(__u32 off, __u32 len)
{
	struct argv_scan c = {};

	c.off = off;
	c.len = len;
	if (!c.len)
		return false;
	if (c.len > ARGV_SCAN)
		c.len = ARGV_SCAN;
	bpf_loop(ARGV_SCAN, argv_step, &c, 0);
	if (c.n < 1)
		return false;
	if (pj_argv_name_is_pip(c.off, c.base[0], c.end[0]))
		return true;
	if (c.n < 2)
		return false;
	if (pj_argv_name_is_pip(c.off, c.base[1], c.end[1]))
		return true;
	if (argv_ends_with(c.off, c.start[1], c.end[1], "__pip-runner__.py", 17, false))
		return true;
	return c.n >= 3 && argv_ends_with(c.off, c.start[1], c.end[1], "-m", 2, true) &&
	       argv_ends_with(c.off, c.start[2], c.end[2], "pip", 3, true);
}
