/* trace-check: a whole trace file validated, header to summary, the
 * summary's counts against the events; optionally a human summary. */
#include "observe/trace.h"

#include <inttypes.h>
#include <string.h>

#include "base/base.h"

/* The host pids seen: an open-addressing set (0 is no pid). */
struct pidset {
	uint32_t *v;
	size_t n, cap;
};

static void pidset_add(struct pidset *s, uint32_t pid)
{
	size_t h, i;

	if ((s->n + 1) * 2 > s->cap) {
		struct pidset big = { .cap = s->cap ? s->cap * 2 : 256 };

		big.v = xcalloc(big.cap, sizeof(*big.v));
		for (i = 0; i < s->cap; i++)
			if (s->v[i])
				pidset_add(&big, s->v[i]);
		free(s->v);
		*s = big;
	}
	for (h = pid * 2654435761u % s->cap;; h = (h + 1) % s->cap) {
		if (s->v[h] == pid)
			return;
		if (!s->v[h]) {
			s->v[h] = pid;
			s->n++;
			return;
		}
	}
}

/* What the check has read so far. */
struct check {
	struct trace_reader *r;
	struct pidset pids;        /* host pids of the events */
	cJSON *header, *summary;
	cJSON *kinds;              /* events by kind, as counted here */
	uint64_t events, notes;
	unsigned long summary_line;
};

static const char *str_of(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key)->valuestring;
}

static double num_of(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key)->valuedouble;
}

/* An event: counted, by kind and by process. */
static void count_event(struct check *c, const cJSON *o)
{
	const char *kind = str_of(o, "kind");
	cJSON *n = cJSON_GetObjectItemCaseSensitive(c->kinds, kind);
	double hpid = num_of(o, "hpid");

	c->events++;
	if (n)
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	else
		cJSON_AddNumberToObject(c->kinds, kind, 1);
	/* a number past any pid counts as none (0), and converts without
	 * undefined behaviour */
	pidset_add(&c->pids, hpid <= UINT32_MAX ? (uint32_t)hpid : 0);
}

/* One valid line (o, owned from here) in its place: the header first and
 * once, nothing after the summary.  0, or -1 with err. */
static int check_line(struct check *c, cJSON *o, char *err, size_t errlen)
{
	const char *type = str_of(o, "type");
	unsigned long ln = trace_reader_line(c->r);

	if (c->summary) {
		snprintf(err, errlen, "line %lu: a \"%s\" line after the summary (line %lu)", ln,
			 type, c->summary_line);
	} else if (ln == 1 && strcmp(type, "header")) {
		snprintf(err, errlen, "line 1: expected the header, found a \"%s\" line", type);
	} else if (!strcmp(type, "header")) {
		if (ln == 1) {
			c->header = o;
			return 0;
		}
		snprintf(err, errlen, "line %lu: a second header", ln);
	} else if (!strcmp(type, "summary")) {
		c->summary = o;
		c->summary_line = ln;
		return 0;
	} else {
		if (!strcmp(type, "event"))
			count_event(c, o);
		else
			c->notes++;
		cJSON_Delete(o);
		return 0;
	}
	cJSON_Delete(o);
	return -1;
}

/* The summary's counts against the events read. */
static int check_counts(struct check *c, char *err, size_t errlen)
{
	const cJSON *sk = cJSON_GetObjectItemCaseSensitive(c->summary, "by_kind"), *it;
	double n = num_of(c->summary, "events");

	if (n != (double)c->events) {
		snprintf(err, errlen, "line %lu: the summary counts %.0f events, the trace has %" PRIu64,
			 c->summary_line, n, c->events);
		return -1;
	}
	cJSON_ArrayForEach(it, c->kinds) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(sk, it->string);

		if (!s || s->valuedouble != it->valuedouble) {
			snprintf(err, errlen, "line %lu: the summary counts %.0f \"%s\" events, the trace has %.0f",
				 c->summary_line, s ? s->valuedouble : 0.0, it->string, it->valuedouble);
			return -1;
		}
	}
	return 0;
}

static void print_summary(const struct check *c, const char *path, FILE *out)
{
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(c->summary, "exit"), *it;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(ex, "status");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(ex, "code");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(ex, "signal");
	const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(c->header, "kernel");
	bool first = true;

	fprintf(out, "%s: valid pipjail trace (%lu lines)\n", path, trace_reader_line(c->r));
	fprintf(out, "  pipjail:  %s, kernel %s\n", str_of(c->header, "pipjail"),
		cJSON_IsString(kernel) ? kernel->valuestring : "?");
	fprintf(out, "  command: ");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c->header, "argv"))
		fprintf(out, " %s", it->valuestring);
	fprintf(out, "\n  started:   %s\n", str_of(c->header, "start_wall"));
	fprintf(out, "  duration:  %.3f s\n", num_of(c->summary, "duration_s"));
	fprintf(out, "  events:    %" PRIu64 " (", c->events);
	cJSON_ArrayForEach(it, c->kinds) {
		fprintf(out, "%s%s %.0f", first ? "" : ", ", it->string, it->valuedouble);
		first = false;
	}
	fprintf(out, ")\n  notes:     %" PRIu64 "\n", c->notes);
	fprintf(out, "  processes: %zu\n", c->pids.n);
	fprintf(out, "  lost:      %.0f\n", num_of(c->summary, "lost"));
	if (cJSON_IsString(st) && cJSON_IsNumber(code))
		fprintf(out, "  exit:      %s %d\n", st->valuestring, code->valueint);
	else if (cJSON_IsString(st) && cJSON_IsString(sig))
		fprintf(out, "  exit:      %s %s\n", st->valuestring, sig->valuestring);
	fprintf(out, "  verdict:   %s\n", str_of(c->summary, "verdict"));
}

int trace_check_file(const char *path, FILE *out, char *err, size_t errlen)
{
	struct check c = { .kinds = cJSON_CreateObject() };
	int rc, ret = -1;
	cJSON *o;

	c.r = trace_reader_open(path, err, errlen);
	if (!c.r)
		goto out;
	while ((rc = trace_reader_next(c.r, &o, err, errlen)) > 0)
		if (check_line(&c, o, err, errlen) < 0)
			goto out;
	if (rc < 0)
		goto out;
	if (!c.header) {
		snprintf(err, errlen, "empty file: no header line");
		goto out;
	}
	if (!c.summary) {
		snprintf(err, errlen, "line %lu: the trace ends without a summary line (the run was cut short?)",
			 trace_reader_line(c.r));
		goto out;
	}
	if (check_counts(&c, err, errlen) < 0)
		goto out;
	if (out)
		print_summary(&c, path, out);
	ret = 0;
out:
	trace_reader_close(c.r);
	cJSON_Delete(c.header);
	cJSON_Delete(c.summary);
	cJSON_Delete(c.kinds);
	free(c.pids.v);
	return ret;
}
