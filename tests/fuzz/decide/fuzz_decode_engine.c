/* libFuzzer target for the decoder feeding the decision engine, as in a
 * live run: raw ring-buffer records (tests/fuzz/records.h) are decoded and
 * each event is judged by an engine with the default profile and two
 * decoys, enforcing (the kill hook only counts), its annotated events
 * written to a trace.  Everything in decide/ that reads an event (the
 * process tree, the rules, the writers table, the verdict) meets whatever
 * a record can make of it: paths that are absent or not absolute, files of
 * no directory, forks and exits of processes never seen.
 *
 * Built and run by `make fuzz` (FUZZ_TIME seconds,
 * build-fuzz/fuzz_decode_engine, linked with decide/ and the layers it may
 * call); crash inputs go to tests/fuzz/corpus/decode_engine/. */
#include <limits.h>
#include <stdio.h>

#include "../records.h"
#include "decide/engine.h"

#define TOKEN "PIPJAILfuzz0123456789abcdef0123456789abcdef0123"

static int kills;

static int kill_hook(uint32_t hpid, bool whole_jail, void *ctx)
{
	(void)hpid, (void)whole_jail, (void)ctx;
	kills++;
	return 0;
}

/* The bundled default profile: <repo>/profiles, the repository being two
 * levels above build-fuzz/fuzz_decode_engine. */
static struct profile *default_profile(void)
{
	static struct profile *p;
	char dir[PATH_MAX], err[1024];
	ssize_t n;
	char *slash;
	struct profile_source src = { .dir = dir };

	if (p)
		return p;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 16);
	if (n <= 0)
		abort();
	dir[n] = 0;
	for (int i = 0; i < 2 && (slash = strrchr(dir, '/')); i++)
		*slash = 0;
	strcat(dir, "/profiles");
	p = profile_load("default", &src, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "fuzz_decode_engine: %s\n", err);
		abort();
	}
	profile_set_defaults(p, "/home/u", "/work", "/venv");
	profile_set_var(p, "SITE", "/venv/lib/python3.11/site-packages");
	profile_set_var(p, "PROXY", "3128");
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const argv[] = { "/venv/bin/pip", "install", "demo", NULL };
	struct decoder *d = fuzz_decoder();
	struct engine *e = engine_new(default_profile(), true);
	struct trace_writer *w = fuzz_trace();
	struct engine_outcome o = { .command_code = 0 };

	engine_set_command(e, argv);
	engine_set_home(e, "/home/u");
	engine_add_decoy(e, "~/.ssh/id_rsa", TOKEN);
	engine_add_decoy(e, "$GITHUB_TOKEN", TOKEN "gh");
	engine_set_kill(e, kill_hook, NULL);
	engine_set_trace(e, w);
	d->on_event = engine_on_event;
	d->ctx = e;
	fuzz_records(d, data, size);
	o.lost = d->bad_records;
	engine_set_outcome(e, &o);
	for (size_t i = 0; i < engine_n_violations(e); i++) {
		const struct violation_record *v = engine_violation(e, i);

		if (!v->rule || !v->evidence || strlen(v->rule) + strlen(v->evidence) == SIZE_MAX)
			abort();
	}
	if (!engine_verdict(e) || engine_exit_code(e, 0) < 0)
		abort();
	engine_free(e);
	if (w)
		trace_writer_close(w);
	return 0;
}
