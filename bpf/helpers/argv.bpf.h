/* The first arguments of an exec's argv, for the trust decision
 * (helpers/trust.bpf.h: is this exec pip's own entry point?).
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
