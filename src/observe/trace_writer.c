/* The trace writer: JSON Lines streamed into a fixed buffer with
 * hand-rolled escaping (the hot path: one call per event, no allocation),
 * written out with write(2).  The schema is in docs/trace-format.md. */
#include "observe/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "base/base.h"

#define TW_BUF       (256 * 1024)
#define TW_MAX_KINDS 64

struct trace_writer {
	int fd;
	int err;                 /* first errno of a failed write, sticky */
	size_t len;
	bool need_comma;         /* inside an object/array after a member */
	uint64_t events, notes;
	uint64_t start_mono_ns;
	int64_t wall_offset_ns;  /* CLOCK_REALTIME - CLOCK_MONOTONIC at open */
	unsigned n_kinds;
	struct trace_kind_count kinds[TW_MAX_KINDS];
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

/* A NULL-terminated array of strings (v NULL: an empty array). */
static void f_str_array(struct trace_writer *w, const char *key, const char *const *v)
{
	obj_begin(w, key, '[');
	for (size_t i = 0; v && v[i]; i++) {
		if (w->need_comma)
			tw_putc(w, ',');
		tw_str(w, v[i]);
		w->need_comma = true;
	}
	obj_end(w, ']');
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
	f_str_array(w, "argv", h->argv);
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

void trace_count_kind(struct trace_kind_count *kinds, unsigned cap, unsigned *n, uint64_t *other,
		      const char *kind)
{
	for (unsigned i = 0; i < *n; i++) {
		if (!strcmp(kinds[i].name, kind)) {
			kinds[i].n++;
			return;
		}
	}
	if (*n < cap && strlen(kind) < sizeof(kinds[0].name)) {
		snprintf(kinds[*n].name, sizeof(kinds[0].name), "%s", kind);
		kinds[(*n)++].n = 1;
	} else {
		(*other)++;
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

/* Who: the process in its namespace and on the host. */
static void f_event_who(struct trace_writer *w, const struct trace_event *ev)
{
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
}

/* Files: the paths as named and made absolute, the file behind them. */
static void f_event_files(struct trace_writer *w, const struct trace_event *ev, const char *kind)
{
	char b[32];

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
	f_opt_str(w, "pseudo", ev->pseudo);
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
}

static void f_event_net(struct trace_writer *w, const struct trace_event *ev)
{
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
}

/* Processes: argv, the child of a fork, how a task exited, signals. */
static void f_event_procs(struct trace_writer *w, const struct trace_event *ev, const char *kind)
{
	if (ev->argv) {
		f_str_array(w, "argv", ev->argv);
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
}

/* The raw arguments and the result of a call. */
static void f_event_result(struct trace_writer *w, const struct trace_event *ev)
{
	char b[32];

	if (ev->write_args) {
		obj_begin(w, "args", '[');
		for (int i = 0; i < 6; i++) {
			if (i)
				tw_putc(w, ',');
			tw_uint(w, ev->args[i], 1);
		}
		obj_end(w, ']');
	}
	if (!ev->has_ret)
		return;
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

/* The monitor's marks (refused, truncated, kernel rules, repeats) and the
 * engine's attribution. */
static void f_event_marks(struct trace_writer *w, const struct trace_event *ev)
{
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
}

int trace_write_event(struct trace_writer *w, const struct trace_event *ev)
{
	const char *kind = ev->kind ? ev->kind : "unknown";

	w->events++;
	trace_count_kind(w->kinds, TW_MAX_KINDS, &w->n_kinds, &w->other_kinds, kind);
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
	f_event_who(w, ev);
	f_event_files(w, ev, kind);
	f_event_net(w, ev);
	f_event_procs(w, ev, kind);
	f_event_result(w, ev);
	f_event_marks(w, ev);
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
