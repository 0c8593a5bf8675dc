/* libFuzzer target for the record decoder (src/observe/decode.c): the
 * supervisor survives any event content.  Raw ring-buffer records (see
 * tests/fuzz/records.h) go through the decoder into a callback that holds
 * every event to what the rest of pipjail relies on, and into the trace
 * writer:
 *   - every string the event carries is whole (ASan reads it to its NUL);
 *   - abs and abs2 are absolute paths, or absent;
 *   - file is an absolute path (or one outside the jail's root, prefixed
 *     "(unreachable)"), or absent; a file of no directory is in pseudo,
 *     never in file, and has no dev/ino.
 *
 * Built and run by `make fuzz` (FUZZ_TIME seconds, build-fuzz/fuzz_decode,
 * linked with observe/ and base/); crash inputs go to
 * tests/fuzz/corpus/decode/. */
#include "../records.h"

static size_t whole(const char *s)
{
	return s ? strlen(s) : 0;
}

static void check_event(const struct trace_event *ev, void *ctx)
{
	size_t n = 0;

	(void)ctx;
	if (!ev->kind || !ev->comm)
		abort();
	n += whole(ev->syscall) + whole(ev->exe) + whole(ev->path) + whole(ev->path2) +
	     whole(ev->str) + whole(ev->flags) + whole(ev->family) + whole(ev->sock_type) +
	     whole(ev->addr) + whole(ev->dns_query) + whole(ev->dns_qtype) + whole(ev->cwd) +
	     whole(ev->signal) + whole(ev->request) + whole(ev->kernel_rule) + whole(ev->pseudo);
	for (size_t i = 0; ev->argv && ev->argv[i]; i++)
		n += whole(ev->argv[i]);
	if ((ev->abs && ev->abs[0] != '/') || (ev->abs2 && ev->abs2[0] != '/'))
		abort();
	if (ev->file && ev->file[0] != '/' && strncmp(ev->file, "(unreachable)/", 14) != 0)
		abort();
	if ((ev->file && ev->pseudo) || (ev->file_valid && !ev->file))
		abort();
	if (ev->pseudo && ev->pseudo[0] == '/')
		abort();
	if (n == SIZE_MAX)
		abort();  /* (keeps the reads) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decoder *d = fuzz_decoder();

	d->on_event = check_event;
	d->trace = fuzz_trace();
	fuzz_records(d, data, size);
	if (d->trace)
		trace_writer_close(d->trace);
	d->trace = NULL;
	return 0;
}
