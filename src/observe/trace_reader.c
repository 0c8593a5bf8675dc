/* Reading a trace back (trace-check, replay): one line at a time, parsed
 * with cJSON and checked against the schema of its type; and the open(2)
 * flags of an event's "flags" text.  Not hot. */
#include "observe/trace.h"

#include <errno.h>
#include <string.h>

#include "base/base.h"

/* ---- reading and validation --------------------------------------------------- */

#define TRACE_LINE_MAX (64u << 20)

struct trace_reader {
	FILE *f;
	char *line;
	size_t cap;
	unsigned long lineno;
};

struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen)
{
	struct trace_reader *r;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->f = f;
	return r;
}

unsigned long trace_reader_line(const struct trace_reader *r)
{
	return r->lineno;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r->line);
	free(r);
}

static bool want(const cJSON *o, const char *key, cJSON_bool (*is)(const cJSON *), const char *what,
		 char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v) {
		snprintf(err, errlen, "missing field \"%s\"", key);
		return false;
	}
	if (!is(v)) {
		snprintf(err, errlen, "field \"%s\" should be %s", key, what);
		return false;
	}
	return true;
}

static cJSON_bool is_str_or_null(const cJSON *v)
{
	return cJSON_IsString(v) || cJSON_IsNull(v);
}

static cJSON_bool is_uint(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0;
}

static cJSON_bool is_str_array(const cJSON *v)
{
	const cJSON *it;

	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach(it, v)
		if (!cJSON_IsString(it))
			return 0;
	return 1;
}

/* The schema, field by field: the fields a line of each type requires (or
 * may have, when optional), in the order they are checked: the first
 * wrong one is the one reported. */
struct field_rule {
	const char *key;
	cJSON_bool (*is)(const cJSON *v);
	const char *what;
	bool optional;   /* checked only when present */
};

static const struct field_rule header_rules[] = {
	{ "pipjail", cJSON_IsString, "a string" },
	{ "kernel", is_str_or_null, "a string" },
	{ "argv", is_str_array, "an array of strings" },
	{ "start_mono", is_uint, "a number" },
	{ "start_wall", cJSON_IsString, "a string" },
	{ "options", cJSON_IsObject, "an object" },
};

static const struct field_rule event_rules[] = {
	{ "kind", cJSON_IsString, "a string" },
	{ "t_mono", is_uint, "a number" },
	{ "t_wall", cJSON_IsString, "a string" },
	{ "pid", is_uint, "a number" },
	{ "tid", is_uint, "a number" },
	{ "ppid", is_uint, "a number" },
	{ "hpid", is_uint, "a number" },
	{ "htid", is_uint, "a number" },
	{ "uid", is_uint, "a number" },
	{ "comm", cJSON_IsString, "a string" },
	{ "exe", is_str_or_null, "a string or null" },
};

/* an event with a "syscall" field has its result */
static const struct field_rule event_syscall_rules[] = {
	{ "syscall", is_str_or_null, "a string or null" },
	{ "ret", cJSON_IsNumber, "a number" },
	{ "errno", is_str_or_null, "a string or null" },
};

static const struct field_rule event_optional_rules[] = {
	{ "path", cJSON_IsString, "a string", true },
	{ "argv", is_str_array, "an array of strings", true },
	{ "env", is_str_array, "an array of strings", true },
};

static const struct field_rule note_rules[] = {
	{ "kind", cJSON_IsString, "a string" },
	{ "t_mono", is_uint, "a number" },
};

/* the summary's fields before and after its by_kind counts are checked */
static const struct field_rule summary_rules[] = {
	{ "events", is_uint, "a number" },
	{ "by_kind", cJSON_IsObject, "an object" },
};

static const struct field_rule summary_rules2[] = {
	{ "lost", is_uint, "a number" },
	{ "duration_s", is_uint, "a number" },
	{ "exit", cJSON_IsObject, "an object" },
	{ "verdict", cJSON_IsString, "a string" },
};

static int want_all(const cJSON *o, const struct field_rule *rules, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (rules[i].optional && !cJSON_HasObjectItem(o, rules[i].key))
			continue;
		if (!want(o, rules[i].key, rules[i].is, rules[i].what, err, errlen))
			return -1;
	}
	return 0;
}

#define WANT_ALL(o, rules) \
	do { if (want_all(o, rules, ARRAY_SIZE(rules), err, errlen) < 0) return -1; } while (0)

static int validate_header(const cJSON *o, char *err, size_t errlen)
{
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format"), *ver;

	if (!want(o, "format", cJSON_IsString, "a string", err, errlen))
		return -1;
	if (strcmp(fmt->valuestring, TRACE_FORMAT)) {
		snprintf(err, errlen, "format is \"%s\", not \"%s\"", fmt->valuestring, TRACE_FORMAT);
		return -1;
	}
	if (!want(o, "format_version", is_uint, "a number", err, errlen))
		return -1;
	ver = cJSON_GetObjectItemCaseSensitive(o, "format_version");
	if (ver->valueint > TRACE_FORMAT_VERSION) {
		snprintf(err, errlen, "format_version %d is newer than this pipjail reads (%d)",
			 ver->valueint, TRACE_FORMAT_VERSION);
		return -1;
	}
	WANT_ALL(o, header_rules);
	return 0;
}

static int validate_event(const cJSON *o, char *err, size_t errlen)
{
	WANT_ALL(o, event_rules);
	if (cJSON_HasObjectItem(o, "syscall"))
		WANT_ALL(o, event_syscall_rules);
	WANT_ALL(o, event_optional_rules);
	return 0;
}

static int validate_summary(const cJSON *o, char *err, size_t errlen)
{
	const cJSON *v, *it;

	WANT_ALL(o, summary_rules);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "by_kind")) {
		if (!is_uint(it)) {
			snprintf(err, errlen, "by_kind \"%s\" should be a number", it->string);
			return -1;
		}
	}
	WANT_ALL(o, summary_rules2);
	v = cJSON_GetObjectItemCaseSensitive(o, "verdict");
	if (strcmp(v->valuestring, "complete") && strcmp(v->valuestring, "incomplete")) {
		snprintf(err, errlen, "verdict \"%s\" is neither \"complete\" nor \"incomplete\"",
			 v->valuestring);
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, "lost")->valuedouble > 0 &&
	    strcmp(v->valuestring, "incomplete")) {
		snprintf(err, errlen, "events were lost but the verdict is \"%s\"", v->valuestring);
		return -1;
	}
	return 0;
}

int trace_validate_record(const cJSON *o, char *err, size_t errlen)
{
	const cJSON *type;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	type = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (!cJSON_IsString(type)) {
		snprintf(err, errlen, "missing string field \"type\"");
		return -1;
	}
	if (!strcmp(type->valuestring, "header"))
		return validate_header(o, err, errlen);
	if (!strcmp(type->valuestring, "event"))
		return validate_event(o, err, errlen);
	if (!strcmp(type->valuestring, "note"))
		return want_all(o, note_rules, ARRAY_SIZE(note_rules), err, errlen);
	if (!strcmp(type->valuestring, "summary"))
		return validate_summary(o, err, errlen);
	snprintf(err, errlen, "unknown type \"%s\"", type->valuestring);
	return -1;
}

int trace_reader_next(struct trace_reader *r, cJSON **obj, char *err, size_t errlen)
{
	char why[256];
	ssize_t n;
	cJSON *o;

	*obj = NULL;
	errno = 0;
	n = getline(&r->line, &r->cap, r->f);
	if (n < 0) {
		if (errno) {
			snprintf(err, errlen, "line %lu: read error: %s", r->lineno + 1, strerror(errno));
			return -1;
		}
		return 0;
	}
	r->lineno++;
	if ((size_t)n > TRACE_LINE_MAX) {
		snprintf(err, errlen, "line %lu: longer than %u bytes", r->lineno, TRACE_LINE_MAX);
		return -1;
	}
	if (n == 0 || r->line[n - 1] != '\n') {
		snprintf(err, errlen, "line %lu: not terminated by a newline (truncated file?)", r->lineno);
		return -1;
	}
	if (memchr(r->line, 0, n)) {
		snprintf(err, errlen, "line %lu: contains a NUL byte", r->lineno);
		return -1;
	}
	o = cJSON_ParseWithLengthOpts(r->line, n, NULL, 0);
	if (!o) {
		const char *at = cJSON_GetErrorPtr();
		long col = at && at >= r->line && at < r->line + n ? (long)(at - r->line) + 1 : 0;

		snprintf(err, errlen, "line %lu: not valid JSON (near column %ld)", r->lineno, col);
		return -1;
	}
	if (trace_validate_record(o, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "line %lu: %s", r->lineno, why);
		cJSON_Delete(o);
		return -1;
	}
	*obj = o;
	return 1;
}

unsigned trace_open_bits(const char *flags)
{
	static const struct {
		const char *name;
		size_t len;
		unsigned bit;
	} names[] = {
		{ "O_WRONLY", 8, TOB_WRONLY }, { "O_RDWR", 6, TOB_RDWR }, { "O_CREAT", 7, TOB_CREAT },
		{ "O_TRUNC", 7, TOB_TRUNC }, { "O_TMPFILE", 9, TOB_TMPFILE }, { "O_PATH", 6, TOB_PATH },
	};
	unsigned bits = 0;

	for (const char *p = flags; p && *p;) {
		size_t n = strcspn(p, "|");

		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			if (names[i].len == n && !memcmp(p, names[i].name, n)) {
				bits |= names[i].bit;
				break;
			}
		}
		p += n;
		if (*p == '|')
			p++;
	}
	return bits;
}
