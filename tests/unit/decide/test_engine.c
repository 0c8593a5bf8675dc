/* The decision engine fed with synthetic event sequences, as the monitor
 * would hand them over: roles, packages, hooks, violations with their rule
 * and action, the process chain, the kill hook, the reports, and the same
 * verdict again from the written trace through `pipjail replay`. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "decide/engine_priv.h"
#include "decide/profile.h"
#include "report/report.h"
#include "../unit.h"
#include "base/base.h"

#define HOME   "/home/u"
#define TOKEN  "PIPJAILdeadbeefcafe0123456789abcdef0123456789abcd"
#define SRC    "/tmp/pip-install-k2j3/demo_0123456789abcdef0123456789abcdef"
#define SRC2   "/tmp/pip-install-k2j3/good_fedcba9876543210fedcba9876543210"

static char bundled[PATH_MAX + 16];
static char tmpdir[PATH_MAX];
static uint64_t clock_ns = 1000000000;

/* ---- event builders ------------------------------------------------------------ */

static struct trace_event base(const char *kind, uint32_t hpid, uint32_t pid, uint32_t hppid)
{
	struct trace_event ev = {
		.kind = kind, .nr = -1, .t_mono_ns = clock_ns, .t_wall_ns = 1700000000000000000LL + (int64_t)clock_ns,
		.pid = pid, .tid = pid, .hpid = hpid, .htid = hpid, .hppid = hppid, .uid = 1000, .gid = 1000,
		.comm = "x", .mode = -1, .protocol = -1, .port = -1, .target_pid = -1, .exit_code = -1,
	};

	clock_ns += 1000;
	return ev;
}

static void fork_ev(struct engine *e, uint32_t hpid, uint32_t pid, uint32_t child_hpid, uint32_t child_pid)
{
	struct trace_event ev = base("fork", hpid, pid, 0);

	ev.child_hpid = ev.child_htid = child_hpid;
	ev.child_pid = ev.child_tid = child_pid;
	engine_event(e, &ev);
}

static void exec_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *path, const char *cwd,
		    const char *const *argv)
{
	struct trace_event ev = base("exec", hpid, pid, 0);
	const char *b = strrchr(path, '/');

	ev.path = ev.abs = ev.file = path;
	ev.cwd = cwd;
	ev.argv = argv;
	ev.comm = b ? b + 1 : path;
	ev.exe = path;
	engine_event(e, &ev);
}

static void open_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *path, const char *flags,
		    long ret)
{
	struct trace_event ev = base("open", hpid, pid, 0);

	ev.syscall = "openat";
	ev.nr = 257;
	ev.path = ev.abs = path;
	ev.file = ret >= 0 ? path : NULL;
	ev.flags = flags;
	ev.has_ret = true;
	ev.ret = ret;
	engine_event(e, &ev);
}

static void connect_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *addr, int port)
{
	struct trace_event ev = base("connect", hpid, pid, 0);

	ev.syscall = "connect";
	ev.nr = 42;
	ev.family = "AF_INET";
	ev.addr = addr;
	ev.port = port;
	ev.has_ret = true;
	ev.ret = -ECONNREFUSED;
	engine_event(e, &ev);
}

static void refused_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *syscall, long ret)
{
	struct trace_event ev = base("seccomp_refused", hpid, pid, 0);

	ev.syscall = syscall;
	ev.refused = true;
	ev.has_ret = true;
	ev.ret = ret;
	engine_event(e, &ev);
}

static void exit_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *signal)
{
	struct trace_event ev = base("exit", hpid, pid, 0);

	ev.signal = signal;
	ev.exit_code = signal ? -1 : 0;
	engine_event(e, &ev);
}

/* ---- the kill hook ---------------------------------------------------------------- */

struct kills {
	uint32_t hpid[16];
	bool whole[16];
	int n;
};

static int kill_hook(uint32_t hpid, bool whole_jail, void *ctx)
{
	struct kills *k = ctx;

	if (k->n < 16) {
		k->hpid[k->n] = hpid;
		k->whole[k->n] = whole_jail;
	}
	k->n++;
	return 0;
}

/* ---- fixtures ------------------------------------------------------------------------ */

static struct profile *load_default(void)
{
	struct profile_source src = { .dir = bundled };
	char err[1024];
	struct profile *p = profile_load("default", &src, err, sizeof(err));

	if (!p) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	profile_set_defaults(p, HOME, "/work", NULL);
	profile_set_var(p, "ENV", "/venv");
	profile_set_var(p, "SITE", "/venv/lib/python3.11/site-packages");
	return p;
}

static const char *const pip_argv[] = { "/venv/bin/python3", "/venv/bin/pip", "install", "--no-index",
					 "./demo-1.0.tar.gz", "./good-2.0.tar.gz", NULL };
static const char *const hook_argv[] = {
	"/venv/bin/python3",
	"/venv/lib/python3.11/site-packages/pip/_vendor/pyproject_hooks/_in_process/_in_process.py",
	"build_wheel", "/tmp/tmpq1w2e3", NULL,
};
static const char *const gcc_argv[] = { "gcc", "-pthread", "-fPIC", "-I/usr/include/python3.11", "-c",
					"demo.c", "-o", "build/temp.linux-x86_64-cpython-311/demo.o", NULL };
static const char *const sh_argv[] = { "/bin/sh", "-c", "curl -s http://127.0.0.1:8080/x?t=" TOKEN, NULL };
static const char *const curl_argv[] = { "curl", "-s", "http://127.0.0.1:8080/x?t=" TOKEN, NULL };

/* init (1000/1) -> command (1001/2) = pip -> hook (1002/3) -> gcc (1003/4) */
static void clean_part(struct engine *e)
{
	fork_ev(e, 1000, 1, 1001, 2);
	exec_ev(e, 1001, 2, "/venv/bin/pip", "/work", pip_argv);
	open_ev(e, 1001, 2, "/work/demo-1.0.tar.gz", "O_RDONLY|O_CLOEXEC", 3);
	fork_ev(e, 1001, 2, 1002, 3);
	exec_ev(e, 1002, 3, "/venv/bin/python3", SRC, hook_argv);
	open_ev(e, 1002, 3, "/usr/lib/python3.11/os.py", "O_RDONLY|O_CLOEXEC", 3);
	open_ev(e, 1002, 3, SRC "/setup.py", "O_RDONLY|O_CLOEXEC", 3);
	open_ev(e, 1002, 3, "/nonexistent-probe/x.py", "O_RDONLY|O_CLOEXEC", -ENOENT);
	fork_ev(e, 1002, 3, 1003, 4);
	exec_ev(e, 1003, 4, "/usr/bin/gcc", SRC, gcc_argv);
	open_ev(e, 1003, 4, SRC "/demo.c", "O_RDONLY", 3);
	open_ev(e, 1003, 4, "/usr/include/python3.11/Python.h", "O_RDONLY", 3);
	open_ev(e, 1003, 4, SRC "/build/temp.linux-x86_64-cpython-311/demo.o",
		"O_WRONLY|O_CREAT|O_TRUNC", 4);
	open_ev(e, 1003, 4, "/tmp/ccAbcd.s", "O_RDWR|O_CREAT|O_EXCL", 4);
	exit_ev(e, 1003, 4, NULL);
	refused_ev(e, 1002, 3, "io_uring_setup", -ENOSYS);  /* a probe: recorded only */
	refused_ev(e, 1002, 3, "clone3", -ENOSYS);
}

static void bad_part(struct engine *e)
{
	/* the hook starts sh, sh starts curl with the decoy token */
	fork_ev(e, 1002, 3, 1004, 5);
	exec_ev(e, 1004, 5, "/bin/sh", SRC, sh_argv);
	fork_ev(e, 1004, 5, 1005, 6);
	exec_ev(e, 1005, 6, "/usr/bin/curl", SRC, curl_argv);
	connect_ev(e, 1005, 6, "127.0.0.1", 8080);
	/* the hook reads the decoy key, writes outside its tree, calls ptrace */
	open_ev(e, 1002, 3, HOME "/.ssh/id_rsa", "O_RDONLY|O_CLOEXEC", 5);
	open_ev(e, 1002, 3, HOME "/.ssh/id_rsa", "O_RDONLY|O_CLOEXEC", 5);  /* again: once */
	open_ev(e, 1002, 3, "/usr/lib/evil.so", "O_WRONLY|O_CREAT", -EROFS);
	refused_ev(e, 1002, 3, "ptrace", -EPERM);
}

static void second_package(struct engine *e)
{
	fork_ev(e, 1001, 2, 1010, 7);
	exec_ev(e, 1010, 7, "/venv/bin/python3", SRC2, hook_argv);
	open_ev(e, 1010, 7, SRC2 "/pyproject.toml", "O_RDONLY", 3);
	exit_ev(e, 1010, 7, NULL);
}

static const struct violation_record *find(const struct engine *e, const char *rule)
{
	for (size_t i = 0; i < engine_n_violations(e); i++)
		if (!strcmp(engine_violation(e, i)->rule, rule))
			return engine_violation(e, i);
	return NULL;
}

static size_t count(const struct engine *e, const char *rule)
{
	size_t n = 0;

	for (size_t i = 0; i < engine_n_violations(e); i++)
		n += !strcmp(engine_violation(e, i)->rule, rule);
	return n;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_clean(void)
{
	struct profile *p = load_default();
	struct engine *e = engine_new(p, true);
	struct kills k = { 0 };
	const struct proc_info *pi;
	struct engine_outcome out = { .command_code = 0 };

	engine_set_kill(e, kill_hook, &k);
	engine_set_command(e, pip_argv + 1);
	engine_add_decoy(e, "~/.ssh/id_rsa", TOKEN);
	clean_part(e);
	second_package(e);

	pi = engine_proc(e, 1000);
	CHECK(pi == NULL || pi->role == ROLE_NONE, "the jail's init has no role");
	pi = engine_proc(e, 1001);
	CHECK(pi && pi->role == ROLE_PIP, "the command is pip");
	pi = engine_proc(e, 1002);
	CHECK(pi && pi->role == ROLE_BUILD, "the hook is a build");
	if (pi) {
		CHECK_STR_EQ(pi->hook, "build_wheel");
		CHECK_STR_EQ(pi->package, "demo");
		CHECK_STR_EQ(pi->srcdir, SRC);
	}
	pi = engine_proc(e, 1003);
	CHECK(pi && pi->role == ROLE_TOOL, "gcc is a tool");
	if (pi) {
		CHECK_STR_EQ(pi->package, "demo");
		CHECK_STR_EQ(pi->hook, "build_wheel");
	}
	pi = engine_proc(e, 1010);
	CHECK(pi && pi->package && !strcmp(pi->package, "good"), "a second package is told apart");

	CHECK_INT_EQ(engine_n_violations(e), 0);
	for (size_t i = 0; i < engine_n_violations(e); i++)
		fprintf(stderr, "  unexpected: %s %s (%s)\n", engine_violation(e, i)->rule,
			engine_violation(e, i)->evidence, engine_violation(e, i)->detail);
	CHECK_INT_EQ(k.n, 0);
	engine_set_outcome(e, &out);
	CHECK_STR_EQ(engine_verdict(e), "clean");
	CHECK_INT_EQ(engine_exit_code(e, 0), 0);
	CHECK_INT_EQ(engine_exit_code(e, 1), 1);
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		report_print(e, f, false, 0);
		fclose(f);
		CHECK(strstr(buf, "pipjail: clean: 2 packages built (demo, good)") != NULL,
		      "one short line: %s", buf);
		CHECK(strchr(buf, '\n') == buf + len - 1, "a clean run is one line: %s", buf);
		free(buf);
	}
	/* lost events: never clean */
	out.lost = 3;
	engine_set_outcome(e, &out);
	CHECK_STR_EQ(engine_verdict(e), "incomplete");
	CHECK_INT_EQ(engine_exit_code(e, 0), EXIT_INCOMPLETE);
	engine_free(e);
	profile_free(p);
}

static void test_violations(bool enforce)
{
	struct profile *p = load_default();
	struct engine *e = engine_new(p, enforce);
	struct kills k = { 0 };
	const struct violation_record *v;

	engine_set_kill(e, kill_hook, &k);
	engine_set_command(e, pip_argv + 1);
	engine_add_decoy(e, "~/.ssh/id_rsa", TOKEN);
	clean_part(e);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	bad_part(e);
	second_package(e);

	v = find(e, "exec");
	CHECK(v != NULL, "curl under a build is an exec violation");
	if (v) {
		CHECK_STR_EQ(v->chain, "pip → build_wheel → sh → curl");
		CHECK_STR_EQ(v->package, "demo");
		CHECK_STR_EQ(v->hook, "build_wheel");
		CHECK(v->role == ROLE_TOOL, "sh (a tool) ran curl: role %s", role_name(v->role));
		CHECK(v->detail && strstr(v->detail, "roles.tool.exec (same_as): roles.build.exec.deny[") &&
		      strstr(v->detail, "\"curl\""),
		      "the rule is named: %s", v->detail);
		CHECK(v->profile_file && strstr(v->profile_file, "default.json"), "the rule's file");
		CHECK(v->evidence && strstr(v->evidence, "/usr/bin/curl") && strstr(v->evidence, "127.0.0.1:8080"),
		      "the evidence shows the command: %s", v->evidence);
		CHECK(v->action == ACTION_KILL_PROCESS, "kill-process");
		CHECK(v->done == enforce, "killed only when enforcing");
		CHECK(v->hpid == 1005 && v->n_pids == 4 && v->pids[0] == 2 && v->pids[3] == 6,
		      "pid chain 2 → 3 → 5 → 6 (hpid %u, %zu pids)", v->hpid, v->n_pids);
	}
	v = find(e, "decoy-token");
	CHECK(v != NULL, "the decoy token in argv is caught");
	if (v) {
		CHECK(strstr(v->detail, "~/.ssh/id_rsa") != NULL, "names the decoy: %s", v->detail);
		CHECK_INT_EQ(count(e, "decoy-token"), 2);  /* sh -c ... and curl ... */
	}
	v = find(e, "decoy-read");
	CHECK(v != NULL, "reading the decoy key is caught");
	if (v) {
		CHECK_STR_EQ(v->chain, "pip → build_wheel");
		CHECK(v->role == ROLE_BUILD && v->hpid == 1002, "by the hook itself");
		CHECK(strstr(v->evidence, HOME "/.ssh/id_rsa") != NULL, "evidence: %s", v->evidence);
		CHECK_INT_EQ(count(e, "decoy-read"), 1);
	}
	v = find(e, "network");
	CHECK(v != NULL, "a connect to 127.0.0.1 is caught");
	if (v) {
		CHECK(strstr(v->evidence, "127.0.0.1:8080") != NULL, "evidence: %s", v->evidence);
		CHECK(v->call_failed, "the connect failed (ECONNREFUSED) and is still a violation");
		CHECK(strstr(v->detail, "roles.tool.network.connect") || strstr(v->detail, "roles.build.network.connect"),
		      "detail %s", v->detail);
	}
	v = find(e, "file-write");
	CHECK(v != NULL, "a write to /usr/lib is caught");
	if (v) {
		CHECK(strstr(v->evidence, "/usr/lib/evil.so") != NULL, "evidence: %s", v->evidence);
		CHECK_STR_EQ(v->call_errno, "EROFS");
	}
	v = find(e, "refused-call");
	CHECK(v != NULL, "ptrace refused is a violation");
	if (v)
		CHECK(strstr(v->evidence, "ptrace") != NULL, "evidence: %s", v->evidence);
	CHECK_INT_EQ(count(e, "refused-call"), 1);  /* io_uring and clone3 probes are not */

	/* kills: curl, then the hook (once, however many of its violations) */
	if (enforce) {
		bool curl = false, hook = false;

		for (int i = 0; i < k.n && i < 16; i++) {
			curl |= k.hpid[i] == 1005 && !k.whole[i];
			hook |= k.hpid[i] == 1002 && !k.whole[i];
		}
		CHECK(curl && hook, "curl and the hook were killed (%d kills)", k.n);
		CHECK(k.n <= 4, "each process is killed once (%d kills)", k.n);
		CHECK(engine_killed(e), "engine_killed");
		CHECK_INT_EQ(engine_exit_code(e, 0), EXIT_VIOLATION_KILLED);
	} else {
		CHECK_INT_EQ(k.n, 0);
		CHECK(!engine_killed(e), "audit kills nothing");
		CHECK_INT_EQ(engine_exit_code(e, 0), EXIT_VIOLATION_FOUND);
	}
	CHECK_STR_EQ(engine_verdict(e), "violation");

	/* the human report: the package, the rule, the chain, what was done */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		report_print(e, f, false, engine_exit_code(e, 0));
		fclose(f);
		CHECK(strstr(buf, "VIOLATION") && strstr(buf, "demo: violation (build_wheel)"),
		      "report names the package:\n%s", buf);
		CHECK(strstr(buf, "good: clean") != NULL, "and the clean one:\n%s", buf);
		CHECK(strstr(buf, "chain:    pip → build_wheel → sh → curl") != NULL, "chain:\n%s", buf);
		CHECK(strstr(buf, enforce ? "done:     killed" : "reported (audit; enforce kills it)") != NULL,
		      "what was done:\n%s", buf);
		if (!enforce && getenv("SHOW_REPORT"))
			fputs(buf, stderr);
		free(buf);
	}
	/* the JSON report */
	{
		cJSON *r = report_json(e, engine_exit_code(e, 0)), *vs, *it, *pk;
		bool seen = false;

		CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "verdict")), "violation");
		CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "mode")),
			     enforce ? "enforce" : "audit");
		vs = cJSON_GetObjectItemCaseSensitive(r, "violations");
		CHECK(cJSON_GetArraySize(vs) == (int)engine_n_violations(e), "all violations in JSON");
		cJSON_ArrayForEach(it, vs) {
			if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "rule")), "exec"))
				continue;
			seen = true;
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "package")), "demo");
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "hook")), "build_wheel");
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "role")), "tool");
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "action")), "kill-process");
			CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(it, "pids")) == 4, "pids");
			CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "time")), "time");
		}
		CHECK(seen, "the exec violation is in the JSON");
		pk = cJSON_GetObjectItemCaseSensitive(r, "packages");
		CHECK_INT_EQ(cJSON_GetArraySize(pk), 2);
		cJSON_ArrayForEach(it, pk) {
			const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
			const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "verdict"));

			CHECK(name && verdict && ((!strcmp(name, "demo") && !strcmp(verdict, "violation")) ||
						  (!strcmp(name, "good") && !strcmp(verdict, "clean"))),
			      "package %s: %s", name ? name : "?", verdict ? verdict : "?");
		}
		cJSON_Delete(r);
	}
	engine_free(e);
	profile_free(p);
}

static void test_classify(void)
{
	struct profile *p = load_default();
	struct engine *e = engine_new(p, false);
	const struct proc_info *pi;
	static const char *const m_pip[] = { "python3", "-m", "pip", "wheel", "-r", "req.txt", NULL };
	static const char *const legacy[] = {
		"/venv/bin/python3", "-u", "-c",
		"import io, os, sys, setuptools, tokenize; sys.argv[0] = '/tmp/pip-install-a/old_0123456789abcdef0123456789abcdef/setup.py'; "
		"__file__='/tmp/pip-install-a/old/setup.py';exec(compile(code, __file__, 'exec'))",
		"egg_info", "--egg-base", "/tmp/pip-pip-egg-info-z", NULL,
	};
	static const char *const setup_py[] = { "python", "setup.py", "-q", "bdist_wheel", NULL };
	static const char *const meta_hook[] = { "/usr/bin/python3.11", "/x/_in_process.py",
						 "prepare_metadata_for_build_wheel", "/tmp/t", NULL };
	static const char *const git[] = { "git", "clone", "-q", "https://example.invalid/x.git", NULL };

	fork_ev(e, 2000, 1, 2001, 2);
	exec_ev(e, 2001, 2, "/usr/bin/python3", "/work", m_pip);
	pi = engine_proc(e, 2001);
	CHECK(pi && pi->role == ROLE_PIP, "python -m pip is pip");
	fork_ev(e, 2001, 2, 2002, 3);
	exec_ev(e, 2002, 3, "/venv/bin/python3", "/tmp/pip-install-a/old_0123456789abcdef0123456789abcdef", legacy);
	pi = engine_proc(e, 2002);
	CHECK(pi && pi->role == ROLE_BUILD, "the setuptools shim is a build");
	if (pi) {
		CHECK_STR_EQ(pi->hook, "setup.py egg_info");
		CHECK_STR_EQ(pi->package, "old");
	}
	fork_ev(e, 2001, 2, 2003, 4);
	exec_ev(e, 2003, 4, "/usr/bin/git", "/work", git);
	pi = engine_proc(e, 2003);
	CHECK(pi && pi->role == ROLE_TOOL && !pi->package, "git under pip is a tool of no package");
	fork_ev(e, 2001, 2, 2004, 5);
	exec_ev(e, 2004, 5, "/usr/bin/python3", "/tmp/pip-req-build-xyz", meta_hook);
	pi = engine_proc(e, 2004);
	CHECK(pi && pi->role == ROLE_BUILD, "a metadata hook is a build");
	if (pi)
		CHECK_STR_EQ(pi->hook, "prepare_metadata_for_build_wheel");
	/* replay: the live run's note names the package */
	{
		cJSON *note = cJSON_Parse("{\"type\":\"note\",\"kind\":\"package\",\"hpid\":2004,\"pid\":5,"
					  "\"package\":\"fromnote\",\"version\":\"3.1\",\"hook\":\"x\",\"from\":\"PKG-INFO\"}");

		engine_note(e, note);
		cJSON_Delete(note);
		pi = engine_proc(e, 2004);
		CHECK(pi && pi->package && !strcmp(pi->package, "fromnote") && pi->version &&
		      !strcmp(pi->version, "3.1"), "a package note attributes the build");
	}
	/* a build run directly as the jailed command */
	fork_ev(e, 2000, 1, 2010, 9);
	exec_ev(e, 2010, 9, "/usr/bin/python", "/src/proj-0.3", setup_py);
	pi = engine_proc(e, 2010);
	CHECK(pi && pi->role == ROLE_BUILD, "python setup.py is a build");
	if (pi) {
		CHECK_STR_EQ(pi->hook, "setup.py bdist_wheel");
		CHECK_STR_EQ(pi->package, "proj");
		CHECK_STR_EQ(pi->version, "0.3");
	}
	/* a thread fork changes nothing; an unknown process inherits from its parent */
	{
		struct trace_event ev = base("open", 2099, 99, 2002);

		ev.syscall = "openat";
		ev.abs = ev.path = "/usr/lib/x";
		ev.flags = "O_RDONLY";
		ev.has_ret = true;
		engine_event(e, &ev);
		pi = engine_proc(e, 2099);
		CHECK(pi && pi->role == ROLE_BUILD && pi->package && !strcmp(pi->package, "old"),
		      "a process whose fork was lost inherits from its parent");
	}
	engine_free(e);
	profile_free(p);
}

/* Cases met in real pip runs. */
static void test_field_cases(void)
{
	struct profile *p = load_default();
	struct engine *e = engine_new(p, false);
	static const char *const lsb[] = { "/bin/sh", "/usr/bin/lsb_release", "-a", NULL };
	static const char *const getopt_argv[] = { "getopt", "--name", "lsb_release", "-o", "hv", NULL };
	static const char *const script[] = { "/tmp/x/run.sh", NULL };
	static const char *const legacy[] = {
		"/venv/bin/python3", "-c", "exec(compile(open('setup.py').read(), 'setup.py', 'exec'))",
		"egg_info", NULL,
	};
	struct trace_event ev;

	fork_ev(e, 4000, 1, 4001, 2);
	exec_ev(e, 4001, 2, "/venv/bin/pip", "/work", pip_argv);
	/* pip's own helper (lsb_release for its user agent) runs getopt: pip's rules */
	fork_ev(e, 4001, 2, 4002, 3);
	exec_ev(e, 4002, 3, "/usr/bin/lsb_release", "/work", lsb);
	fork_ev(e, 4002, 3, 4003, 4);
	exec_ev(e, 4003, 4, "/usr/bin/getopt", "/work", getopt_argv);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	/* urllib3's IPv6 probe binds [::1]:0 */
	ev = base("bind", 4001, 2, 0);
	ev.syscall = "bind";
	ev.family = "AF_INET6";
	ev.addr = "::1";
	ev.port = 0;
	ev.has_ret = true;
	engine_event(e, &ev);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	/* a legacy build in a tree nothing names learns its name from egg-info */
	fork_ev(e, 4001, 2, 4010, 5);
	exec_ev(e, 4010, 5, "/venv/bin/python3", "/tmp/pip-req-build-q", legacy);
	CHECK(engine_proc(e, 4010) && !engine_proc(e, 4010)->package, "no name yet");
	ev = base("mkdir", 4010, 5, 0);
	ev.syscall = "mkdir";
	ev.abs = ev.path = "/tmp/pip-pip-egg-info-z/my_pkg.egg-info";
	ev.has_ret = true;
	engine_event(e, &ev);
	CHECK(engine_proc(e, 4010) && engine_proc(e, 4010)->package &&
	      !strcmp(engine_proc(e, 4010)->package, "my_pkg"), "named from the egg-info it wrote");
	/* a script the build wrote: its interpreter (sh) is allowed, the script is not */
	ev = base("exec", 4010, 5, 0);
	ev.path = ev.abs = "/tmp/x/run.sh";
	ev.file = "/usr/bin/dash";
	ev.argv = script;
	ev.cwd = "/tmp/pip-req-build-q";
	engine_event(e, &ev);
	CHECK(find(e, "exec") != NULL, "a script is judged by its own path, not its interpreter's");
	/* the import check, announced by the supervisor: role import, the build's rules */
	{
		static const char *const imp[] = { "/venv/bin/python", "-I", "-B", "-c", "import sys", "demo", NULL };

		engine_set_next_command_role(e, ROLE_IMPORT);
		fork_ev(e, 4000, 1, 4020, 20);
		exec_ev(e, 4020, 20, "/venv/bin/python", "/work", imp);
		CHECK(engine_proc(e, 4020) && engine_proc(e, 4020)->role == ROLE_IMPORT, "the import check");
		open_ev(e, 4020, 20, HOME "/.config/matplotlib/matplotlibrc", "O_RDONLY", 3);
		CHECK(find(e, "file-read") == NULL, "the decoy home minus secrets is readable");
		open_ev(e, 4020, 20, HOME "/.ssh/known_hosts", "O_RDONLY", 3);
		CHECK(find(e, "file-read") && find(e, "file-read")->role == ROLE_IMPORT,
		      "an import reading ~/.ssh is caught under the import rules");
		fork_ev(e, 4000, 1, 4021, 21);
		exec_ev(e, 4021, 21, "/venv/bin/pip", "/work", pip_argv);
		CHECK(engine_proc(e, 4021) && engine_proc(e, 4021)->role == ROLE_PIP, "only the next command");
	}
	if (find(e, "exec"))
		CHECK_STR_EQ(find(e, "exec")->package, "my_pkg");
	engine_free(e);
	profile_free(p);
}

/* A path event (mkdir, symlink, unlink, rename, link) that succeeded. */
static void path_ev(struct engine *e, const char *kind, uint32_t hpid, uint32_t pid, const char *abs,
		    const char *abs2, long ret)
{
	struct trace_event ev = base(kind, hpid, pid, 0);

	ev.syscall = kind;
	ev.path = ev.abs = abs;
	ev.path2 = ev.abs2 = abs2;
	ev.has_ret = true;
	ev.ret = ret;
	engine_event(e, &ev);
}

#define SITE "/venv/lib/python3.11/site-packages"

/* engine_writer_of: who last wrote a path, and a staging violation
 * reported with that pid lands on the build that wrote it. */
static void test_writers(void)
{
	struct profile *p = load_default();
	struct engine *e = engine_new(p, false);
	static const char *const legacy[] = {
		"/venv/bin/python3", "-u", "-c", "import setuptools; exec(compile(open('setup.py').read(), 'setup.py', 'exec'))",
		"install", "--record", "/tmp/pip-record-x/install-record.txt",
		"--single-version-externally-managed", "--compile", NULL,
	};
	const struct violation_record *v;
	struct violation sv = { 0 };

	engine_set_command(e, pip_argv + 1);
	clean_part(e);  /* pip 1001, build_wheel of demo 1002, gcc 1003 */
	CHECK_INT_EQ(engine_writer_of(e, SITE "/evil.pth"), 0);
	open_ev(e, 1002, 3, SITE "/evil.pth", "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", 5);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/evil.pth"), 1002);
	/* reading it, or a write that failed, does not make pip its writer */
	open_ev(e, 1001, 2, SITE "/evil.pth", "O_RDONLY|O_CLOEXEC", 6);
	open_ev(e, 1001, 2, SITE "/evil.pth", "O_WRONLY|O_TRUNC", -EACCES);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/evil.pth"), 1002);
	/* "O_RDONLY|O_CREAT" creates; a flag is matched whole */
	open_ev(e, 1003, 4, SITE "/made.txt", "O_RDONLY|O_CREAT", 7);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/made.txt"), 1003);
	open_ev(e, 1001, 2, SITE "/made.txt", "O_RDONLY|O_WRONLYX", 8);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/made.txt"), 1003);
	/* O_RDWR through a symlink: both names */
	{
		struct trace_event ev = base("open", 1001, 2, 0);

		ev.syscall = "openat";
		ev.path = ev.abs = "/venv/link-to-conf";
		ev.file = "/venv/pyvenv.cfg";
		ev.flags = "O_RDWR";
		ev.has_ret = true;
		ev.ret = 3;
		engine_event(e, &ev);
		CHECK_INT_EQ(engine_writer_of(e, "/venv/pyvenv.cfg"), 1001);
		CHECK_INT_EQ(engine_writer_of(e, "/venv/link-to-conf"), 1001);
	}
	/* the other ways to make a name */
	path_ev(e, "mkdir", 1002, 3, SITE "/newpkg", NULL, 0);
	path_ev(e, "symlink", 1003, 4, SITE "/newpkg/ln", NULL, 0);
	path_ev(e, "link", 1002, 3, "/tmp/x", SITE "/hard", 0);
	path_ev(e, "mknod", 1002, 3, SITE "/fifo", NULL, 0);
	path_ev(e, "mkdir", 1001, 2, SITE "/newpkg", NULL, -EEXIST);  /* failed: not a creation */
	CHECK_INT_EQ(engine_writer_of(e, SITE "/newpkg"), 1002);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/newpkg/ln"), 1003);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/hard"), 1002);
	CHECK_INT_EQ(engine_writer_of(e, "/tmp/x"), 0);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/fifo"), 1002);
	/* a file in a directory made in place but never written itself: unknown */
	CHECK_INT_EQ(engine_writer_of(e, SITE "/newpkg/other.py"), 0);
	/* pip writes RECORD beside and renames it into place */
	open_ev(e, 1002, 3, SITE "/demo-1.0.dist-info/RECORD", "O_WRONLY|O_CREAT", 9);
	open_ev(e, 1001, 2, SITE "/demo-1.0.dist-info/RECORD.tmp", "O_WRONLY|O_CREAT|O_EXCL", 9);
	path_ev(e, "rename", 1001, 2, SITE "/demo-1.0.dist-info/RECORD.tmp", SITE "/demo-1.0.dist-info/RECORD", 0);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/demo-1.0.dist-info/RECORD"), 1001);
	/* a directory built elsewhere and moved in: its files go to the mover */
	path_ev(e, "rename", 1003, 4, "/tmp/build/moved", SITE "/moved", 0);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/moved/sub/mod.py"), 1003);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/moved"), 1003);
	/* removals */
	path_ev(e, "unlink", 1003, 4, SITE "/alpha/core.py", NULL, 0);
	CHECK_INT_EQ(engine_writer_of(e, SITE "/alpha/core.py"), 1003);
	CHECK_INT_EQ(engine_writer_of(e, "relative/path"), 0);

	/* a legacy setup.py install of evil-demo writes a file no RECORD names;
	 * the staging check reports it with its writer */
	fork_ev(e, 1001, 2, 1020, 20);
	exec_ev(e, 1020, 20, "/venv/bin/python3", "/tmp/pip-install-k2j3/evil-demo_0123456789abcdef0123456789abcdef", legacy);
	open_ev(e, 1020, 20, SITE "/zz-evil.py", "O_WRONLY|O_CREAT|O_TRUNC|O_LARGEFILE|O_CLOEXEC", 3);
	sv.rule = "undeclared-file";
	sv.kind = "staging";
	sv.evidence = SITE "/zz-evil.py: not in any RECORD";
	sv.detail = "not in any RECORD";
	sv.hpid = engine_writer_of(e, SITE "/zz-evil.py");
	sv.action = ACTION_REPORT;
	engine_report(e, &sv);
	v = find(e, "undeclared-file");
	CHECK(v != NULL, "the staging violation is recorded");
	if (v) {
		CHECK_INT_EQ(v->hpid, 1020);
		CHECK_STR_EQ(v->package, "evil-demo");
		CHECK_STR_EQ(v->hook, "setup.py install");
		CHECK_INT_EQ(v->role, ROLE_BUILD);
		CHECK(v->chain && strstr(v->chain, "setup.py install"), "chain: %s", v->chain ? v->chain : "(null)");
	}
	engine_free(e);

	/* Bounded: a full table forgets the oldest writes, counts them, and a
	 * path written again is new again. */
	e = engine_new(p, false);
	e->writers_max = 4;
	for (int i = 0; i < 6; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/venv/f%d", i);
		open_ev(e, 2000 + (uint32_t)i, 2, path, "O_WRONLY|O_CREAT", 3);
	}
	CHECK_INT_EQ(e->n_writers, 4);
	CHECK_INT_EQ(e->writers_evicted, 2);
	CHECK_INT_EQ(engine_writer_of(e, "/venv/f0"), 0);
	CHECK_INT_EQ(engine_writer_of(e, "/venv/f1"), 0);
	CHECK_INT_EQ(engine_writer_of(e, "/venv/f2"), 2002);
	CHECK_INT_EQ(engine_writer_of(e, "/venv/f5"), 2005);
	open_ev(e, 2102, 2, "/venv/f2", "O_WRONLY", 3);   /* f2 is the newest now */
	open_ev(e, 2006, 2, "/venv/f6", "O_WRONLY|O_CREAT", 3);
	CHECK_INT_EQ(engine_writer_of(e, "/venv/f2"), 2102);
	CHECK_INT_EQ(engine_writer_of(e, "/venv/f3"), 0);
	CHECK_INT_EQ(engine_writer_of(e, "/venv/f6"), 2006);
	CHECK_INT_EQ(e->writers_evicted, 3);
	/* many paths: the table grows and every one is found */
	e->writers_max = ENGINE_WRITERS_MAX;
	for (int i = 0; i < 5000; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/venv/lib/m%d.py", i);
		open_ev(e, 3000 + (uint32_t)(i % 50), 2, path, "O_WRONLY|O_CREAT", 3);
	}
	{
		int bad = 0;

		for (int i = 0; i < 5000; i++) {
			char path[64];

			snprintf(path, sizeof(path), "/venv/lib/m%d.py", i);
			bad += engine_writer_of(e, path) != 3000 + (uint32_t)(i % 50);
		}
		CHECK_INT_EQ(bad, 0);
	}
	engine_free(e);
	profile_free(p);
}

/* Live attribution reads the tree through /proc/<pid>/root, never a FIFO. */
static void test_live_meta(void)
{
	char dir[PATH_MAX + 32], path[PATH_MAX + 64];
	struct profile *p = load_default();
	struct engine *e = engine_new(p, false);
	const struct proc_info *pi;
	uint32_t me = (uint32_t)getpid();
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/pip-req-build-live", tmpdir);
	CHECK(mkdir(dir, 0755) == 0, "mkdir %s", dir);
	snprintf(path, sizeof(path), "%s/PKG-INFO", dir);
	CHECK(mkfifo(path, 0644) == 0, "a FIFO named PKG-INFO");
	snprintf(path, sizeof(path), "%s/pyproject.toml", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("[project]\nname = \"livepkg\"\nversion = \"9.9\"\n", f);
		fclose(f);
	}
	engine_set_live(e, true);
	fork_ev(e, 3000, 1, 3001, 2);
	exec_ev(e, 3001, 2, "/venv/bin/pip", "/work", pip_argv);
	fork_ev(e, 3001, 2, me, 3);
	exec_ev(e, me, 3, "/venv/bin/python3", dir, hook_argv);
	pi = engine_proc(e, me);
	CHECK(pi && pi->package && !strcmp(pi->package, "livepkg") && pi->version &&
	      !strcmp(pi->version, "9.9"), "read pyproject.toml live (and skipped the FIFO): %s",
	      pi && pi->package ? pi->package : "(none)");
	engine_free(e);
	profile_free(p);
}

/* Live: the engine writes the annotated trace; replay gives the same verdict. */
static void test_trace_and_replay(void)
{
	char tpath[PATH_MAX + 32], rpath[PATH_MAX + 32], ppath[PATH_MAX + 32];
	struct profile *p = load_default();
	struct engine *e = engine_new(p, true);
	struct kills k = { 0 };
	struct trace_writer *w;
	int fd;
	size_t live_n;

	snprintf(tpath, sizeof(tpath), "%s/trace.jsonl", tmpdir);
	snprintf(rpath, sizeof(rpath), "%s/report.json", tmpdir);
	snprintf(ppath, sizeof(ppath), "%s/default.json", bundled);
	fd = open(tpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "open %s", tpath);
	w = trace_writer_open(fd);
	{
		cJSON *extra = cJSON_CreateObject(), *decoys = cJSON_AddArrayToObject(extra, "decoys"), *d;
		struct trace_option opts[] = { { "home", HOME }, { "cwd", "/work" } };
		struct trace_header h = { .argv = pip_argv + 1, .options = opts, .n_options = 2, .extra = extra };

		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "where", "~/.ssh/id_rsa");
		cJSON_AddStringToObject(d, "token", TOKEN);
		cJSON_AddItemToArray(decoys, d);
		cJSON_AddItemToObject(extra, "profile", profile_to_json(p));
		trace_write_header(w, &h);
		cJSON_Delete(extra);
	}
	engine_set_trace(e, w);
	engine_set_kill(e, kill_hook, &k);
	engine_set_command(e, pip_argv + 1);
	engine_add_decoy(e, "~/.ssh/id_rsa", TOKEN);
	clean_part(e);
	bad_part(e);
	second_package(e);
	live_n = engine_n_violations(e);
	{
		struct trace_summary s = { .wait_status = 0 };

		trace_write_summary(w, &s);
		CHECK(trace_writer_close(w) == 0, "trace written");
	}
	/* every event line carries its role, package and hook */
	{
		char line[8192];
		FILE *f = fopen(tpath, "r");
		bool exec_line = false, note_after = false, gcc_line = false;
		char err[512];

		while (f && fgets(line, sizeof(line), f)) {
			if (strstr(line, "\"kind\":\"exec\"") && strstr(line, "_in_process.py") &&
			    strstr(line, "\"role\":\"build\"") && strstr(line, "\"package\":\"demo\"") &&
			    strstr(line, "\"hook\":\"build_wheel\"")) {
				exec_line = true;
				if (fgets(line, sizeof(line), f))
					note_after = strstr(line, "\"type\":\"note\"") && strstr(line, "\"kind\":\"package\"") &&
						     strstr(line, "\"package\":\"demo\"");
			}
			if (strstr(line, "/usr/bin/gcc") && strstr(line, "\"role\":\"tool\"") &&
			    strstr(line, "\"package\":\"demo\""))
				gcc_line = true;
		}
		if (f)
			fclose(f);
		CHECK(exec_line, "the hook's exec line is annotated");
		CHECK(note_after, "a package note follows the exec line");
		CHECK(gcc_line, "gcc's exec line carries the package");
		CHECK(trace_check_file(tpath, NULL, err, sizeof(err)) == 0, "the trace is valid: %s", err);
	}
	engine_free(e);
	profile_free(p);

	/* replay it: the same violations, a report file */
	{
		char *argv[] = { "replay", tpath, "--profile", ppath, "--report", rpath, NULL };
		int code = cmd_replay(6, argv);
		FILE *f = fopen(rpath, "r");
		char buf[1 << 16];
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		cJSON *r;

		if (f)
			fclose(f);
		buf[n] = '\0';
		CHECK_INT_EQ(code, EXIT_VIOLATION_FOUND);
		r = cJSON_Parse(buf);
		CHECK(r != NULL, "the replay report is JSON");
		CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "verdict")), "violation");
		CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "mode")), "replay");
		CHECK_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "violations")), live_n);
		CHECK(strstr(buf, "pip → build_wheel → sh → curl") != NULL, "the chain again");
		cJSON_Delete(r);
	}
	/* a malformed line: named, exit 125 */
	{
		char bad[PATH_MAX + 32];
		FILE *in = fopen(tpath, "r"), *out;
		char line[8192];
		int ln = 0;
		char *argv[] = { "replay", bad, "--profile", ppath, NULL };

		snprintf(bad, sizeof(bad), "%s/bad.jsonl", tmpdir);
		out = fopen(bad, "w");
		while (in && out && fgets(line, sizeof(line), in)) {
			if (++ln == 4)
				fputs("{\"type\":\"event\", oops\n", out);
			else
				fputs(line, out);
		}
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		CHECK_INT_EQ(cmd_replay(4, argv), EXIT_PIPJAIL_ERROR);
	}
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
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pipjail-test-engine-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	test_clean();
	test_violations(true);
	test_violations(false);
	test_classify();
	test_field_cases();
	test_writers();
	test_live_meta();
	test_trace_and_replay();
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return unit_summary("test_engine");
}
