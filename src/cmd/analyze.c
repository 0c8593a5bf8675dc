/* pipjail analyze PATH: forensic analysis of a suspicious package.
 *
 * The package is installed, offline, into a throwaway virtual environment
 * in a fresh temporary directory, in a jail with the forensic profile in
 * audit mode (nothing killed, everything recorded), with the sinkhole
 * (src/sinkhole.c) in place of the network: DNS answered, every TCP port
 * accepted, what was sent captured and searched for the decoy tokens.
 * With --import every top-level module is imported afterwards (role
 * import); with --fast-time sleeps return at once.  The install is a dry
 * run: the staged environment is discarded, and the temporary directory
 * is removed whatever happens.  Only --out DIR is left on the host.
 *
 * Layout of the temporary directory (root-owned 0711: the user can reach
 * work/ but not list or replace anything at the top):
 *   /var/tmp/pipjail-analyze.XXXXXX/work        the user's, 0700
 *                                  work/in/    a copy of PATH (bound rw)
 *                                  work/venv/  the environment (staged)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <linux/close_range.h>
#include <signal.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cmd/analyze.h"
#include "cmd/cmd.h"
#include "decide/engine.h"
#include "jail/jail.h"
#include "report/report.h"
#include "stage/stage.h"
#include "observe/monitor.h"
#include "run/run.h"
#include "net/net.h"
#include "base/base.h"

extern char **environ;

#define ANALYZE_TMP_PARENT "/var/tmp"
#define WHEELS_DIR         "/usr/share/python-wheels"

static void usage(FILE *f)
{
	fputs("usage: pipjail analyze PATH [--import] [--out DIR] [--fast-time] [--timeout SEC]\n"
	      "                       [--index-url URL] [-v]\n"
	      "       pipjail analyze --batch LIST --out DIR [--jobs N] [--shard I/N]\n"
	      "                       [--retry-errors] [the options above]\n"
	      "       pipjail analyze --merge --batch LIST --out DIR\n"
	      "\n"
	      "Installs PATH (an sdist, a wheel, a source directory, or NAME==VERSION from\n"
	      "--index-url) offline into a throwaway environment, in a jail that records\n"
	      "everything and kills nothing; DNS and every TCP port answer from a sinkhole\n"
	      "inside the jail, so what the package tries to send is captured.  Nothing\n"
	      "persists on the host but --out DIR.\n"
	      "\n"
	      "  --import        import every top-level module afterwards (role import)\n"
	      "  --out DIR       write trace.jsonl, report.json, payloads/, report.html\n"
	      "                  (DIR must not exist or be empty)\n"
	      "  --fast-time     sleeps return at once (delayed payloads show their hand)\n"
	      "  --timeout SEC   kill the jail after SEC seconds (default 300)\n"
	      "  --index-url URL a local package index for NAME==VERSION (pip alone may\n"
	      "                  reach it, through pipjail's proxy)\n"
	      "\n"
	      "--batch LIST analyses every package of LIST (an archive, a wheel or NAME==VERSION\n"
	      "a line; '#' comments), each as above in its own jail, into DIR/pkgs/<key>/, and\n"
	      "writes DIR/summary.json and DIR/index.html; a second run skips what is done.\n"
	      "  --jobs N        N analyses at once (default: the online CPUs)\n"
	      "  --shard I/N     only the packages whose index in LIST is I modulo N\n"
	      "  --retry-errors  analyse again the packages whose result is error or incomplete\n"
	      "  --merge         analyse nothing: write summary.json and index.html from the\n"
	      "                  results in DIR (needs no root)\n"
	      "\n"
	      "Exit: 100 when something was found, 0 when clean, 102 incomplete, 124 timeout,\n"
	      "125 pipjail error.  --batch: 100 when something was found in a package, 0 when\n"
	      "every package has a result and none was found, 102 when a package was cut short\n"
	      "(run again), 128+N when the batch was stopped by signal N.  See docs/fleet.md.\n", f);
}

/* --- doing things as the invoking user ---------------------------------- */

/* --out DIR: created as the user (or an empty one of theirs), with payloads/. */
static void prepare_out(const struct jail_user *u, const char *out)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		autofree char *pl = xasprintf("%s/payloads", out);
		DIR *d;
		struct dirent *e;

		if (user_become(u) < 0) {
			fprintf(stderr, "pipjail: analyze: becoming user %u: %s\n", u->uid, strerror(errno));
			_exit(EXIT_PIPJAIL_ERROR);
		}
		if (mkdir(out, 0755) < 0) {
			if (errno != EEXIST || !(d = opendir(out))) {
				fprintf(stderr, "pipjail: analyze: --out %s: %s\n", out, strerror(errno));
				_exit(1);
			}
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
					fprintf(stderr, "pipjail: analyze: --out %s: the directory is not "
						"empty; name a new one\n", out);
					_exit(1);
				}
			closedir(d);
		}
		if (mkdir(pl, 0755) < 0) {
			fprintf(stderr, "pipjail: analyze: %s: %s\n", pl, strerror(errno));
			_exit(1);
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		exit(EXIT_PIPJAIL_ERROR);
}

/* A user name that looks like anyone's and is nobody's on this host. */
static char *pick_fake_user(const char *real)
{
	static const char *const names[] = {
		"alex", "sam", "jordan", "maria", "chris", "dana", "kim", "lee", "nina", "omar",
		"pat", "ravi", "sara", "tom", "yuki", "lena", "marc", "ines", "felix", "ana",
	};

	for (int tries = 0; tries < 64; tries++) {
		unsigned char r[2];
		char *n;

		random_bytes(r, sizeof(r));
		if (r[1] % 3)
			n = xstrdup(names[r[0] % ARRAY_SIZE(names)]);
		else
			n = xasprintf("%s%u", names[r[0] % ARRAY_SIZE(names)], 1u + r[1] % 99);
		if (strcmp(n, real) != 0 && !getpwnam(n))
			return n;
		free(n);
	}
	return xstrdup("devuser");
}

/* --- the analysis -------------------------------------------------------- */

bool analyze_option(int c, const char *arg, struct analyze_opts *o)
{
	switch (c) {
	case ANALYZE_O_IMPORT: o->import = true; return true;
	case ANALYZE_O_OUT:    o->out = arg; return true;
	case ANALYZE_O_FAST:   o->fast_time = true; return true;
	case ANALYZE_O_INDEX:  o->index_url = arg; return true;
	case 'v':              o->verbose++; pj_verbose++; return true;
	case ANALYZE_O_TIMEOUT:
		if (!parse_uint(arg, 1, 7 * 86400, &o->timeout_s))
			die("--timeout %s: expected a whole number of seconds", arg);
		return true;
	}
	return false;
}

static void parse(int argc, char **argv, struct analyze_opts *o)
{
	static const struct option opts[] = {
		ANALYZE_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->timeout_s = ANALYZE_TIMEOUT_S;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		if (analyze_option(c, optarg, o))
			continue;
		switch (c) {
		case 'h':      usage(stdout); exit(0);
		case ':':      die("%s: missing its value; see pipjail analyze --help", argv[optind - 1]);
		default:       die("unknown option %s; see pipjail analyze --help", argv[optind - 1]);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(EXIT_PIPJAIL_ERROR);
	}
	o->path = argv[optind];
}

/* The throwaway place: TOP (root, 0711), TOP/work (the user, 0700). */
static char *make_tmp(const struct jail_user *u, int *top_parent_fd)
{
	char tmpl[] = ANALYZE_TMP_PARENT "/pipjail-analyze.XXXXXX";
	autofree char *work = NULL;

	if (!mkdtemp(tmpl))
		die_errno("creating a temporary directory in %s", ANALYZE_TMP_PARENT);
	*top_parent_fd = open(ANALYZE_TMP_PARENT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	work = xasprintf("%s/work", tmpl);
	if (*top_parent_fd < 0 || chmod(tmpl, 0711) < 0 || mkdir(work, 0700) < 0 ||
	    chown(work, u->uid, u->gid) < 0) {
		warn_errno("preparing %s", tmpl);
		if (*top_parent_fd >= 0)
			rmtree_at(*top_parent_fd, strrchr(tmpl, '/') + 1);
		exit(EXIT_PIPJAIL_ERROR);
	}
	return xstrdup(tmpl);
}

static const char *const host_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "PIP_NO_CACHE_DIR=1",
	"PIP_DISABLE_PIP_VERSION_CHECK=1", "PYTHONDONTWRITEBYTECODE=1", NULL,
};

/* The environment, with pip and wheel from Debian's wheels (so that a
 * setup.py project builds a wheel, the PEP 517 way).  The wheels are pure
 * Python: unpacking them into site-packages installs them, in a fraction
 * of the time ensurepip takes.  Trusted code only: nothing of the package
 * runs here. */
#define UNPACK_WHEELS                                                                  \
	"import glob, sys, sysconfig, zipfile\n"                                        \
	"sp = sysconfig.get_paths()['purelib']\n"                                       \
	"for name in ('pip', 'wheel'):\n"                                               \
	"    found = sorted(glob.glob(sys.argv[1] + '/' + name + '-*-py3-none-any.whl'))\n" \
	"    if not found:\n"                                                           \
	"        sys.exit('no ' + name + ' wheel in ' + sys.argv[1])\n"                 \
	"    zipfile.ZipFile(found[-1]).extractall(sp)\n"

static int make_venv(const struct jail_user *u, const char *venv)
{
	autofree char *py = xasprintf("%s/bin/python", venv);
	char *mk[] = { "/usr/bin/python3", "-m", "venv", "--without-pip", (char *)venv, NULL };
	char *unpack[] = { py, "-I", "-c", UNPACK_WHEELS, WHEELS_DIR, NULL };

	if (run_as_user(u, mk, (char *const *)host_env, true, "/") != 0 ||
	    run_as_user(u, unpack, (char *const *)host_env, false, "/") != 0) {
		warnx_("creating the environment %s failed", venv);
		return -1;
	}
	return 0;
}

/* NAME==VERSION, for pip to fetch from --index-url: not a file. */
static bool is_requirement(const char *path)
{
	return access(path, F_OK) < 0 && strstr(path, "==") && !strchr(path, '/');
}

/* PATH copied into work/in as the user: the jail never sees the original,
 * and an in-tree build writes into the copy.  *copy is the copy's path, or
 * NULL when PATH is a requirement; -1 when it cannot be copied (said why). */
static int copy_input(const struct jail_user *u, const char *path, const char *work, char **copy)
{
	autofree char *in = xasprintf("%s/in", work);
	char *mkin[] = { "/bin/mkdir", "-p", in, NULL };
	const char *base;
	char *dst;

	*copy = NULL;
	if (run_as_user(u, mkin, (char *const *)host_env, false, "/") != 0) {
		warnx_("creating %s failed", in);
		return -1;
	}
	if (is_requirement(path))
		return 0;
	base = strrchr(path, '/');
	base = base && base[1] ? base + 1 : path;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || base[0] == '\0')
		base = "src";
	dst = xasprintf("%s/%s", in, base);
	{
		char *cp[] = { "/bin/cp", "-R", "-P", "--", (char *)path, dst, NULL };

		if (run_as_user(u, cp, (char *const *)host_env, false, NULL) != 0) {
			warnx_("%s: cannot be read (as user %s)", path, u->name);
			free(dst);
			return -1;
		}
	}
	*copy = dst;
	return 0;
}

static char **build_argv(const char *venv, const char *target, const char *spec,
			 const struct analyze_opts *o)
{
	char **a = xcalloc(16, sizeof(char *));
	size_t n = 0;

	a[n++] = xasprintf("%s/bin/python", venv);
	a[n++] = xstrdup("-m");
	a[n++] = xstrdup("pip");
	a[n++] = xstrdup("install");
	a[n++] = xstrdup("--no-input");
	a[n++] = xstrdup("--disable-pip-version-check");
	if (o->index_url) {
		a[n++] = xstrdup("--index-url");
		a[n++] = xstrdup(o->index_url);
	} else {
		a[n++] = xstrdup("--no-index");
	}
	a[n++] = xstrdup("--find-links");
	a[n++] = xstrdup(WHEELS_DIR);
	a[n++] = xstrdup(target ? target : spec);
	return a;
}

/* SIGINT, SIGTERM and SIGHUP during the set-up are noted, not fatal: the
 * analysis then does not start, and the temporary directory goes as
 * always (the jail's supervisor handles them from its start on).
 * Descriptors this process inherited (a batch's lock on the package) stay
 * with it and never reach the jail's commands. */
static volatile sig_atomic_t setup_signal;

static void on_setup_signal(int sig)
{
	if (!setup_signal)
		setup_signal = sig;
}

static void catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_setup_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
}

/* 128+N when signal N came during the set-up, else code. */
static int interrupted(int code)
{
	if (!setup_signal)
		return code;
	warnx_("analyze: interrupted (signal %d) before the analysis started", (int)setup_signal);
	return 128 + setup_signal;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = { 0 };
	struct jail_config cfg = { 0 };
	struct run_opts opt = { 0 };
	autofree char *top = NULL, *work = NULL, *venv = NULL, *target = NULL, *real_home = NULL;
	autofree char *trace = NULL, *report = NULL;
	autoclose int top_parent = -1;
	const char *set[4];
	char proxy[2][64];
	size_t n_set = 0, n_env;
	char **cmd = NULL;
	int code;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--batch") || !strncmp(argv[i], "--batch=", 8) ||
		    !strcmp(argv[i], "--merge"))
			return cmd_batch(argc, argv);
	parse(argc, argv, &o);
	if (!cmd_privileged())
		die("pipjail analyze needs root to build the jail: run it with sudo");
	if (is_requirement(o.path) && !o.index_url)
		die("%s: not a file; a NAME==VERSION requirement needs --index-url", o.path);
	catch_interrupts();
	jail_config_init(&cfg);
	run_opts_init(&opt);
	if (o.out) {
		prepare_out(&cfg.user, o.out);
		opt.sink_out = o.out;
		trace = xasprintf("%s/trace.jsonl", o.out);
		report = xasprintf("%s/report.json", o.out);
	}
	top = make_tmp(&cfg.user, &top_parent);
	work = xasprintf("%s/work", top);
	venv = xasprintf("%s/venv", work);
	if (make_venv(&cfg.user, venv) < 0) {
		code = interrupted(EXIT_PIPJAIL_ERROR);
		goto cleanup;
	}
	code = copy_input(&cfg.user, o.path, work, &target) < 0 ? EXIT_PIPJAIL_ERROR : 0;
	code = interrupted(code);
	if (code)
		goto cleanup;

	cmd = build_argv(venv, target, o.path, &o);
	cfg.argv = cmd;
	opt.is_pip = true;
	cfg.cwd = xasprintf("%s/in", work);
	opt.target_env = venv;
	jail_config_bind(&cfg, "the analysis input", cfg.cwd, true);
	jail_config_identity(&cfg);
	decoys_generate(&cfg.decoys);
	/* A name and a home of this run: the invoker's own would say whose
	 * machine this is, and a fixed one would say "sandbox". */
	cfg.fake_user = pick_fake_user(cfg.user.name);
	real_home = cfg.user.home;
	cfg.user.home = xasprintf("/home/%s", cfg.fake_user);
	if (o.index_url) {
		snprintf(proxy[0], sizeof(proxy[0]), "HTTP_PROXY=http://127.0.0.1:%d", PIPJAIL_PROXY_PORT);
		snprintf(proxy[1], sizeof(proxy[1]), "HTTPS_PROXY=http://127.0.0.1:%d", PIPJAIL_PROXY_PORT);
		set[n_set++] = proxy[0];
		set[n_set++] = proxy[1];
	}
	cfg.env = env_build((char *const *)host_env, NULL, 0, set, n_set, cfg.user.home, cfg.fake_user,
			    &n_env);
	decoys_add_env(&cfg.decoys, &cfg.env, &n_env);
	cfg.net = NET_SINKHOLE;
	cfg.fast_time = o.fast_time;
	cfg.notify_sock = -1;
	opt.audit = true;
	opt.dry_run = true;
	opt.import_check = o.import;
	opt.profile_name = "forensic";
	opt.timeout_s = o.timeout_s;
	opt.trace_path = trace;
	opt.report_path = report;
	/* pip alone reaches the index, through the egress proxy (src/egress.c),
	 * which takes its allowed hosts from pip's --index-url. */
	opt.sink_proxy = o.index_url != NULL;
	debugx(1, "analyze: %s in %s as user '%s' on host '%s'", o.path, work, cfg.fake_user,
	       cfg.hostname);

	code = jail_run(&cfg, &opt);

	if (o.out) {
		autofree char *html = xasprintf("%s/report.html", o.out);
		char err[512];

		if (html_report(&cfg.user, trace, report, html, err, sizeof(err)) < 0)
			warnx_("report.html: %s", err);
		else
			fprintf(stderr, "pipjail: analyze: report in %s/report.html\n", o.out);
	}
	for (size_t i = 0; cmd[i]; i++)
		free(cmd[i]);
	free(cmd);
	cfg.argv = NULL;
	free(cfg.user.home);
	cfg.user.home = xstrdup(real_home);
cleanup:
	/* Whatever happened: nothing of the analysis stays. */
	if (rmtree_at(top_parent, strrchr(top, '/') + 1) < 0)
		warn_errno("removing %s", top);
	jail_config_free(&cfg);
	return code;
}
