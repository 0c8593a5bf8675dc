/* `pipjail replay TRACE.jsonl [--profile P] [--report FILE]`: hold a recorded
 * trace against a profile, without root and without a jail, and print the
 * same report a live run prints.  The trace's header gives the decoys and
 * the run's variables, its "package" notes the attribution the live run
 * read from the source trees, its summary the lost events. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "report/report.h"
#include "cmd/cmd.h"
#include "decide/engine.h"
#include "observe/monitor.h"
#include "base/base.h"

#define REPLAY_MAX_ARGV 512

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pipjail replay TRACE.jsonl [--profile NAME|PATH] [--report FILE.json]\n"
		"                      [--sarif FILE] [--baseline FILE] [--write-baseline FILE]\n"
		"Re-evaluate a recorded trace against a profile (default: the one named in the\n"
		"trace, else \"default\") and print the same report as a live run.  No root needed.\n"
		"Exit: 0 clean, %d violations, %d the trace is incomplete, %d error.\n",
		EXIT_VIOLATION_FOUND, EXIT_INCOMPLETE, EXIT_PIPJAIL_ERROR);
}

/* ---- a JSON event back into a struct trace_event ------------------------------ */

struct ev_store {
	const char *argv[REPLAY_MAX_ARGV + 1];
};

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jnum(const cJSON *o, const char *k, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		return false;
	*out = v->valuedouble;
	return true;
}

static bool jbool(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static uint64_t secs_to_ns(double s)
{
	return s <= 0 ? 0 : (uint64_t)llround(s * 1e9);
}

static int64_t wall_ns(const char *s)
{
	struct tm tm = { 0 };
	const char *rest;
	long usec = 0;

	if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	if (*rest == '.')
		usec = strtol(rest + 1, NULL, 10);
	return (int64_t)timegm(&tm) * 1000000000LL + usec * 1000LL;
}

static int errno_from_name(const char *name)
{
	static const struct {
		const char *n;
		int v;
	} special[] = {
		{ "ERESTARTSYS", 512 }, { "ERESTARTNOINTR", 513 }, { "ERESTARTNOHAND", 514 },
		{ "ENOIOCTLCMD", 515 }, { "ERESTART_RESTARTBLOCK", 516 },
	};

	static const char *names[200];
	static bool filled;

	if (!name)
		return 0;
	if (!filled) {
		for (int e = 1; e < 200; e++)
			names[e] = strerrorname_np(e);
		filled = true;
	}
	for (int e = 1; e < 200; e++)
		if (names[e] && names[e][1] == name[1] && !strcmp(names[e], name))
			return e;
	for (size_t i = 0; i < ARRAY_SIZE(special); i++)
		if (!strcmp(special[i].n, name))
			return special[i].v;
	if (name[0] == 'E' && name[1] >= '0' && name[1] <= '9')
		return atoi(name + 1);
	return EIO;
}

static void event_from_json(const cJSON *o, struct trace_event *ev, struct ev_store *st)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(o, "argv"), *args, *it;
	const char *s;
	double d;
	size_t n = 0;

	memset(ev, 0, sizeof(*ev));
	ev->kind = jstr(o, "kind");
	ev->syscall = jstr(o, "syscall");
	ev->nr = jnum(o, "nr", &d) ? (long)d : -1;
	ev->t_mono_ns = jnum(o, "t_mono", &d) ? secs_to_ns(d) : 0;
	ev->t_wall_ns = wall_ns(jstr(o, "t_wall"));
	ev->dur_ns = jnum(o, "dur_ns", &d) ? (uint64_t)d : 0;
#define U32(field) ev->field = jnum(o, #field, &d) ? (uint32_t)d : 0
	U32(pid); U32(tid); U32(ppid); U32(hpid); U32(htid); U32(hppid); U32(uid); U32(gid);
	U32(child_pid); U32(child_tid); U32(child_hpid); U32(child_htid);
#undef U32
	ev->comm = jstr(o, "comm");
	ev->exe = jstr(o, "exe");
	ev->path = jstr(o, "path");
	ev->abs = jstr(o, "abs");
	ev->path2 = jstr(o, "path2");
	ev->abs2 = jstr(o, "abs2");
	ev->str = jstr(o, "str");
	if (!ev->str && !(ev->str = jstr(o, "target")) && !(ev->str = jstr(o, "name")) &&
	    !(ev->str = jstr(o, "fstype")))
		ev->str = jstr(o, "key_type");
	ev->cwd = jstr(o, "cwd");
	ev->file = jstr(o, "file");
	ev->pseudo = jstr(o, "pseudo");
	if ((s = jstr(o, "dev")) && jnum(o, "ino", &d)) {
		unsigned ma = 0, mi = 0;

		if (sscanf(s, "%u:%u", &ma, &mi) == 2) {
			ev->dev = makedev(ma, mi);
			ev->ino = (uint64_t)d;
			ev->file_valid = true;
		}
	}
	ev->flags = jstr(o, "flags");
	ev->mode = (s = jstr(o, "mode")) ? strtol(s, NULL, 8) : -1;
	ev->family = jstr(o, "family");
	ev->sock_type = jstr(o, "sock_type");
	ev->protocol = jnum(o, "protocol", &d) ? (int)d : -1;
	ev->addr = jstr(o, "addr");
	ev->port = jnum(o, "port", &d) ? (int)d : -1;
	ev->addr_from_socket = jbool(o, "addr_from_socket");
	ev->dns_query = jstr(o, "dns_query");
	ev->dns_qtype = jstr(o, "dns_qtype");
	if (cJSON_IsArray(argv)) {
		cJSON_ArrayForEach(it, argv) {
			if (n < REPLAY_MAX_ARGV && cJSON_IsString(it))
				st->argv[n++] = it->valuestring;
		}
		st->argv[n] = NULL;
		ev->argv = st->argv;
		ev->argv_truncated = jbool(o, "argv_truncated") || cJSON_GetArraySize(argv) > REPLAY_MAX_ARGV;
	}
	ev->thread = jbool(o, "thread");
	ev->exit_code = jnum(o, "exit_code", &d) ? (int)d : -1;
	ev->signal = jstr(o, "signal");
	ev->core_dumped = jbool(o, "core_dumped");
	ev->target_pid = jnum(o, "target_pid", &d) ? (int64_t)d : -1;
	ev->request = jstr(o, "request");
	args = cJSON_GetObjectItemCaseSensitive(o, "args");
	if (cJSON_IsArray(args)) {
		int i = 0;

		ev->write_args = true;
		cJSON_ArrayForEach(it, args)
			if (i < 6 && cJSON_IsNumber(it))
				ev->args[i++] = (uint64_t)it->valuedouble;
	}
	if (jnum(o, "ret", &d)) {
		const char *en = jstr(o, "errno");

		ev->has_ret = true;
		ev->ret = en ? -(int64_t)errno_from_name(en) : (int64_t)d;
	}
	ev->refused = jbool(o, "refused");
	ev->truncated = jbool(o, "truncated");
	ev->kernel_rule = jstr(o, "kernel_rule");
	ev->killed_in_kernel = jbool(o, "killed_in_kernel");
	ev->kernel_trusted = jbool(o, "kernel_trusted");
}

/* ---- the header --------------------------------------------------------------------- */

/* The run's variables as the live run had them: header "vars", or the
 * profile description's "vars", then the options. */
static void vars_from_header(struct profile *p, const cJSON *h)
{
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(h, "options");
	const cJSON *prof = cJSON_GetObjectItemCaseSensitive(h, "profile");
	const cJSON *vars = cJSON_GetObjectItemCaseSensitive(h, "vars"), *it;
	const char *home = jstr(opts, "home"), *cwd = jstr(opts, "cwd");

	profile_set_defaults(p, home, cwd, NULL);
	if (!cJSON_IsObject(vars) && cJSON_IsObject(prof))
		vars = cJSON_GetObjectItemCaseSensitive(prof, "vars");
	if (cJSON_IsObject(vars)) {
		cJSON_ArrayForEach(it, vars) {
			if (cJSON_IsString(it))
				profile_set_var(p, it->string, it->valuestring);
		}
	}
}

static const char *profile_from_header(const cJSON *h)
{
	const cJSON *prof = cJSON_GetObjectItemCaseSensitive(h, "profile");
	const char *name = jstr(h, "profile");

	if (!name && cJSON_IsObject(prof))
		name = jstr(prof, "name");
	return name;
}

static void decoys_from_header(struct engine *e, const cJSON *h)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(h, "decoys"), *it;

	cJSON_ArrayForEach(it, d) {
		const char *where = jstr(it, "where"), *token = jstr(it, "token");

		if (where && token)
			engine_add_decoy(e, where, token);
	}
}

/* "unix_sockets": how the run held pathname unix sockets (the kernel guard
 * or hiding) and the jail's trees; a trace without it is judged as before. */
static void unix_from_header(struct engine *e, const cJSON *h)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(h, "unix_sockets");
	const cJSON *trees = cJSON_GetObjectItemCaseSensitive(u, "trees"), *it;
	enum engine_unix_mode mode = engine_unix_mode_from_name(jstr(u, "guard"));
	struct engine_unix_tree t[64];
	size_t n = 0;

	if (mode == ENGINE_UNIX_UNKNOWN)
		return;
	cJSON_ArrayForEach(it, trees) {
		const char *path = jstr(it, "path");

		if (path && n < ARRAY_SIZE(t))
			t[n++] = (struct engine_unix_tree){ path, jbool(it, "own") };
	}
	engine_set_unix_trees(e, mode, t, n);
}

static void command_from_header(struct engine *e, const cJSON *h)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(h, "argv"), *it;
	const char *v[REPLAY_MAX_ARGV + 1];
	size_t n = 0;

	cJSON_ArrayForEach(it, argv)
		if (n < REPLAY_MAX_ARGV && cJSON_IsString(it))
			v[n++] = it->valuestring;
	v[n] = NULL;
	engine_set_command(e, v);
}

/* ---- the command ---------------------------------------------------------------------- */

struct replay_opts {
	const char *trace, *profile, *report;
	const char *sarif, *baseline, *write_baseline;
};

/* The recorded command and its directory, for --sarif (requirements files). */
struct replay_cmd {
	char **argv;
	char *cwd;
};

static void cmd_from_header(struct replay_cmd *c, const cJSON *h)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(h, "argv"), *it;
	const char *cwd = jstr(cJSON_GetObjectItemCaseSensitive(h, "options"), "cwd");
	size_t n = 0;

	c->argv = xcalloc((size_t)cJSON_GetArraySize(argv) + 1, sizeof(*c->argv));
	cJSON_ArrayForEach(it, argv)
		if (cJSON_IsString(it))
			c->argv[n++] = xstrdup(it->valuestring);
	c->cwd = cwd ? xstrdup(cwd) : NULL;
}

static void cmd_free(struct replay_cmd *c)
{
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c->cwd);
}

static int parse_args(int argc, char **argv, struct replay_opts *o)
{
	static const struct option lo[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "report", required_argument, NULL, 'r' },
		{ "sarif", required_argument, NULL, 's' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "write-baseline", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->profile = optarg; break;
		case 'r': o->report = optarg; break;
		case 's': o->sarif = optarg; break;
		case 'b': o->baseline = optarg; break;
		case 'w': o->write_baseline = optarg; break;
		case 'h': usage(stdout); exit(0);
		case ':':
			warnx_("replay: %s needs a value; see pipjail replay --help", argv[optind - 1]);
			return -1;
		default:
			warnx_("replay: unknown option %s; see pipjail replay --help", argv[optind - 1]);
			return -1;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return -1;
	}
	o->trace = argv[optind];
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_opts o = { 0 };
	struct trace_reader *r = NULL;
	struct profile *p = NULL;
	struct engine *e = NULL;
	cJSON *obj = NULL;
	struct engine_outcome out = { .command_code = -1 };
	struct replay_cmd cmd = { 0 };
	struct ci_run *ci = NULL;
	autoclose int report_fd = -1;
	char err[1024];
	int rc, code = EXIT_PIPJAIL_ERROR;
	bool have_summary = false;

	cmd_drop_privileges();
	if (parse_args(argc, argv, &o) < 0)
		return EXIT_PIPJAIL_ERROR;
	if (o.report) {
		report_fd = open(o.report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (report_fd < 0) {
			warn_errno("replay: --report %s", o.report);
			return EXIT_PIPJAIL_ERROR;
		}
	}
	r = trace_reader_open(o.trace, err, sizeof(err));
	if (!r) {
		warnx_("replay: %s", err);
		return EXIT_PIPJAIL_ERROR;
	}
	rc = trace_reader_next(r, &obj, err, sizeof(err));
	if (rc <= 0 || strcmp(cJSON_GetObjectItemCaseSensitive(obj, "type")->valuestring, "header")) {
		warnx_("replay: %s: %s", o.trace, rc < 0 ? err : rc == 0 ? "empty file: no header line"
			: "line 1: expected the trace header");
		goto out;
	}
	{
		const char *spec = o.profile ? o.profile : profile_from_header(obj);

		p = profile_load(spec ? spec : "default", NULL, err, sizeof(err));
		if (!p && !o.profile && spec) {
			/* The run's profile is not here: judge by the default one. */
			warnx_("replay: the trace's profile \"%s\" is not available (%s); using \"default\"",
			       spec, err);
			p = profile_load("default", NULL, err, sizeof(err));
		}
		if (!p) {
			warnx_("%s", err);
			goto out;
		}
	}
	vars_from_header(p, obj);
	e = engine_new(p, false);
	engine_set_replay(e, true);
	engine_set_home(e, p->vars[VAR_HOME]);
	decoys_from_header(e, obj);
	unix_from_header(e, obj);
	command_from_header(e, obj);
	cmd_from_header(&cmd, obj);
	{
		struct ci_options co = { .sarif_path = o.sarif, .baseline_path = o.baseline,
					 .write_baseline_path = o.write_baseline };

		ci = ci_run_start(&co, e, err, sizeof(err));
		if (!ci) {
			warnx_("replay: %s", err);
			goto out;
		}
	}
	cJSON_Delete(obj);
	obj = NULL;

	while ((rc = trace_reader_next(r, &obj, err, sizeof(err))) > 0) {
		const char *type = cJSON_GetObjectItemCaseSensitive(obj, "type")->valuestring;

		if (have_summary) {
			warnx_("replay: %s: line %lu: a \"%s\" line after the summary", o.trace,
			       trace_reader_line(r), type);
			goto out;
		}
		if (!strcmp(type, "event")) {
			struct trace_event ev;
			struct ev_store st;

			event_from_json(obj, &ev, &st);
			engine_event(e, &ev);
		} else if (!strcmp(type, "note")) {
			engine_note(e, obj);
		} else if (!strcmp(type, "summary")) {
			const cJSON *ex = cJSON_GetObjectItemCaseSensitive(obj, "exit");
			const char *verdict = jstr(obj, "verdict");
			double d;

			have_summary = true;
			if (jnum(obj, "lost", &d))
				out.lost = (uint64_t)d;
			if (verdict && !strcmp(verdict, "incomplete"))
				out.incomplete = true;
			if (jnum(obj, "exit_code", &d))
				out.command_code = (int)d;
			else if (jnum(ex, "code", &d))
				out.command_code = (int)d;
			out.timed_out = jbool(obj, "timed_out");
		} else {
			warnx_("replay: %s: line %lu: a second header", o.trace, trace_reader_line(r));
			goto out;
		}
		cJSON_Delete(obj);
		obj = NULL;
	}
	if (rc < 0) {
		warnx_("replay: %s: %s", o.trace, err);
		goto out;
	}
	if (!have_summary) {
		warnx_("replay: %s ends without a summary line (the run was cut short): the verdict "
		       "can only be \"incomplete\" or \"violation\"", o.trace);
		out.incomplete = true;
	}
	out.trace_path = o.trace;
	engine_set_outcome(e, &out);
	code = engine_exit_code(e, 0);
	report_print(e, stderr, report_use_color(2), code);
	if (report_fd >= 0 && report_write_json_fd(e, report_fd, code) < 0) {
		warn_errno("replay: writing the report %s", o.report);
		code = EXIT_PIPJAIL_ERROR;
	}
	ci_run_finish(ci, e, (const char *const *)cmd.argv, cmd.cwd, code);
	report_verdict_line(e, stderr, code);
out:
	ci_run_free(ci);
	cmd_free(&cmd);
	cJSON_Delete(obj);
	trace_reader_close(r);
	engine_free(e);
	profile_free(p);
	return code;
}
