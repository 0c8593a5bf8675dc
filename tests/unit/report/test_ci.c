/* CI output: workflow-command escaping, requirements files (origins),
 * the baseline's evidence normalisation and hashing, and the engine with a
 * baseline (a known finding is reported, not counted, not acted on; a new
 * one still fails), with the SARIF and JSON reports that follow. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/baseline.h"
#include "report/ci.h"
#include "decide/engine.h"
#include "report/report.h"
#include "report/sarif.h"
#include "../unit.h"
#include "base/base.h"

static char bundled[PATH_MAX + 16];
static char tmpdir[PATH_MAX];
static uint64_t clock_ns = 1000000000;

/* ---- escaping -------------------------------------------------------------- */

static void test_escape(void)
{
	autofree char *d = ci_escape_data("100% done\r\n::error::x, a:b");
	autofree char *p = ci_escape_property("req,s.txt:1 100%\nx");
	autofree char *plain = ci_escape_data("");
	autofree char *utf8 = ci_escape_property("pip → build_wheel");

	/* a newline in a message cannot start a second workflow command */
	CHECK_STR_EQ(d, "100%25 done%0D%0A::error::x, a:b");
	CHECK_STR_EQ(p, "req%2Cs.txt%3A1 100%25%0Ax");
	CHECK_STR_EQ(plain, "");
	CHECK_STR_EQ(utf8, "pip → build_wheel");
}

/* ---- requirements files -------------------------------------------------------------- */

static void expect_at(const struct origins *o, const char *pkg, unsigned line)
{
	struct origin loc;
	bool found = origins_locate(o, pkg, &loc);

	CHECK(found && loc.requirement && loc.line == line && loc.file &&
	      !strcmp(loc.file, "requirements.txt"),
	      "%s at requirements.txt:%u (got %s:%u%s)", pkg, line, loc.file ? loc.file : "-",
	      loc.line, loc.transitive ? ", transitive" : "");
}

static void test_requirements(void)
{
	const char *text =
		"# pinned\n"                                        /* 1 */
		"requests==2.31.0\n"                                /* 2 */
		"\n"                                                /* 3 */
		"Evil.Pkg[extra] >= 1.0 ; python_version > '3'  # why\n" /* 4 */
		"--index-url http://127.0.0.1:1/simple\n"           /* 5 */
		"numpy \\\n"                                        /* 6 */
		"    ==1.26 \\\n"                                   /* 7 */
		"    --hash=sha256:00\n"                            /* 8 */
		"other @ https://127.0.0.1/other-1.0.tar.gz\n"      /* 9 */
		"./dist/Local_Thing-0.3.tar.gz\n"                   /* 10 */
		"https://127.0.0.1/files/wheelie-1.0-py3-none-any.whl\n" /* 11 */
		"git+https://127.0.0.1/x.git#egg=From_Egg\n"        /* 12 */
		"-e ./editable\n"                                   /* 13 */
		"  indented-pkg\r\n"                                /* 14 */
		"#commented-out\n"                                  /* 15 */
		"git+https://127.0.0.1/y.git\n"                     /* 16: no name */
		"last-one";                                         /* 17: no newline at the end */
	struct origins *o = origins_from_text("requirements.txt", text);
	struct origin loc;

	expect_at(o, "requests", 2);
	expect_at(o, "evil_pkg", 4);
	expect_at(o, "EVIL-PKG", 4);
	expect_at(o, "numpy", 6);
	expect_at(o, "other", 9);
	expect_at(o, "local-thing", 10);
	expect_at(o, "wheelie", 11);
	expect_at(o, "from-egg", 12);
	expect_at(o, "indented_pkg", 14);
	expect_at(o, "last_one", 17);
	CHECK(origins_locate(o, "git", &loc) && loc.transitive, "a VCS URL is not a package named git");
	/* not named: it came in as a dependency; the file as a whole */
	CHECK(origins_locate(o, "commented-out", &loc) && loc.transitive && !loc.requirement &&
	      loc.line == 0, "a package no line names is a dependency of the file");
	CHECK(origins_locate(o, "transitive-dep", &loc) && loc.transitive, "a dependency");
	origins_free(o);

	/* no requirements file: nothing to point at, unless an artifact was named */
	CHECK(!origins_locate(NULL, "x", &loc), "no origins, no location");
}

/* -r on the command line and inside a file (relative to that file), and
 * sdists named on the command line. */
static int open_plain(const char *path, void *ctx)
{
	(void)ctx;
	return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
}

static void write_text(const char *path, const char *text)
{
	CHECK(write_file(path, text) == 0, "writing %s: %s", path, strerror(errno));
}

static void test_requirements_files(void)
{
	autofree char *sub = xasprintf("%s/reqs", tmpdir);
	autofree char *top = xasprintf("%s/requirements.txt", tmpdir);
	autofree char *nested = xasprintf("%s/reqs/base.txt", tmpdir);
	autofree char *loop = xasprintf("%s/reqs/loop.txt", tmpdir);
	const char *argv[] = { "/venv/bin/pip", "install", "--no-index", "-r", "requirements.txt",
			       "./dist/Sdist_Pkg-1.0.tar.gz", "-rmissing.txt", NULL };
	struct origins *o;
	struct origin loc;

	CHECK(mkdir(sub, 0755) == 0, "mkdir %s", sub);
	write_text(top, "alpha\n-r reqs/base.txt\nbeta\n");
	write_text(nested, "gamma\n--requirement=loop.txt\n");
	write_text(loop, "-r base.txt\ndelta\n");
	unsetenv("GITHUB_WORKSPACE");
	unsetenv("CI_PROJECT_DIR");
	o = origins_new(argv, tmpdir, open_plain, NULL);
	CHECK_STR_EQ(origins_base(o), tmpdir);
	CHECK(origins_locate(o, "alpha", &loc) && !strcmp(loc.file, "requirements.txt") && loc.line == 1,
	      "alpha at requirements.txt:1 (%s:%u)", loc.file, loc.line);
	CHECK(origins_locate(o, "beta", &loc) && !strcmp(loc.file, "requirements.txt") && loc.line == 3,
	      "beta at requirements.txt:3");
	CHECK(origins_locate(o, "gamma", &loc) && !strcmp(loc.file, "reqs/base.txt") && loc.line == 1,
	      "gamma in the nested file, relative to the base (%s:%u)", loc.file, loc.line);
	CHECK(origins_locate(o, "delta", &loc) && !strcmp(loc.file, "reqs/loop.txt") && loc.line == 2,
	      "a loop of -r ends (%s:%u)", loc.file, loc.line);
	CHECK(origins_locate(o, "sdist-pkg", &loc) && !strcmp(loc.file, "dist/Sdist_Pkg-1.0.tar.gz") &&
	      !loc.requirement && !loc.transitive,
	      "an sdist on the command line is the artifact (%s)", loc.file);
	CHECK(origins_locate(o, "zeta", &loc) && loc.transitive && !strcmp(loc.file, "requirements.txt"),
	      "an unnamed package points at the first requirements file");
	origins_free(o);

	/* $GITHUB_WORKSPACE is the base when set: paths are relative to the repository */
	setenv("GITHUB_WORKSPACE", sub, 1);
	o = origins_new(argv, tmpdir, open_plain, NULL);
	CHECK(origins_locate(o, "alpha", &loc) && loc.file[0] == '/', "outside the workspace: absolute (%s)",
	      loc.file);
	CHECK(origins_locate(o, "gamma", &loc) && !strcmp(loc.file, "base.txt"), "inside: relative (%s)",
	      loc.file);
	origins_free(o);
	unsetenv("GITHUB_WORKSPACE");

	/* not pip install: -r is not a requirements file (rm -r DIR) */
	{
		const char *rm[] = { "/bin/rm", "-r", "requirements.txt", NULL };

		o = origins_new(rm, tmpdir, open_plain, NULL);
		CHECK(!origins_locate(o, "alpha", &loc), "only pip install's -r is read");
		origins_free(o);
	}
}

/* ---- normalisation and hashing --------------------------------------------------------- */

static void check_norm(const struct baseline_env *env, const char *in, const char *want)
{
	autofree char *out = baseline_normalize(in, env);

	CHECK(out && !strcmp(out, want), "normalize(\"%s\")\n   got \"%s\"\n  want \"%s\"", in,
	      out ? out : "(null)", want);
}

static void test_normalize(void)
{
	const char *tokens[] = { "ghp_0123456789abcdef0123456789abcdef0123", "AKIAXXXXDECOY" };
	const char *wheres[] = { "$GITHUB_TOKEN", "~/.aws/credentials" };
	struct baseline_env env = { .home = "/home/u", .cwd = "/home/u/src/proj",
				    .venv = "/home/u/src/proj/.venv/", .tokens = tokens,
				    .wheres = wheres, .n_tokens = 2 };

	check_norm(&env, "openat /home/u/.ssh/id_rsa", "openat $HOME/.ssh/id_rsa");
	check_norm(&env, "openat /home/u/src/proj/setup.cfg", "openat $CWD/setup.cfg");
	check_norm(&env, "openat /home/u/src/proj/.venv/lib/x.pth (O_WRONLY)",
		   "openat $ENV/lib/x.pth (O_WRONLY)");
	check_norm(&env, "openat /home/u", "openat $HOME");
	/* a path that only starts like the home is not the home */
	check_norm(&env, "openat /home/u2/x /home/u.bak", "openat /home/u2/x /home/u.bak");
	check_norm(&env, "openat /x/home/u/y", "openat /x/home/u/y");
	/* decoy values change every run */
	check_norm(&env, "an exec's argv: curl -H 'Authorization: ghp_0123456789abcdef0123456789abcdef0123'",
		   "an exec's argv: curl -H 'Authorization: <decoy $GITHUB_TOKEN>'");
	check_norm(&env, "a DNS query: AKIAXXXXDECOY.127.0.0.1", "a DNS query: <decoy ~/.aws/credentials>.127.0.0.1");
	/* pip's and Python's temp names */
	check_norm(&env, "exec /bin/sh: sh -c cd /tmp/pip-install-k2j3ab_x/evil-pkg_0123456789abcdef0123456789abcdef",
		   "exec /bin/sh: sh -c cd /tmp/pip-install-*/evil-pkg_*");
	check_norm(&env, "/tmp/pip-build-env-a1b2c3d4/overlay/lib /tmp/pip-ephem-wheel-cache-zzzzzzzz/x",
		   "/tmp/pip-build-env-*/overlay/lib /tmp/pip-ephem-wheel-cache-*/x");
	check_norm(&env, "/tmp/tmpq1w2e3r4/out /tmp/tmpfile_longer_name", "/tmp/tmp*/out /tmp/tmpfile_longer_name");
	check_norm(&env, "pip-23.0.1 pip-install-short", "pip-23.0.1 pip-install-short");
	/* pids */
	check_norm(&env, "openat /proc/1234/environ", "openat /proc/<pid>/environ");
	check_norm(&env, "ptrace refused (EPERM), target pid 4321", "ptrace refused (EPERM), target pid <pid>");
	check_norm(&env, "openat /proc/self/environ /proc/12x", "openat /proc/self/environ /proc/12x");
	check_norm(&env, "rapid 12", "rapid 12");
	check_norm(NULL, "no env at all /home/u", "no env at all /home/u");
	check_norm(&env, "", "");
	/* a home of "/" replaces nothing */
	{
		struct baseline_env root = { .home = "/" };

		check_norm(&root, "openat /etc/passwd", "openat /etc/passwd");
	}
}

/* ---- the engine with a baseline ------------------------------------------------------- */

static struct trace_event base(const char *kind, uint32_t hpid, uint32_t pid)
{
	struct trace_event ev = {
		.kind = kind, .nr = -1, .t_mono_ns = clock_ns, .pid = pid, .tid = pid, .hpid = hpid,
		.htid = hpid, .uid = 1000, .gid = 1000, .comm = "x", .mode = -1, .protocol = -1,
		.port = -1, .target_pid = -1, .exit_code = -1,
	};

	clock_ns += 1000;
	return ev;
}

static void fork_ev(struct engine *e, uint32_t hpid, uint32_t pid, uint32_t chpid, uint32_t cpid)
{
	struct trace_event ev = base("fork", hpid, pid);

	ev.child_hpid = ev.child_htid = chpid;
	ev.child_pid = ev.child_tid = cpid;
	engine_event(e, &ev);
}

static void exec_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *path, const char *cwd,
		    const char *const *argv)
{
	struct trace_event ev = base("exec", hpid, pid);
	const char *b = strrchr(path, '/');

	ev.path = ev.abs = ev.file = ev.exe = path;
	ev.cwd = cwd;
	ev.argv = argv;
	ev.comm = b ? b + 1 : path;
	engine_event(e, &ev);
}

static void open_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *path)
{
	struct trace_event ev = base("open", hpid, pid);

	ev.syscall = "openat";
	ev.nr = 257;
	ev.path = ev.abs = ev.file = path;
	ev.flags = "O_RDONLY";
	ev.has_ret = true;
	ev.ret = 3;
	engine_event(e, &ev);
}

struct kills {
	int n;
};

static int kill_hook(uint32_t hpid, bool whole, void *ctx)
{
	struct kills *k = ctx;

	(void)hpid;
	(void)whole;
	k->n++;
	return 0;
}

/* One run of a hostile build, as another machine and another run see it:
 * its own home, decoy values, pids and temp names. */
struct world {
	const char *home, *token, *gh_token, *tmp, *hex;
	uint32_t pid_base;
	bool also_aws;            /* a new finding */
};

static struct profile *load_default(const char *home)
{
	struct profile_source src = { .dir = bundled };
	char err[1024];
	struct profile *p = profile_load("default", &src, err, sizeof(err));

	if (!p) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	profile_set_defaults(p, home, "/work", NULL);
	return p;
}

static void play(struct engine *e, const struct world *w)
{
	static const char *const pip_argv[] = { "/venv/bin/python3", "/venv/bin/pip", "install",
						"-r", "requirements.txt", NULL };
	autofree char *src = xasprintf("/tmp/pip-install-%s/evil-pkg_%s", w->tmp, w->hex);
	autofree char *ssh = xasprintf("%s/.ssh/id_rsa", w->home);
	autofree char *aws = xasprintf("%s/.aws/credentials", w->home);
	autofree char *proc = xasprintf("/proc/%u/status", w->pid_base + 3);
	const char *hook_argv[] = {
		"/venv/bin/python3",
		"/venv/lib/python3.11/site-packages/pip/_vendor/pyproject_hooks/_in_process/_in_process.py",
		"build_wheel", "/tmp/tmpq1w2e3r4", NULL,
	};
	const char *leak_argv[] = { "/bin/true", w->gh_token, src, proc, NULL };
	uint32_t b = w->pid_base;

	engine_set_command(e, pip_argv + 1);
	engine_set_home(e, w->home);
	engine_add_decoy(e, "~/.ssh/id_rsa", w->token);
	engine_add_decoy(e, "$GITHUB_TOKEN", w->gh_token);
	engine_add_decoy(e, "~/.aws/credentials", "AKIA-DECOY-" "0123456789");
	exec_ev(e, b + 2, 2, "/venv/bin/python3", "/work", pip_argv);
	fork_ev(e, b + 2, 2, b + 3, 3);
	exec_ev(e, b + 3, 3, "/venv/bin/python3", src, hook_argv);
	open_ev(e, b + 3, 3, ssh);
	fork_ev(e, b + 3, 3, b + 4, 4);
	exec_ev(e, b + 4, 4, "/bin/true", src, leak_argv);
	if (w->also_aws)
		open_ev(e, b + 3, 3, aws);
}

static size_t count_rule(const struct engine *e, const char *rule, bool baselined)
{
	size_t n = 0;

	for (size_t i = 0; i < engine_n_violations(e); i++) {
		const struct violation_record *v = engine_violation(e, i);

		n += !strcmp(v->rule, rule) && v->baselined == baselined;
	}
	return n;
}

static char *slurp(const char *path)
{
	autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = xcalloc(1, 1 << 20);

	if (fd < 0 || read_all(fd, buf, (1 << 20) - 1) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void test_baseline_engine(void)
{
	const struct world first = { "/home/alice", "PJDECOY-aaaaaaaaaaaaaaaaaaaaaaaa",
				     "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "k2j3ab_x",
				     "0123456789abcdef0123456789abcdef", 1000, false };
	const struct world second = { "/home/runner", "PJDECOY-bbbbbbbbbbbbbbbbbbbbbbbb",
				      "ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "zz9y8x7w",
				      "fedcba9876543210fedcba9876543210", 5000, false };
	struct world third = second;
	autofree char *bpath = xasprintf("%s/baseline.json", tmpdir);
	autofree char *text = NULL;
	struct profile *p;
	struct engine *e;
	struct baseline *bl;
	struct kills k = { 0 };
	char err[512];
	int fd;

	third.also_aws = true;

	/* 1. a first run finds it, and writes the baseline */
	p = load_default(first.home);
	e = engine_new(p, true);
	engine_set_kill(e, kill_hook, &k);
	play(e, &first);
	CHECK(count_rule(e, "decoy-read", false) == 1 && count_rule(e, "decoy-token", false) == 1,
	      "the first run finds the decoy read and the token (%zu violations)",
	      engine_n_violations(e));
	CHECK(engine_exit_code(e, 0) == EXIT_VIOLATION_KILLED, "killed: %d", engine_exit_code(e, 0));
	fd = open(bpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	/* a longer old content must not survive the rewrite */
	CHECK(write_all(fd, "x", 1) == 0, "old content");
	CHECK(lseek(fd, 100000, SEEK_SET) == 100000 && write_all(fd, "y", 1) == 0, "old tail");
	CHECK(baseline_write_fd(e, fd) == 0, "baseline written: %s", strerror(errno));
	close(fd);
	engine_free(e);
	profile_free(p);
	text = slurp(bpath);
	CHECK(text && strstr(text, "\"pipjail-baseline\"") && strstr(text, "\"evil-pkg\"") &&
	      strstr(text, "openat $HOME/.ssh/id_rsa") && strstr(text, "<decoy $GITHUB_TOKEN>") &&
	      strstr(text, "/tmp/pip-install-*/evil-pkg_*") && strstr(text, "/proc/<pid>/status") &&
	      !strstr(text, first.gh_token) && !strstr(text, "alice"),
	      "the baseline holds normalised evidence, no run-specific values:\n%s", text ? text : "(unreadable)");
	{
		struct stat st;

		CHECK(stat(bpath, &st) == 0 && text && (size_t)st.st_size == strlen(text),
		      "the old, longer file was truncated (%lld bytes)", (long long)st.st_size);
	}

	/* 2. another run, elsewhere: every finding is known */
	bl = baseline_parse(text, strlen(text), "baseline.json", err, sizeof(err));
	CHECK(bl != NULL && baseline_size(bl) >= 2, "baseline parsed: %s", bl ? "" : err);
	if (!bl)
		return;
	p = load_default(second.home);
	e = engine_new(p, true);
	k.n = 0;
	engine_set_kill(e, kill_hook, &k);
	engine_set_baseline(e, baseline_match, bl);
	play(e, &second);
	CHECK(engine_n_violations(e) >= 2 && engine_n_baselined(e) == engine_n_violations(e),
	      "every finding of the second run is baselined (%zu of %zu)", engine_n_baselined(e),
	      engine_n_violations(e));
	CHECK(k.n == 0, "a baselined finding is not acted on (%d kills)", k.n);
	CHECK_STR_EQ(engine_verdict(e), "clean");
	CHECK(!engine_has_violations(e), "nothing counts");
	CHECK_INT_EQ(engine_exit_code(e, 0), 0);
	CHECK_INT_EQ(engine_exit_code(e, 1), 1);
	{
		cJSON *r = report_json(e, 0);
		const cJSON *vs = cJSON_GetObjectItemCaseSensitive(r, "violations"), *it;
		const cJSON *nb = cJSON_GetObjectItemCaseSensitive(r, "baselined");
		bool all = cJSON_GetArraySize(vs) > 0;

		cJSON_ArrayForEach(it, vs)
			all = all && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "baselined"));
		CHECK(all && cJSON_IsNumber(nb) && nb->valuedouble == (double)engine_n_baselined(e),
		      "the JSON report marks them baselined");
		cJSON_Delete(r);
	}
	{
		struct sarif_ctx sc = { .exit_code = 0, .baseline = true };
		cJSON *log = sarif_json(e, &sc);
		char *s = cJSON_PrintUnformatted(log);

		CHECK(s && strstr(s, "\"suppressions\":[{\"kind\":\"external\",\"status\":\"accepted\"") &&
		      strstr(s, "\"baselineState\":\"unchanged\"") && strstr(s, "\"level\":\"note\"") &&
		      !strstr(s, "\"level\":\"error\",\"message\""),
		      "SARIF: baselined results are suppressed notes: %.400s", s);
		free(s);
		cJSON_Delete(log);
	}
	engine_free(e);
	profile_free(p);

	/* 3. the same with a new finding: that one counts, and is acted on */
	p = load_default(third.home);
	e = engine_new(p, true);
	k.n = 0;
	engine_set_kill(e, kill_hook, &k);
	engine_set_baseline(e, baseline_match, bl);
	play(e, &third);
	CHECK(count_rule(e, "decoy-read", true) == 1 && count_rule(e, "decoy-read", false) == 1,
	      "the known read is baselined, the new one is not");
	CHECK(k.n == 1, "only the new finding is acted on (%d kills)", k.n);
	CHECK_STR_EQ(engine_verdict(e), "violation");
	CHECK_INT_EQ(engine_exit_code(e, 0), EXIT_VIOLATION_KILLED);
	{
		char *buf = NULL;
		size_t size = 0;
		FILE *out = open_memstream(&buf, &size);

		report_verdict_line(e, out, engine_exit_code(e, 0));
		fclose(out);
		CHECK(buf && strstr(buf, "pipjail: verdict: violation (1 violation in 1 package, ") &&
		      strstr(buf, " baselined; exit 101)\n"), "verdict line: %s", buf);
		free(buf);
	}
	{
		struct sarif_ctx sc = { .exit_code = 101, .baseline = true };
		cJSON *log = sarif_json(e, &sc);
		char *s = cJSON_PrintUnformatted(log);

		CHECK(s && strstr(s, "\"baselineState\":\"new\"") && strstr(s, "\"level\":\"error\""),
		      "SARIF: the new one is an error");
		free(s);
		cJSON_Delete(log);
	}
	engine_free(e);
	profile_free(p);
	baseline_free(bl);
}

static void test_baseline_parse_errors(void)
{
	static const char *const bad[] = {
		"", "[]", "{\"format\":\"x\",\"format_version\":1,\"findings\":[]}",
		"{\"format\":\"pipjail-baseline\",\"format_version\":2,\"findings\":[]}",
		"{\"format\":\"pipjail-baseline\",\"format_version\":1}",
		"{\"format\":\"pipjail-baseline\",\"format_version\":1,\"findings\":[{\"rule\":\"x\"}]}",
		"{\"format\":\"pipjail-baseline\",\"format_version\":1,\"findings\":[{\"package\":1,"
		"\"rule\":\"x\",\"evidence_sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000" "\"}]}",
		"{\"format\":\"pipjail-baseline\",\"format_version\":1,\"findings\":[{\"package\":null,"
		"\"rule\":\"x\",\"evidence_sha256\":\"ABC\"}]}",
	};
	const char *good = "{\"format\":\"pipjail-baseline\",\"format_version\":1,\"findings\":["
			   "{\"package\":null,\"rule\":\"proxy\",\"evidence_sha256\":"
			   "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
			   "\"comment\":\"unknown keys are kept for people\"}]}";
	char err[512];
	struct baseline *b;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		b = baseline_parse(bad[i], strlen(bad[i]), "b.json", err, sizeof(err));
		CHECK(!b && strstr(err, "baseline b.json: "), "bad baseline %zu refused: %s", i, err);
		baseline_free(b);
	}
	b = baseline_parse(good, strlen(good), "b.json", err, sizeof(err));
	CHECK(b && baseline_size(b) == 1, "good baseline: %s", b ? "" : err);
	baseline_free(b);
}

/* The same finding in two runs has the same fingerprint; another file does not. */
static void test_hash(void)
{
	struct baseline_env a = { .home = "/home/a" }, b = { .home = "/root" };
	autofree char *na = baseline_normalize("openat /home/a/.ssh/id_rsa", &a);
	autofree char *nb = baseline_normalize("openat /root/.ssh/id_rsa", &b);
	autofree char *nc = baseline_normalize("openat /root/.ssh/id_ed25519", &b);

	CHECK_STR_EQ(na, nb);
	CHECK(strcmp(nb, nc) != 0, "another file is another finding");
}

int main(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return 1;
	exe[n] = '\0';
	for (int i = 0; i < 3 && (slash = strrchr(exe, '/')); i++)
		*slash = '\0';
	snprintf(bundled, sizeof(bundled), "%s/profiles", exe);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pipjail-test-ci-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	test_escape();
	test_requirements();
	test_requirements_files();
	test_normalize();
	test_hash();
	test_baseline_parse_errors();
	test_baseline_engine();
	{
		autofree char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return unit_summary("test_ci");
}
