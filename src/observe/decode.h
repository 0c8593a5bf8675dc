/* Decoding the monitor's ring-buffer records (include/events.h) into
 * struct trace_event, inside the observe layer.  Each decoded event goes
 * to the trace writer and to the caller's callback; a record that does not
 * decode is counted (bad_records, reported as lost events), never trusted.
 * Records carry no magic or version: only the monitor's own programs can
 * write this ring buffer (a BPF ringbuf takes no writes from user space,
 * and its descriptor is the supervisor's), built from the same events.h
 * as this decoder; what the checks guard against is a bug, not package
 * code, which controls only the bytes a record copies.  Everything lives in
 * fixed buffers of struct decoder, reused for every record, so nothing is
 * allocated per event. */
#ifndef PIPJAIL_OBSERVE_DECODE_H
#define PIPJAIL_OBSERVE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "observe/monitor.h"
#include "observe/proctab.h"

struct decoder {
	struct trace_writer *trace;   /* may be NULL */
	void (*on_event)(const struct trace_event *ev, void *ctx);  /* may be NULL */
	void *ctx;
	int64_t wall_offset_ns;       /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t events, bad_records;
	const char *kind_of[SC_NR_MAX];  /* from the capture plan (plan_fill) */
	char *name_of[SC_NR_MAX];     /* from libseccomp, for every number */
	struct id_table procs;        /* host pid -> exe */
	struct id_table folds;        /* host tid -> the record its repeats fold into */

	/* decode buffers, reused for every record */
	char comm[EV_COMM_LEN + 1];
	char abs[2][EV_PATH_MAX * 2 + 2];
	char walked[3][EV_WALK_MAX + 32];
	char flags[512];
	char addr[EV_ADDR_MAX * 4 + 8];
	char dns[1100];
	char qtype[16];
	char request[48];
	char sig[24];
	char family[24];
	char socktype[48];
	char argbuf[EV_ARGV_MAX + 1];
	const char *argv[EV_ARGV_MAX + 1];  /* every argument, even all empty ones */
};

/* The names of the native syscall numbers (name_of), from libseccomp. */
void decoder_name_syscalls(struct decoder *d);
/* Free the tables and names.  The struct itself is the caller's. */
void decoder_fini(struct decoder *d);

/* Decode one record of size bytes (a ring_buffer_sample_fn: ctx is the
 * decoder).  Always 0: a bad record is counted, not an error. */
int decode_record(void *ctx, void *data, size_t size);

#endif
