/* pipjail analyze --batch LIST --out DIR [--jobs N] [--shard I/N]
 * pipjail analyze --merge --batch LIST --out DIR
 *
 * Every package of LIST is analysed by a `pipjail analyze` of its own (a
 * child: fork and exec of this very binary), with its own jail, sinkholes
 * and timeout, into DIR/pkgs/<key>/; up to --jobs at once.  The batch
 * holds a lock on DIR/pkgs/<key>.lock while a package is analysed (two
 * batches on one DIR, Slurm's shards, never do one package twice), and
 * writes DIR/pkgs/<key>/result.json last, atomically, only when the
 * analysis really ended (batch_summary.c).  What has a result is skipped
 * the next time; what was cut short (a kill, a reboot) has none and is
 * analysed again from scratch.  At the end, and with --merge alone,
 * DIR/summary.json and DIR/index.html.  docs/fleet.md tells the story. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#include "cmd/batch.h"
#include "cmd/cmd.h"

/* The child gets its --timeout, then this long to end on its own, then a
 * SIGTERM, then as long again before a SIGKILL. */
#define OVERRUN_GRACE_S 120
#define KILL_GRACE_S    30
#define BUSY_RETRY_S    2
#define NS              1000000000ull

struct run_state {
	struct batch *b;
	size_t selected, done, found, cut, running, ran;
	double ran_s;
	uint64_t t0;
	int stop_sig;
	bool tty, progress_shown;
};

static void __attribute__((format(printf, 1, 2), noreturn)) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pipjail: analyze: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see pipjail analyze --help\n");
	exit(EXIT_PIPJAIL_ERROR);
}

static void parse(int argc, char **argv, struct batch_opts *o)
{
	enum { O_BATCH = ANALYZE_O_NEXT, O_MERGE, O_JOBS, O_SHARD, O_RETRY };
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, O_BATCH },
		{ "merge", no_argument, NULL, O_MERGE },
		{ "jobs", required_argument, NULL, O_JOBS },
		{ "shard", required_argument, NULL, O_SHARD },
		{ "retry-errors", no_argument, NULL, O_RETRY },
		ANALYZE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v, i, n;
	bool jobs = false, shard = false;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char *slash;
	int c;

	*o = (struct batch_opts){ .a.timeout_s = ANALYZE_TIMEOUT_S,
				  .jobs = cpus > 0 ? (unsigned)cpus : 1, .shard_n = 1 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":v", opts, NULL)) != -1) {
		if (analyze_option(c, optarg, &o->a))
			continue;
		switch (c) {
		case O_BATCH: o->list = optarg; break;
		case O_MERGE: o->merge = true; break;
		case O_RETRY: o->retry_errors = true; break;
		case O_JOBS:
			if (!parse_uint(optarg, 1, 256, &v))
				usage_error("--jobs %s: expected a whole number from 1 to 256", optarg);
			o->jobs = (unsigned)v;
			jobs = true;
			break;
		case O_SHARD:
			slash = strchr(optarg, '/');
			if (!slash || (*slash = '\0', !parse_uint(optarg, 0, 1000000, &i)) ||
			    !parse_uint(slash + 1, 1, 1000000, &n) || i >= n)
				usage_error("--shard: expected I/N with 0 <= I < N, such as 3/8");
			*slash = '/';
			o->shard_i = (unsigned)i;
			o->shard_n = (unsigned)n;
			shard = true;
			break;
		case ':':     usage_error("%s: missing its value", argv[optind - 1]);
		default:      usage_error("%s: unknown option for a batch", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_error("%s: a batch takes its packages from LIST, not from the command line",
			    argv[optind]);
	if (!o->list || !o->a.out)
		usage_error("--batch LIST and --out DIR are both needed");
	if (o->merge && (jobs || shard || o->retry_errors))
		usage_error("--merge analyses nothing: --jobs, --shard and --retry-errors do not "
			    "apply");
}

/* --- reporting progress ------------------------------------------------- */

static void clear_progress(struct run_state *s)
{
	if (s->progress_shown)
		fputs("\r\033[K", stderr);
	s->progress_shown = false;
}

static void show_progress(struct run_state *s)
{
	uint64_t now = now_ns();
	size_t left = s->selected - s->done - s->cut;
	char eta[32] = "--";

	if (!s->tty)
		return;
	if (s->ran && left) {
		/* what is left of the running ones, and the others at the mean */
		double per = s->ran_s / (double)s->ran, work = per * (double)(left - s->running);
		unsigned long secs;

		for (size_t i = 0; i < s->b->n; i++)
			if (s->b->pkgs[i].state == PKG_RUNNING) {
				double spent = (double)(now - s->b->pkgs[i].start_ns) / NS;

				work += spent < per ? per - spent : 0;
			}
		secs = (unsigned long)(work / (double)(s->b->o.jobs < left ? s->b->o.jobs : left));
		snprintf(eta, sizeof(eta), "%lum%02lus", secs / 60, secs % 60);
	}
	clear_progress(s);
	fprintf(stderr, "pipjail: batch: %zu/%zu done, %zu running, %zu with violations, %s %s, "
		"%.0f s", s->done, s->selected, s->running, s->found, s->stop_sig ? "stopping;" : "ETA",
		s->stop_sig ? "" : eta, (double)(now - s->t0) / NS);
	fflush(stderr);
	s->progress_shown = true;
}

/* One line a package: LIST:LINE, the entry, what came of it. */
static void say(struct run_state *s, const struct batch_pkg *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct run_state *s, const struct batch_pkg *p, const char *fmt, ...)
{
	va_list ap;

	clear_progress(s);
	fprintf(stderr, "pipjail: batch: %s:%u: %s: ", s->b->o.list, p->lineno, p->entry);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	show_progress(s);
}

static void say_result(struct run_state *s, const struct batch_pkg *p, const cJSON *r)
{
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(r, "violations_by_rule"), *rule;
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(r, "reason");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(r, "exit");
	char what[512] = "";
	size_t n = 0;

	cJSON_ArrayForEach(rule, rules)
		n += (size_t)snprintf(what + n, n < sizeof(what) ? sizeof(what) - n : 0, "%s%s %.0f",
				      n ? ", " : " (", rule->string, rule->valuedouble);
	if (n && n < sizeof(what) - 1)
		strcat(what, ")");
	say(s, p, "[%zu/%zu] %s%s%s%s, exit %.0f, %.1f s", s->done, s->selected,
	    batch_result_verdict(r, NULL), what, cJSON_IsString(reason) ? ": " : "",
	    cJSON_IsString(reason) ? reason->valuestring : "",
	    cJSON_IsNumber(ex) ? ex->valuedouble : -1.0,
	    cJSON_GetObjectItemCaseSensitive(r, "duration_s")->valuedouble);
}

/* --- one package's analysis --------------------------------------------- */

static char **child_argv(const struct batch *b, const struct batch_pkg *p, char *out)
{
	char **a = xcalloc(20, sizeof(char *));
	size_t n = 0;

	a[n++] = "pipjail";
	a[n++] = "analyze";
	a[n++] = "--out";
	a[n++] = out;
	if (b->o.a.import)
		a[n++] = "--import";
	if (b->o.a.fast_time)
		a[n++] = "--fast-time";
	a[n++] = "--timeout";
	a[n++] = xasprintf("%llu", b->o.a.timeout_s);
	if (b->o.a.index_url) {
		a[n++] = "--index-url";
		a[n++] = (char *)b->o.a.index_url;
	}
	for (int v = 0; v < b->o.a.verbose && v < 3; v++)
		a[n++] = "-v";
	a[n++] = "--";
	a[n++] = p->spec;
	return a;
}

static void __attribute__((noreturn)) exec_child(const struct batch *b, const struct batch_pkg *p,
						 int log_fd, const sigset_t *mask, pid_t parent)
{
	autofree char *out = batch_pkg_path(b, p, "");
	char **argv = child_argv(b, p, out);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* its own process group: a Ctrl-C reaches the batch, which tells
	 * every child once; the batch's death ends the child cleanly */
	setpgid(0, 0);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(128 + SIGTERM);
	if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
		_exit(EXIT_PIPJAIL_ERROR);
	/* analyze keeps the lock until its very end (and out of the jail) */
	fcntl(p->lock_fd, F_SETFD, 0);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "pipjail: batch: exec /proc/self/exe: %s\n", strerror(errno));
	_exit(EXIT_PIPJAIL_ERROR);
}

static void unlock(struct batch_pkg *p)
{
	closep(&p->lock_fd);
}

/* Start p's analysis: its lock taken, what an earlier run left of it
 * removed, the child started.  false when it was not started (busy,
 * done meanwhile by another batch, or the folder is not the user's). */
static bool launch(struct run_state *s, struct batch_pkg *p, const sigset_t *mask)
{
	struct batch *b = s->b;
	autofree char *lock = batch_pkg_path(b, p, ".lock");
	autofree char *log = batch_pkg_path(b, p, ".log");
	autoclose int log_fd = -1;
	cJSON *r;
	int err, locked;

	p->lock_fd = open_as_user(&b->user, lock, O_RDONLY | O_CREAT, 0644);
	if (p->lock_fd < 0) {
		say(s, p, "cannot lock %s: %s", lock, strerror(errno));
		p->state = PKG_CUT;
		s->cut++;
		return false;
	}
	locked = flock(p->lock_fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
	if (locked && locked != EWOULDBLOCK) {
		/* a file system without locks (Lustre without -o flock) */
		say(s, p, "cannot lock %s (%s): analysed without the lock that keeps another batch "
		    "on %s from doing it too", lock, strerror(locked), b->o.a.out);
	} else if (locked) {
		if (p->state != PKG_BUSY)
			debugx(1, "batch: %s is being analysed by another process: later", p->key);
		unlock(p);
		p->state = PKG_BUSY;
		p->retry_ns = now_ns() + BUSY_RETRY_S * NS;
		return false;
	}
	r = batch_load_result(b, p);
	if (r && !(b->o.retry_errors && batch_result_retryable(r))) {
		/* another batch finished it while we waited for the lock */
		p->state = PKG_DONE;
		s->done++;
		p->violation = !strcmp(batch_result_verdict(r, NULL), "violation");
		s->found += p->violation;
		cJSON_Delete(r);
		unlock(p);
		return false;
	}
	cJSON_Delete(r);
	err = batch_clear_pkg(b, p);
	if (!err)
		log_fd = open_as_user(&b->user, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (err || log_fd < 0) {
		say(s, p, "cannot clear %s/%s: %s", b->pkgs_dir, p->key, strerror(err ? err : errno));
		unlock(p);
		p->state = PKG_CUT;
		s->cut++;
		return false;
	}
	p->start_ns = now_ns();
	p->deadline_ns = p->start_ns + (b->o.a.timeout_s + OVERRUN_GRACE_S) * NS;
	p->watchdog = 0;
	fflush(stderr);
	p->pid = fork();
	if (p->pid < 0)
		die_errno("fork");
	if (p->pid == 0)
		exec_child(b, p, log_fd, mask, getppid());
	p->state = PKG_RUNNING;
	s->running++;
	debugx(1, "batch: %s: pid %d: pipjail analyze %s", p->key, (int)p->pid, p->spec);
	return true;
}

static void finished(struct run_state *s, struct batch_pkg *p, int status)
{
	double secs = (double)(now_ns() - p->start_ns) / NS;
	time_t started = time(NULL) - (time_t)secs;
	struct tm tm;
	char when[32];
	cJSON *r;

	gmtime_r(&started, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s->running--;
	p->pid = -1;
	r = batch_record(s->b, p, status, secs, when);
	unlock(p);
	if (!r) {
		p->state = PKG_CUT;
		s->cut++;
		if (WIFSIGNALED(status))
			say(s, p, "cut short: pipjail analyze was killed by signal %d; no result "
			    "(a second run analyses it again)", WTERMSIG(status));
		else
			say(s, p, "cut short (exit %d); no result (a second run analyses it again)",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return;
	}
	p->state = PKG_DONE;
	p->violation = !strcmp(batch_result_verdict(r, NULL), "violation");
	s->found += p->violation;
	s->done++;
	s->ran++;
	s->ran_s += secs;
	say_result(s, p, r);
	cJSON_Delete(r);
}

/* --- the scheduler ---------------------------------------------------------- */

static struct batch_pkg *next_ready(struct batch *b, uint64_t now)
{
	for (size_t i = 0; i < b->n; i++) {
		struct batch_pkg *p = &b->pkgs[i];

		if (p->state == PKG_TODO || (p->state == PKG_BUSY && p->retry_ns <= now))
			return p;
	}
	return NULL;
}

static bool work_left(const struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->pkgs[i].state == PKG_TODO || b->pkgs[i].state == PKG_BUSY)
			return true;
	return false;
}

static struct batch_pkg *by_pid(struct batch *b, pid_t pid)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->pkgs[i].state == PKG_RUNNING && b->pkgs[i].pid == pid)
			return &b->pkgs[i];
	return NULL;
}

static void tell_children(struct batch *b, int sig)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->pkgs[i].state == PKG_RUNNING)
			kill(b->pkgs[i].pid, sig);
}

/* A child that outlives its own --timeout by far: SIGTERM, then SIGKILL. */
static void watchdog(struct run_state *s, uint64_t now)
{
	for (size_t i = 0; i < s->b->n; i++) {
		struct batch_pkg *p = &s->b->pkgs[i];

		if (p->state != PKG_RUNNING || now < p->deadline_ns || p->watchdog >= 2)
			continue;
		p->watchdog++;
		p->deadline_ns = now + KILL_GRACE_S * NS;
		say(s, p, "pipjail analyze runs %llu s past its --timeout: %s", (unsigned long long)
		    OVERRUN_GRACE_S, p->watchdog == 1 ? "stopping it" : "killing it");
		kill(p->pid, p->watchdog == 1 ? SIGTERM : SIGKILL);
	}
}

static void on_signals(struct run_state *s, int sfd)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sig = (int)si.ssi_signo;

		if (sig == SIGCHLD)
			continue;
		if (!s->stop_sig) {
			clear_progress(s);
			warnx_("batch: signal %d: stopping the %zu running analyses (they get no "
			       "result; a second run does them again)", sig, s->running);
			s->stop_sig = sig;
		}
		/* each signal once more to each child: a second one kills its jail */
		tell_children(s->b, SIGTERM);
	}
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct batch_pkg *p = by_pid(s->b, pid);

		if (p)
			finished(s, p, status);
	}
}

static void schedule(struct run_state *s)
{
	struct batch *b = s->b;
	sigset_t mask, old;
	struct pollfd pfd;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
		die_errno("sigprocmask");
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die_errno("signalfd");
	pfd = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		uint64_t now = now_ns();
		struct batch_pkg *p;

		while (!s->stop_sig && s->running < b->o.jobs && (p = next_ready(b, now)))
			launch(s, p, &old);
		if (s->running == 0 && (s->stop_sig || !work_left(b)))
			break;
		show_progress(s);
		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			die_errno("poll");
		on_signals(s, sfd);
		watchdog(s, now_ns());
	}
	clear_progress(s);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* What is in this shard, and what of it already has its result. */
static void select_packages(struct run_state *s)
{
	struct batch *b = s->b;

	for (size_t i = 0; i < b->n; i++) {
		struct batch_pkg *p = &b->pkgs[i];
		bool dup = false;
		cJSON *r;

		if (p->index % b->o.shard_n != b->o.shard_i)
			continue;
		for (size_t j = 0; j < i && !dup; j++)
			if (b->pkgs[j].state != PKG_OTHER && !strcmp(b->pkgs[j].key, p->key)) {
				say(s, p, "the same as line %u: analysed once", b->pkgs[j].lineno);
				dup = true;
			}
		if (dup)
			continue;
		s->selected++;
		p->state = PKG_TODO;
		r = batch_load_result(b, p);
		if (r && !(b->o.retry_errors && batch_result_retryable(r))) {
			p->state = PKG_DONE;
			p->done_before = true;
			p->violation = !strcmp(batch_result_verdict(r, NULL), "violation");
			s->found += p->violation;
			s->done++;
		}
		cJSON_Delete(r);
	}
}

static int batch_exit(const struct run_state *s)
{
	if (s->stop_sig)
		return 128 + s->stop_sig;
	if (s->cut)
		return EXIT_INCOMPLETE;
	return s->found ? EXIT_VIOLATION_FOUND : 0;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->pkgs[i].entry);
		free(b->pkgs[i].spec);
	}
	free(b->pkgs);
	free(b->pkgs_dir);
	free(b->list_abs);
	user_free(&b->user);
}

/* Analyse what is to analyse; summary.json and index.html at the end. */
static int run(struct batch *b)
{
	struct run_state s = { .b = b, .t0 = now_ns(), .tty = isatty(2) == 1 };
	int code;

	if (batch_make_dirs(b) < 0)
		return EXIT_PIPJAIL_ERROR;
	select_packages(&s);
	fprintf(stderr, "pipjail: batch: %s: %zu packages", b->o.list, b->n);
	if (b->o.shard_n > 1)
		fprintf(stderr, ", %zu in shard %u/%u", s.selected, b->o.shard_i, b->o.shard_n);
	fprintf(stderr, "; %zu with a result already, %zu to analyse, %u at once, into %s\n",
		s.done, s.selected - s.done, b->o.jobs, b->pkgs_dir);
	schedule(&s);
	code = batch_exit(&s);
	if (batch_write_summary(b) < 0 && code == 0)
		code = EXIT_PIPJAIL_ERROR;
	fprintf(stderr, "pipjail: batch: %zu of %zu done (%zu analysed now), %zu with violations, "
		"%zu cut short; %s/summary.json, %s/index.html (exit %d)\n", s.done, s.selected,
		s.ran, s.found, s.cut, b->o.a.out, b->o.a.out, code);
	return code;
}

int cmd_batch(int argc, char **argv)
{
	struct batch b = { 0 };
	int code = EXIT_PIPJAIL_ERROR;

	parse(argc, argv, &b.o);
	if (b.o.merge) {
		if (!cmd_privileged())
			cmd_drop_privileges();
	} else if (!cmd_privileged()) {
		die("pipjail analyze --batch needs root to build the jails: run it with sudo "
		    "(--merge alone needs none)");
	}
	user_find_invoker(&b.user);
	b.pkgs_dir = xasprintf("%s/pkgs", b.o.a.out);
	if (batch_read_list(&b) < 0)
		goto out;
	if (!b.o.merge) {
		code = run(&b);
		goto out;
	}
	if (batch_write_summary(&b) == 0) {
		fprintf(stderr, "pipjail: batch: %zu packages; %s/summary.json and %s/index.html "
			"written\n", b.n, b.o.a.out, b.o.a.out);
		code = 0;
	}
out:
	batch_free(&b);
	return code;
}
