/* What the fuzz targets of the record decoder share: observe/fuzz_decode.c
 * (the decoder alone, with a callback that checks every event and the
 * trace writer) and decide/fuzz_decode_engine.c (the decoder feeding the
 * decision engine, as a live run does).
 *
 * An input is a sequence of ring-buffer samples, each a little-endian
 * 16-bit length and that many bytes: a struct ev_record of
 * include/events.h and its data, any bytes at all (lengths, offsets,
 * types, ids, fold bases and repeat counts, forks naming themselves, exec
 * argv of any length).  They go one after the other to one decoder, as
 * monitor_consume hands them over, each in a buffer of exactly its size
 * (ASan: a read past the sample fails).  tests/fuzz/decode_seeds.py writes
 * the seeds (records as the kernel sends them). */
#ifndef PIPJAIL_FUZZ_RECORDS_H
#define PIPJAIL_FUZZ_RECORDS_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "observe/decode.h"
#include "observe/plan.h"
#include "observe/trace.h"
#include "base/base.h"

static struct decoder *fuzz_decoder(void)
{
	static struct decoder *d;
	static struct sc_spec specs[SC_NR_MAX];

	if (!d) {
		d = xcalloc(1, sizeof(*d));
		plan_fill(specs, d->kind_of);
		decoder_name_syscalls(d);
	}
	/* a fresh run: no process, no fold base from the last input */
	procs_clear(&d->procs);
	folds_clear(&d->folds);
	d->events = d->bad_records = 0;
	return d;
}

/* A trace writer into /dev/null (the JSON encoding of every event runs). */
static struct trace_writer *fuzz_trace(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	return fd < 0 ? NULL : trace_writer_open(fd);
}

static void fuzz_records(struct decoder *d, const uint8_t *data, size_t size)
{
	while (size >= 2) {
		size_t n = (size_t)data[0] | (size_t)data[1] << 8;
		uint8_t *rec;

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		rec = xmalloc(n ? n : 1);
		memcpy(rec, data, n);
		decode_record(d, rec, n);
		free(rec);
		data += n;
		size -= n;
	}
}

#endif
