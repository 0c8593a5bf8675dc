/* Records and the ring buffer: the per-CPU record being assembled (struct
 * ev_record in struct rec_buf, map recs), its output into the ring buffer
 * (map events), and the per-CPU counters (map drops) of what was not
 * recorded: every record that cannot be emitted is counted. */
#pragma once

#include "maps.bpf.h"

static __always_inline void counter_add(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&drops, &idx);

	if (c)
		*c += n;
}

static __always_inline void counter_inc(__u32 idx)
{
	counter_add(idx, 1);
}

/* The record inside the per-CPU buffer. */
static __always_inline struct ev_record *rec_of(struct rec_buf *rb)
{
	return (struct ev_record *)rb->raw;
}

static __always_inline struct rec_buf *rec_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&recs, &zero);
}

static __always_inline void rec_reset(struct ev_record *r, __u32 type)
{
	__u8 i;

	r->type = type;
	r->ts = 0;
	r->flags = 0;
	r->nr = -1;
	r->ret = 0;
	r->ts_enter = 0;
	r->dev = 0;
	r->ino = 0;
	r->i_mode = 0;
	r->data_len = 0;
	r->repeat = 0;
	slots_clear(r->off, r->len);
#pragma unroll
	for (i = 0; i < SLOT_N; i++)
		r->sflags[i] = 0;
#pragma unroll
	for (i = 0; i < 6; i++)
		r->args[i] = 0;
}

/* The per-CPU record, reset for a new record of type; NULL (counted as a
 * lost event) when there is none. */
static __always_inline struct rec_buf *rec_begin(__u32 type)
{
	struct rec_buf *rb = rec_get();

	if (!rb) {
		counter_inc(CNT_RINGBUF_FULL);
		return NULL;
	}
	rec_reset(rec_of(rb), type);
	return rb;
}

/* rec_begin, unless the event belongs to pipjail's own setup (hidden):
 * then it is only counted, and NULL. */
static __always_inline struct rec_buf *rec_begin_shown(__u32 type, bool hidden)
{
	if (hidden) {
		counter_inc(CNT_SUPPRESSED);
		return NULL;
	}
	return rec_begin(type);
}

/* Send the record.  bulk: frequent (file calls), wake the reader only
 * past wakeup_bytes of unread data. */
static __always_inline void rec_emit(struct ev_record *r, bool bulk)
{
	__u32 n = r->data_len;
	__u64 flags = 0;

	if (n > REC_CAP)
		n = REC_CAP;
	if (!r->ts)  /* one clock read per record: a folded lookup has read it already */
		r->ts = bpf_ktime_get_ns();
	if (bulk)
		flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
			? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, r, sizeof(*r) + n, flags))
		counter_inc(CNT_RINGBUF_FULL);
}
