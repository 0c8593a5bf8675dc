/* An exec's whole argument and environment area, joined from the EV_ARGS
 * records the monitor sends before the exec record (per thread, in order)
 * and the exec record's own share of argv, then split into argv and the
 * environment (include/events.h, docs/trace-format.md).  A thread's pieces
 * wait in a slot until its exec record comes (or it exits); the buffers
 * grow to the largest area seen and are reused, so nothing is allocated
 * per event once they have grown. */
#ifndef PIPJAIL_OBSERVE_EXECARGS_H
#define PIPJAIL_OBSERVE_EXECARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XARGS_SLOTS 64              /* threads between pieces and exec record at once */
#define XARGS_MAX   (8u << 20)      /* an area larger than this is not an exec's */
#define XARGS_KEEP  (256u << 10)    /* buffers larger than this are freed after use */

struct ev_record;
struct trace_event;

struct xargs_slot {
	uint32_t htid;                  /* 0: free */
	uint64_t used;                  /* when it was last written (the oldest is reused) */
	uint64_t head, total, have;     /* it holds [head, head + have) of an area of total bytes */
	uint64_t argvlen;
	bool broken;                    /* a piece is missing */
	uint8_t *buf;
	size_t cap;
};

struct execargs {
	struct xargs_slot slot[XARGS_SLOTS];
	uint64_t clock;
	char *area;                     /* argv bytes, NUL, environment bytes, NUL */
	size_t area_cap;
	const char **ptrs;              /* argv pointers, NULL, environment pointers, NULL */
	size_t ptrs_cap;
	bool shrink;                    /* area and ptrs are large: free them at the next join */
};

/* One EV_ARGS record (already checked: the record's size covers data_len).
 * false: it is malformed. */
bool execargs_piece(struct execargs *x, const struct ev_record *r);
/* The exec record r and its argv share (len bytes at head): sets ev->argv
 * (the whole argv, or what arrived, with argv_truncated), ev->env (NULL
 * when not all of it arrived) and ev->script.  The strings live in x until
 * the next call. */
void execargs_join(struct execargs *x, const struct ev_record *r, const uint8_t *head, size_t len,
		   struct trace_event *ev);
/* The thread is gone: forget its pieces. */
void execargs_drop(struct execargs *x, uint32_t htid);
void execargs_free(struct execargs *x);

#endif
