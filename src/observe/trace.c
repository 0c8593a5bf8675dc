/* JSON Lines trace: a streaming writer with hand-rolled escaping (the hot
 * path: one call per event, no allocation) and a reader/validator built on
 * cJSON (trace-check, replay: not hot). */
#include "observe/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "base/base.h"

#define TW_BUF       (256 * 1024)
#define TW_MAX_KINDS 64

struct kind_count {
	char name[32];
	uint64_t n;
};

struct trace_writer {
	int fd;
	int err;                 /* first errno of a failed write, sticky */
	size_t len;
	bool need_comma;         /* inside an object/array after a member */
	uint64_t events, notes;
	uint64_t start_mono_ns;
	int64_t wall_offset_ns;  /* CLOCK_REALTIME - CLOCK_MONOTONIC at open */
	unsigned n_kinds;
	struct kind_count kinds[TW_MAX_KINDS];
	uint64_t other_kinds;
	int64_t wall_sec;        /* second of wall_prefix, -1: none */
	char wall_prefix[24];    /* "2026-01-31T12:34:56" */
	char buf[TW_BUF];
};

/* ---- output primitives ----------------------------------------------------- */

static int tw_flush(struct trace_writer *w)
{
	if (w->err)
		return -1;
	if (w->len && write_all(w->fd, w->buf, w->len) < 0) {
		w->err = errno ? errno : EIO;
		w->len = 0;
		return -1;
	}
	w->len = 0;
	return 0;
}

static void tw_put(struct trace_writer *w, const char *s, size_t n)
{
	while (n) {
		size_t room = TW_BUF - w->len, k = n < room ? n : room;

		memcpy(w->buf + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
		if (w->len == TW_BUF && tw_flush(w) < 0)
			return;
	}
}

static void tw_puts(struct trace_writer *w, const char *s)
{
	tw_put(w, s, strlen(s));
}

static void tw_putc(struct trace_writer *w, char c)
{
	if (w->len == TW_BUF && tw_flush(w) < 0)
		return;
	w->buf[w->len++] = c;
}

static void __attribute__((format(printf, 2, 3))) tw_printf(struct trace_writer *w, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		tw_put(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string.  Bytes that are not valid UTF-8 are written as \u00XX (the
 * code point of the same value), so that every line stays valid JSON. */
static void tw_strn(struct trace_writer *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	tw_putc(w, '"');
	while (i < n) {
		unsigned char c = s[i];
		size_t l = c >= 0x20 && c != '"' && c != '\\' ? utf8_len(s + i, n - i) : 0;

		if (l) {
			i += l;
			run += l;
			continue;
		}
		tw_put(w, (const char *)s + i - run, run);
		run = 0;
		switch (c) {
		case '"': tw_puts(w, "\\\""); break;
		case '\\': tw_puts(w, "\\\\"); break;
		case '\n': tw_puts(w, "\\n"); break;
		case '\t': tw_puts(w, "\\t"); break;
		case '\r': tw_puts(w, "\\r"); break;
		default: tw_printf(w, "\\u%04x", c);
		}
		i++;
	}
	tw_put(w, (const char *)s + i - run, run);
	tw_putc(w, '"');
}

static void tw_str(struct trace_writer *w, const char *s)
{
	if (s)
		tw_strn(w, s, strlen(s));
	else
		tw_puts(w, "null");
}

static void tw_key(struct trace_writer *w, const char *key)
{
	if (w->need_comma)
		tw_putc(w, ',');
	tw_putc(w, '"');
	tw_puts(w, key);  /* keys are our own identifiers: no escaping needed */
	tw_puts(w, "\":");
	w->need_comma = true;
}

static void f_str(struct trace_writer *w, const char *key, const char *v)
{
	tw_key(w, key);
	tw_str(w, v);
}

static void f_opt_str(struct trace_writer *w, const char *key, const char *v)
{
	if (v)
		f_str(w, key, v);
}

/* Decimal digits of v, at least min_digits (zero-padded): the hot path
 * formats several numbers per event, vsnprintf() is too slow for that. */
static void tw_uint(struct trace_writer *w, uint64_t v, int min_digits)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
		min_digits--;
	} while (v || min_digits > 0);
	tw_put(w, tmp + i, sizeof(tmp) - i);
}

static void f_u64(struct trace_writer *w, const char *key, uint64_t v)
{
	tw_key(w, key);
	tw_uint(w, v, 1);
}

static void f_i64(struct trace_writer *w, const char *key, int64_t v)
{
	tw_key(w, key);
	if (v < 0) {
		tw_putc(w, '-');
		tw_uint(w, (uint64_t)0 - (uint64_t)v, 1);
	} else {
		tw_uint(w, (uint64_t)v, 1);
	}
}

static void f_bool(struct trace_writer *w, const char *key, bool v)
{
	tw_key(w, key);
	tw_puts(w, v ? "true" : "false");
}

/* Seconds with nanoseconds, exact (no floating point). */
static void f_secs(struct trace_writer *w, const char *key, uint64_t ns)
{
	tw_key(w, key);
	tw_uint(w, ns / 1000000000u, 1);
	tw_putc(w, '.');
	tw_uint(w, ns % 1000000000u, 9);
}

static void obj_begin(struct trace_writer *w, const char *key, char open)
{
	if (key)
		tw_key(w, key);
	else if (w->need_comma)
		tw_putc(w, ',');
	tw_putc(w, open);
	w->need_comma = false;
}

static void obj_end(struct trace_writer *w, char close)
{
	tw_putc(w, close);
	w->need_comma = true;
}

static void line_begin(struct trace_writer *w, const char *type)
{
	w->need_comma = false;
	tw_putc(w, '{');
	f_str(w, "type", type);
}

static int line_end(struct trace_writer *w)
{
	tw_puts(w, "}\n");
	/* Keep the buffer from filling mid-line on the next event. */
	if (w->len > TW_BUF / 2)
		return tw_flush(w);
	return w->err ? -1 : 0;
}

void trace_format_wall(int64_t wall_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(wall_ns / 1000000000LL);
	long usec = (long)((wall_ns % 1000000000LL) / 1000);
	struct tm tm;

	if (wall_ns < 0 || !gmtime_r(&sec, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

/* Same text as trace_format_wall(); the date part is kept per second. */
static void f_wall(struct trace_writer *w, const char *key, int64_t wall_ns)
{
	int64_t sec = wall_ns / 1000000000LL;
	char b[40];

	if (wall_ns < 0) {
		trace_format_wall(wall_ns, b, sizeof(b));
		f_str(w, key, b);
		return;
	}
	if (sec != w->wall_sec) {
		trace_format_wall(sec * 1000000000LL, b, sizeof(b));
		memcpy(w->wall_prefix, b, 19);  /* "YYYY-MM-DDTHH:MM:SS" */
		w->wall_prefix[19] = 0;
		w->wall_sec = sec;
	}
	tw_key(w, key);
	tw_putc(w, '"');
	tw_put(w, w->wall_prefix, 19);
	tw_putc(w, '.');
	tw_uint(w, (uint64_t)(wall_ns % 1000000000LL) / 1000, 6);
	tw_puts(w, "Z\"");
}

/* Member values of a cJSON object, as members of the current object. */
static void put_cjson_members(struct trace_writer *w, const cJSON *obj)
{
	const cJSON *it;

	if (!obj || !cJSON_IsObject(obj))
		return;
	cJSON_ArrayForEach(it, obj) {
		char *v = cJSON_PrintUnformatted(it);

		if (!it->string || !v) {
			free(v);
			continue;
		}
		if (w->need_comma)
			tw_putc(w, ',');
		tw_str(w, it->string);
		tw_putc(w, ':');
		tw_puts(w, v);
		w->need_comma = true;
		free(v);
	}
}

/* ---- the writer's API -------------------------------------------------------- */

struct trace_writer *trace_writer_open(int fd)
{
	struct trace_writer *w = xcalloc(1, sizeof(*w));
	struct timespec rt, mono;

	w->fd = fd;
	w->wall_sec = -1;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	w->wall_offset_ns = ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
	w->start_mono_ns = now_ns();
	return w;
}

static int64_t wall_of(const struct trace_writer *w, uint64_t mono_ns)
{
	return (int64_t)mono_ns + w->wall_offset_ns;
}

int trace_write_header(struct trace_writer *w, const struct trace_header *h)
{
	struct utsname u;
	const char *kernel = h->kernel;

	if (!kernel && uname(&u) == 0)
		kernel = u.release;
	if (h->start_mono_ns)
		w->start_mono_ns = h->start_mono_ns;

	line_begin(w, "header");
	f_str(w, "format", TRACE_FORMAT);
	f_u64(w, "format_version", TRACE_FORMAT_VERSION);
	f_str(w, "pipjail", h->version ? h->version : PIPJAIL_VERSION);
	f_str(w, "kernel", kernel);
	obj_begin(w, "argv", '[');
	for (size_t i = 0; h->argv && h->argv[i]; i++) {
		if (w->need_comma)
			tw_putc(w, ',');
		tw_str(w, h->argv[i]);
		w->need_comma = true;
	}
	obj_end(w, ']');
	f_secs(w, "start_mono", w->start_mono_ns);
	f_wall(w, "start_wall", h->start_wall_ns ? h->start_wall_ns : wall_of(w, w->start_mono_ns));
	if (h->cgroup_id)
		f_u64(w, "cgroup_id", h->cgroup_id);
	obj_begin(w, "options", '{');
	for (size_t i = 0; i < h->n_options; i++)
		f_str(w, h->options[i].key, h->options[i].value);
	obj_end(w, '}');
	put_cjson_members(w, h->extra);
	return line_end(w);
}

static void count_kind(struct trace_writer *w, const char *kind)
{
	for (unsigned i = 0; i < w->n_kinds; i++) {
		if (!strcmp(w->kinds[i].name, kind)) {
			w->kinds[i].n++;
			return;
		}
	}
	if (w->n_kinds < TW_MAX_KINDS && strlen(kind) < sizeof(w->kinds[0].name)) {
		snprintf(w->kinds[w->n_kinds].name, sizeof(w->kinds[0].name), "%s", kind);
		w->kinds[w->n_kinds++].n = 1;
	} else {
		w->other_kinds++;
	}
}

static const char *errno_name(int e, char *buf, size_t len)
{
	const char *n;

	switch (e) {  /* kernel-internal codes that can leak to sys_exit */
	case 512: return "ERESTARTSYS";
	case 513: return "ERESTARTNOINTR";
	case 514: return "ERESTARTNOHAND";
	case 515: return "ENOIOCTLCMD";
	case 516: return "ERESTART_RESTARTBLOCK";
	}
	n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, len, "E%d", e);
	return buf;
}

static const char *str_key(const char *kind)
{
	if (!strcmp(kind, "symlink"))
		return "target";
	if (!strcmp(kind, "memfd") || !strcmp(kind, "module"))
		return "name";
	if (!strcmp(kind, "mount"))
		return "fstype";
	if (!strcmp(kind, "keyctl"))
		return "key_type";
	return "str";
}

int trace_write_event(struct trace_writer *w, const struct trace_event *ev)
{
	const char *kind = ev->kind ? ev->kind : "unknown";
	char b[32];

	w->events++;
	count_kind(w, kind);
	line_begin(w, "event");
	f_str(w, "kind", kind);
	f_secs(w, "t_mono", ev->t_mono_ns);
	f_wall(w, "t_wall", ev->t_wall_ns);
	if (ev->syscall || ev->has_ret) {
		if (ev->syscall)
			f_str(w, "syscall", ev->syscall);
		else
			f_str(w, "syscall", NULL);
		f_i64(w, "nr", ev->nr);
	}
	f_u64(w, "pid", ev->pid);
	f_u64(w, "tid", ev->tid);
	f_u64(w, "ppid", ev->ppid);
	f_u64(w, "hpid", ev->hpid);
	f_u64(w, "htid", ev->htid);
	f_u64(w, "hppid", ev->hppid);
	f_u64(w, "uid", ev->uid);
	f_u64(w, "gid", ev->gid);
	f_str(w, "comm", ev->comm);
	f_str(w, "exe", ev->exe);

	f_opt_str(w, "path", ev->path);
	if (ev->path)
		f_str(w, "abs", ev->abs);
	f_opt_str(w, "path2", ev->path2);
	if (ev->path2)
		f_str(w, "abs2", ev->abs2);
	if (ev->str)
		f_str(w, str_key(kind), ev->str);
	f_opt_str(w, "cwd", ev->cwd);
	f_opt_str(w, "file", ev->file);
	if (ev->file_valid) {
		snprintf(b, sizeof(b), "%u:%u", major(ev->dev), minor(ev->dev));
		f_str(w, "dev", b);
		f_u64(w, "ino", ev->ino);
	}
	f_opt_str(w, "flags", ev->flags);
	if (ev->mode >= 0) {
		snprintf(b, sizeof(b), "0%" PRIo64, (uint64_t)ev->mode & 07777);
		f_str(w, "mode", b);
	}
	f_opt_str(w, "family", ev->family);
	f_opt_str(w, "sock_type", ev->sock_type);
	if (ev->protocol >= 0)
		f_i64(w, "protocol", ev->protocol);
	f_opt_str(w, "addr", ev->addr);
	if (ev->port >= 0)
		f_i64(w, "port", ev->port);
	if (ev->addr_from_socket)
		f_bool(w, "addr_from_socket", true);
	f_opt_str(w, "dns_query", ev->dns_query);
	f_opt_str(w, "dns_qtype", ev->dns_qtype);
	if (ev->argv) {
		obj_begin(w, "argv", '[');
		for (size_t i = 0; ev->argv[i]; i++) {
			if (w->need_comma)
				tw_putc(w, ',');
			tw_str(w, ev->argv[i]);
			w->need_comma = true;
		}
		obj_end(w, ']');
		f_bool(w, "argv_truncated", ev->argv_truncated);
	}
	if (!strcmp(kind, "fork")) {
		f_u64(w, "child_pid", ev->child_pid);
		f_u64(w, "child_tid", ev->child_tid);
		f_u64(w, "child_hpid", ev->child_hpid);
		f_u64(w, "child_htid", ev->child_htid);
		f_bool(w, "thread", ev->thread);
	} else if (!strcmp(kind, "exit")) {
		f_bool(w, "thread", ev->thread);
		if (ev->signal) {
			f_str(w, "signal", ev->signal);
			f_bool(w, "core_dumped", ev->core_dumped);
		} else {
			f_i64(w, "exit_code", ev->exit_code);
		}
	} else {
		f_opt_str(w, "signal", ev->signal);
	}
	if (ev->target_pid >= 0)
		f_i64(w, "target_pid", ev->target_pid);
	f_opt_str(w, "request", ev->request);
	if (ev->write_args) {
		obj_begin(w, "args", '[');
		for (int i = 0; i < 6; i++) {
			if (i)
				tw_putc(w, ',');
			tw_uint(w, ev->args[i], 1);
		}
		obj_end(w, ']');
	}
	if (ev->has_ret) {
		if (ev->ret < 0 && ev->ret >= -4095) {
			f_i64(w, "ret", -1);
			f_str(w, "errno", errno_name((int)-ev->ret, b, sizeof(b)));
		} else {
			f_i64(w, "ret", ev->ret);
			tw_key(w, "errno");
			tw_puts(w, "null");
		}
		if (ev->dur_ns)
			f_u64(w, "dur_ns", ev->dur_ns);
	}
	if (ev->refused)
		f_bool(w, "refused", true);
	if (ev->truncated)
		f_bool(w, "truncated", true);
	f_opt_str(w, "kernel_rule", ev->kernel_rule);
	if (ev->killed_in_kernel)
		f_bool(w, "killed_in_kernel", true);
	if (ev->kernel_trusted)
		f_bool(w, "kernel_trusted", true);
	if (ev->repeat)
		f_u64(w, "repeat", ev->repeat);
	f_opt_str(w, "role", ev->role);
	f_opt_str(w, "package", ev->package);
	f_opt_str(w, "hook", ev->hook);
	return line_end(w);
}

int trace_write_note(struct trace_writer *w, const char *kind, const cJSON *fields)
{
	uint64_t t = now_ns();

	w->notes++;
	line_begin(w, "note");
	f_str(w, "kind", kind);
	f_secs(w, "t_mono", t);
	f_wall(w, "t_wall", wall_of(w, t));
	put_cjson_members(w, fields);
	return line_end(w);
}

int trace_write_summary(struct trace_writer *w, const struct trace_summary *s)
{
	uint64_t end = s->end_mono_ns ? s->end_mono_ns : now_ns();
	bool incomplete = s->lost > 0 || s->incomplete;

	line_begin(w, "summary");
	f_secs(w, "t_mono", end);
	f_wall(w, "t_wall", wall_of(w, end));
	f_secs(w, "duration_s", end > w->start_mono_ns ? end - w->start_mono_ns : 0);
	f_u64(w, "events", w->events);
	obj_begin(w, "by_kind", '{');
	for (unsigned i = 0; i < w->n_kinds; i++)
		f_u64(w, w->kinds[i].name, w->kinds[i].n);
	if (w->other_kinds)
		f_u64(w, "other", w->other_kinds);
	obj_end(w, '}');
	f_u64(w, "notes", w->notes);
	f_u64(w, "lost", s->lost);
	obj_begin(w, "exit", '{');
	if (s->wait_status < 0) {
		f_str(w, "status", "unknown");
	} else if (WIFSIGNALED(s->wait_status)) {
		char sig[24];
		const char *abbrev = sigabbrev_np(WTERMSIG(s->wait_status));

		snprintf(sig, sizeof(sig), "SIG%s", abbrev ? abbrev : "?");
		f_str(w, "status", "signaled");
		f_str(w, "signal", sig);
	} else {
		f_str(w, "status", "exited");
		f_i64(w, "code", WEXITSTATUS(s->wait_status));
	}
	obj_end(w, '}');
	f_str(w, "verdict", incomplete ? "incomplete" : "complete");
	put_cjson_members(w, s->extra);
	tw_puts(w, "}\n");
	return tw_flush(w);
}

int trace_writer_flush(struct trace_writer *w)
{
	return tw_flush(w);
}

uint64_t trace_writer_events(const struct trace_writer *w)
{
	return w->events;
}

int trace_writer_close(struct trace_writer *w)
{
	int ret, err;

	if (!w)
		return 0;
	ret = tw_flush(w);
	err = w->err;
	if (w->fd >= 0 && close(w->fd) < 0 && !err) {
		err = errno;
		ret = -1;
	}
	free(w);
	if (ret < 0)
		errno = err;
	return ret;
}

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

#define WANT(o, key, is, what) \
	do { if (!want(o, key, is, what, err, errlen)) return -1; } while (0)

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
	if (!strcmp(type->valuestring, "header")) {
		const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");

		WANT(o, "format", cJSON_IsString, "a string");
		if (strcmp(fmt->valuestring, TRACE_FORMAT)) {
			snprintf(err, errlen, "format is \"%s\", not \"%s\"", fmt->valuestring, TRACE_FORMAT);
			return -1;
		}
		WANT(o, "format_version", is_uint, "a number");
		if (cJSON_GetObjectItemCaseSensitive(o, "format_version")->valueint > TRACE_FORMAT_VERSION) {
			snprintf(err, errlen, "format_version %d is newer than this pipjail reads (%d)",
				 cJSON_GetObjectItemCaseSensitive(o, "format_version")->valueint,
				 TRACE_FORMAT_VERSION);
			return -1;
		}
		WANT(o, "pipjail", cJSON_IsString, "a string");
		WANT(o, "kernel", is_str_or_null, "a string");
		WANT(o, "argv", is_str_array, "an array of strings");
		WANT(o, "start_mono", is_uint, "a number");
		WANT(o, "start_wall", cJSON_IsString, "a string");
		WANT(o, "options", cJSON_IsObject, "an object");
	} else if (!strcmp(type->valuestring, "event")) {
		WANT(o, "kind", cJSON_IsString, "a string");
		WANT(o, "t_mono", is_uint, "a number");
		WANT(o, "t_wall", cJSON_IsString, "a string");
		WANT(o, "pid", is_uint, "a number");
		WANT(o, "tid", is_uint, "a number");
		WANT(o, "ppid", is_uint, "a number");
		WANT(o, "hpid", is_uint, "a number");
		WANT(o, "htid", is_uint, "a number");
		WANT(o, "uid", is_uint, "a number");
		WANT(o, "comm", cJSON_IsString, "a string");
		WANT(o, "exe", is_str_or_null, "a string or null");
		if (cJSON_HasObjectItem(o, "syscall")) {
			WANT(o, "syscall", is_str_or_null, "a string or null");
			WANT(o, "ret", cJSON_IsNumber, "a number");
			WANT(o, "errno", is_str_or_null, "a string or null");
		}
		if (cJSON_HasObjectItem(o, "path"))
			WANT(o, "path", cJSON_IsString, "a string");
		if (cJSON_HasObjectItem(o, "argv"))
			WANT(o, "argv", is_str_array, "an array of strings");
	} else if (!strcmp(type->valuestring, "note")) {
		WANT(o, "kind", cJSON_IsString, "a string");
		WANT(o, "t_mono", is_uint, "a number");
	} else if (!strcmp(type->valuestring, "summary")) {
		const cJSON *v, *it;

		WANT(o, "events", is_uint, "a number");
		WANT(o, "by_kind", cJSON_IsObject, "an object");
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "by_kind")) {
			if (!is_uint(it)) {
				snprintf(err, errlen, "by_kind \"%s\" should be a number", it->string);
				return -1;
			}
		}
		WANT(o, "lost", is_uint, "a number");
		WANT(o, "duration_s", is_uint, "a number");
		WANT(o, "exit", cJSON_IsObject, "an object");
		WANT(o, "verdict", cJSON_IsString, "a string");
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
	} else {
		snprintf(err, errlen, "unknown type \"%s\"", type->valuestring);
		return -1;
	}
	return 0;
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

/* ---- whole-file check ------------------------------------------------------------ */

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

int trace_check_file(const char *path, FILE *out, char *err, size_t errlen)
{
	struct trace_reader *r;
	struct pidset pids = {};
	cJSON *header = NULL, *summary = NULL, *kinds = cJSON_CreateObject(), *o;
	uint64_t events = 0, notes = 0;
	unsigned long summary_line = 0;
	int rc, ret = -1;

	r = trace_reader_open(path, err, errlen);
	if (!r)
		goto out;
	while ((rc = trace_reader_next(r, &o, err, errlen)) > 0) {
		const char *type = cJSON_GetObjectItemCaseSensitive(o, "type")->valuestring;
		unsigned long ln = trace_reader_line(r);

		if (summary) {
			snprintf(err, errlen, "line %lu: a \"%s\" line after the summary (line %lu)", ln,
				 type, summary_line);
			cJSON_Delete(o);
			goto out;
		}
		if (ln == 1 && strcmp(type, "header")) {
			snprintf(err, errlen, "line 1: expected the header, found a \"%s\" line", type);
			cJSON_Delete(o);
			goto out;
		}
		if (!strcmp(type, "header")) {
			if (ln != 1) {
				snprintf(err, errlen, "line %lu: a second header", ln);
				cJSON_Delete(o);
				goto out;
			}
			header = o;
			continue;
		}
		if (!strcmp(type, "summary")) {
			summary = o;
			summary_line = ln;
			continue;
		}
		if (!strcmp(type, "event")) {
			const char *kind = cJSON_GetObjectItemCaseSensitive(o, "kind")->valuestring;
			cJSON *c = cJSON_GetObjectItemCaseSensitive(kinds, kind);

			events++;
			if (c)
				cJSON_SetNumberValue(c, c->valuedouble + 1);
			else
				cJSON_AddNumberToObject(kinds, kind, 1);
			pidset_add(&pids, (uint32_t)cJSON_GetObjectItemCaseSensitive(o, "hpid")->valuedouble);
		} else {
			notes++;
		}
		cJSON_Delete(o);
	}
	if (rc < 0)
		goto out;
	if (!header) {
		snprintf(err, errlen, "empty file: no header line");
		goto out;
	}
	if (!summary) {
		snprintf(err, errlen, "line %lu: the trace ends without a summary line (the run was cut short?)",
			 trace_reader_line(r));
		goto out;
	}
	{
		const cJSON *sk = cJSON_GetObjectItemCaseSensitive(summary, "by_kind"), *it;
		double n = cJSON_GetObjectItemCaseSensitive(summary, "events")->valuedouble;

		if (n != (double)events) {
			snprintf(err, errlen, "line %lu: the summary counts %.0f events, the trace has %" PRIu64,
				 summary_line, n, events);
			goto out;
		}
		cJSON_ArrayForEach(it, kinds) {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(sk, it->string);

			if (!s || s->valuedouble != it->valuedouble) {
				snprintf(err, errlen, "line %lu: the summary counts %.0f \"%s\" events, the trace has %.0f",
					 summary_line, s ? s->valuedouble : 0.0, it->string, it->valuedouble);
				goto out;
			}
		}
	}
	if (out) {
		const cJSON *argv = cJSON_GetObjectItemCaseSensitive(header, "argv"), *it;
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(summary, "exit");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(ex, "status");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(ex, "code");
		const cJSON *sig = cJSON_GetObjectItemCaseSensitive(ex, "signal");
		bool first = true;

		fprintf(out, "%s: valid pipjail trace (%lu lines)\n", path, trace_reader_line(r));
		fprintf(out, "  pipjail:  %s, kernel %s\n",
			cJSON_GetObjectItemCaseSensitive(header, "pipjail")->valuestring,
			cJSON_IsString(cJSON_GetObjectItemCaseSensitive(header, "kernel"))
				? cJSON_GetObjectItemCaseSensitive(header, "kernel")->valuestring : "?");
		fprintf(out, "  command: ");
		cJSON_ArrayForEach(it, argv)
			fprintf(out, " %s", it->valuestring);
		fprintf(out, "\n  started:   %s\n",
			cJSON_GetObjectItemCaseSensitive(header, "start_wall")->valuestring);
		fprintf(out, "  duration:  %.3f s\n",
			cJSON_GetObjectItemCaseSensitive(summary, "duration_s")->valuedouble);
		fprintf(out, "  events:    %" PRIu64 " (", events);
		cJSON_ArrayForEach(it, kinds) {
			fprintf(out, "%s%s %.0f", first ? "" : ", ", it->string, it->valuedouble);
			first = false;
		}
		fprintf(out, ")\n  notes:     %" PRIu64 "\n", notes);
		fprintf(out, "  processes: %zu\n", pids.n);
		fprintf(out, "  lost:      %.0f\n", cJSON_GetObjectItemCaseSensitive(summary, "lost")->valuedouble);
		if (cJSON_IsString(st) && cJSON_IsNumber(code))
			fprintf(out, "  exit:      %s %d\n", st->valuestring, code->valueint);
		else if (cJSON_IsString(st) && cJSON_IsString(sig))
			fprintf(out, "  exit:      %s %s\n", st->valuestring, sig->valuestring);
		fprintf(out, "  verdict:   %s\n",
			cJSON_GetObjectItemCaseSensitive(summary, "verdict")->valuestring);
	}
	ret = 0;
out:
	trace_reader_close(r);
	cJSON_Delete(header);
	cJSON_Delete(summary);
	cJSON_Delete(kinds);
	free(pids.v);
	return ret;
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
