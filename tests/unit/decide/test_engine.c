/* The decision engine fed with synthetic event sequences, as the monitor
 * would hand them over: roles, packages, hooks, violations with their rule
 * and action, the process chain, the kill hook, the writers of paths.  The
 * reports of the same runs are report/test_report.c's; the trace and its
 * replay, cmd/test_replay.c's. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide/engine_priv.h"
#include "../unit.h"
#include "../engine_fixture.h"
#include "base/base.h"

/* ---- tests ----------------------------------------------------------------------------- */

static void test_clean(void)
{
	struct kills k = { 0 };
	struct engine *e = install_engine(true, &k);
	const struct proc_info *pi;
	struct engine_outcome out = { .command_code = 0 };

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
	/* lost events: never clean */
	out.lost = 3;
	engine_set_outcome(e, &out);
	CHECK_STR_EQ(engine_verdict(e), "incomplete");
	CHECK_INT_EQ(engine_exit_code(e, 0), EXIT_INCOMPLETE);
	install_end(e);
}

static void test_violations(bool enforce)
{
	struct kills k = { 0 };
	struct engine *e = install_engine(enforce, &k);
	const struct violation_record *v;

	clean_part(e);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	bad_part(e);
	second_package(e);

	/* The default profile judges what curl does (its connect, the token in
	 * its argv), not that it ran. */
	CHECK(find(e, "exec") == NULL, "running curl is no violation by itself");
	v = find(e, "network");
	CHECK(v != NULL, "curl's connect under a build is a network violation");
	if (v) {
		CHECK_STR_EQ(v->chain, "pip → build_wheel → sh → curl");
		CHECK_STR_EQ(v->package, "demo");
		CHECK_STR_EQ(v->hook, "build_wheel");
		CHECK(v->role == ROLE_TOOL, "sh (a tool) ran curl: role %s", role_name(v->role));
		CHECK(v->profile_file && strstr(v->profile_file, "default.json"), "the rule's file");
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

	install_end(e);
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

	pi = spawn(e, 2000, 1, 2001, 2, "/usr/bin/python3", "/work", m_pip);
	CHECK(pi && pi->role == ROLE_PIP, "python -m pip is pip");
	pi = spawn(e, 2001, 2, 2002, 3, "/venv/bin/python3",
		   "/tmp/pip-install-a/old_0123456789abcdef0123456789abcdef", legacy);
	CHECK(pi && pi->role == ROLE_BUILD, "the setuptools shim is a build");
	if (pi) {
		CHECK_STR_EQ(pi->hook, "setup.py egg_info");
		CHECK_STR_EQ(pi->package, "old");
	}
	pi = spawn(e, 2001, 2, 2003, 4, "/usr/bin/git", "/work", git);
	CHECK(pi && pi->role == ROLE_TOOL && !pi->package, "git under pip is a tool of no package");
	pi = spawn(e, 2001, 2, 2004, 5, "/usr/bin/python3", "/tmp/pip-req-build-xyz", meta_hook);
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
	pi = spawn(e, 2000, 1, 2010, 9, "/usr/bin/python", "/src/proj-0.3", setup_py);
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

	spawn(e, 4000, 1, 4001, 2, "/venv/bin/pip", "/work", pip_argv);
	/* pip's own helper (lsb_release for its user agent) runs getopt: pip's rules */
	spawn(e, 4001, 2, 4002, 3, "/usr/bin/lsb_release", "/work", lsb);
	spawn(e, 4002, 3, 4003, 4, "/usr/bin/getopt", "/work", getopt_argv);
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
	spawn(e, 4001, 2, 4010, 5, "/venv/bin/python3", "/tmp/pip-req-build-q", legacy);
	CHECK(engine_proc(e, 4010) && !engine_proc(e, 4010)->package, "no name yet");
	ev = base("mkdir", 4010, 5, 0);
	ev.syscall = "mkdir";
	ev.abs = ev.path = "/tmp/pip-pip-egg-info-z/my_pkg.egg-info";
	ev.has_ret = true;
	engine_event(e, &ev);
	CHECK(engine_proc(e, 4010) && engine_proc(e, 4010)->package &&
	      !strcmp(engine_proc(e, 4010)->package, "my_pkg"), "named from the egg-info it wrote");
	/* a program held in memory alone (a memfd: the kernel names no file)
	 * is a violation whatever the profile allows */
	ev = base("exec", 4010, 5, 0);
	ev.path = ev.abs = "/dev/fd/3";
	ev.pseudo = "memfd:payload";
	ev.file = NULL;
	ev.argv = script;
	ev.cwd = "/tmp/pip-req-build-q";
	engine_event(e, &ev);
	CHECK(find(e, "exec") != NULL, "a program held in memory alone is an exec violation");
	/* the import check, announced by the supervisor: role import, the build's rules */
	{
		static const char *const imp[] = { "/venv/bin/python", "-I", "-B", "-c", "import sys", "demo", NULL };

		engine_set_next_command_role(e, ROLE_IMPORT);
		spawn(e, 4000, 1, 4020, 20, "/venv/bin/python", "/work", imp);
		CHECK(engine_proc(e, 4020) && engine_proc(e, 4020)->role == ROLE_IMPORT, "the import check");
		open_ev(e, 4020, 20, HOME "/.config/matplotlib/matplotlibrc", "O_RDONLY", 3);
		CHECK(find(e, "file-read") == NULL, "the decoy home minus secrets is readable");
		open_ev(e, 4020, 20, HOME "/.ssh/known_hosts", "O_RDONLY", 3);
		CHECK(find(e, "file-read") && find(e, "file-read")->role == ROLE_IMPORT,
		      "an import reading ~/.ssh is caught under the import rules");
		/* only the next command: a later one of init's is no import check,
		 * and not pip either unless the kernel trusts it */
		spawn(e, 4000, 1, 4021, 21, "/venv/bin/pip", "/work", pip_argv);
		CHECK(engine_proc(e, 4021) && engine_proc(e, 4021)->role == ROLE_TOOL, "only the next command");
	}
	if (find(e, "exec"))
		CHECK_STR_EQ(find(e, "exec")->package, "my_pkg");
	engine_free(e);
	profile_free(p);
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
	spawn(e, 1001, 2, 1020, 20, "/venv/bin/python3",
	      "/tmp/pip-install-k2j3/evil-demo_0123456789abcdef0123456789abcdef", legacy);
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

/* ---- unix sockets: the engine's view of the guard's table ---------------------------- */

static void unix_ev(struct engine *e, const char *kind, const char *addr, long ret)
{
	struct trace_event ev = base(kind, 1002, 3, 0);

	ev.syscall = !strcmp(kind, "send") ? "sendto" : kind;
	ev.nr = !strcmp(kind, "send") ? 44 : 42;
	ev.family = "AF_UNIX";
	ev.addr = addr;
	ev.has_ret = true;
	ev.ret = ret;
	engine_event(e, &ev);
}

/* Does the engine call this unix connect (kind, name, result) a network
 * violation of a build, under this mode and table? */
static bool unix_violation(enum engine_unix_mode mode, const struct engine_unix_tree *t, size_t n,
			   const char *kind, const char *addr, long ret)
{
	struct kills k = { 0 };
	struct engine *e = install_engine(false, &k);
	bool v;

	engine_set_unix_trees(e, mode, t, n);
	spawn(e, 1000, 1, 1001, 2, "/venv/bin/pip", "/work", pip_argv);
	spawn(e, 1001, 2, 1002, 3, "/venv/bin/python3", SRC, hook_argv);
	unix_ev(e, kind, addr, ret);
	v = find(e, "network") != NULL;
	install_end(e);
	return v;
}

/* Every case of the guard's table (tests/unit/observe/unix_path_cases.txt):
 * a name the guard sends to a mirror is a socket of the jail's own, no
 * violation, whatever the call returned but the guard's EPERM; a name it
 * refuses is one, in both modes.  And: abstract names, relative ones, a
 * trace from before (no table). */
static void test_unix_sockets(void)
{
	char exe[PATH_MAX], *path, *line = NULL;
	struct engine_unix_tree t[64];
	size_t cap = 0, n = 0;
	int cases = 0;
	FILE *f;

	if (!realpath("/proc/self/exe", exe))
		return;
	*strrchr(exe, '/') = 0;
	path = xasprintf("%s/../../tests/unit/observe/unix_path_cases.txt", exe);
	f = fopen(path, "re");
	CHECK(f != NULL, "%s: %s", path, strerror(errno));
	while (f && getline(&line, &cap, f) >= 0) {
		char *tab, *nul;
		bool refused;

		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		if (!tab)
			continue;
		if (!strncmp(line, "tree\t", 5) && n < 64) {
			char *m = strchr(line + 5, '\t');

			*m++ = 0;
			t[n++] = (struct engine_unix_tree){ xstrdup(line + 5), strcmp(m, "-") != 0 };
			continue;
		}
		*tab++ = 0;
		if ((nul = strstr(line, "\\0")))
			*nul = 0;  /* the decoder stops at a NUL too */
		refused = !strcmp(tab, "-");
		cases++;
		if (!strcmp(tab, "x")) {
			/* refused by the guard's limits, inside the jail's own trees */
			CHECK(!unix_violation(ENGINE_UNIX_GUARD, t, n, "connect", line, -EPERM),
			      "guard: %s is the jail's own", line);
			continue;
		}
		CHECK(unix_violation(ENGINE_UNIX_HIDDEN, t, n, "connect", line, 0) == refused,
		      "hidden: connect %s: %s", line, refused ? "a violation" : "the jail's own");
		CHECK(unix_violation(ENGINE_UNIX_GUARD, t, n, "connect", line, refused ? -EPERM : 0) == refused,
		      "guard: connect %s: %s", line, refused ? "refused, a violation" : "the jail's own");
		CHECK(unix_violation(ENGINE_UNIX_GUARD, t, n, "send", line, refused ? -EPERM : -ECONNREFUSED) ==
		      refused, "guard: sendto %s", line);
		if (!refused)  /* the kernel's own EPERM (a datagram socket connected to another) */
			CHECK(!unix_violation(ENGINE_UNIX_GUARD, t, n, "connect", line, -EPERM),
			      "guard: EPERM below a tree of the jail's own is not the guard's: %s", line);
	}
	CHECK(cases >= 40, "only %d cases in %s", cases, path);
	/* abstract names: the jail's own net namespace; EPERM is Landlock's scope */
	CHECK(!unix_violation(ENGINE_UNIX_GUARD, t, n, "connect", "@jail-own", 0), "abstract, reached");
	CHECK(!unix_violation(ENGINE_UNIX_GUARD, t, n, "connect", "@nothing", -ECONNREFUSED),
	      "abstract, nothing there");
	CHECK(unix_violation(ENGINE_UNIX_HIDDEN, t, n, "connect", "@other-domain", -EPERM),
	      "abstract, refused by Landlock's scope");
	/* relative names: the guard made them absolute; the engine cannot */
	CHECK(!unix_violation(ENGINE_UNIX_GUARD, t, n, "connect", "s", 0), "guard let a relative name through");
	CHECK(unix_violation(ENGINE_UNIX_GUARD, t, n, "connect", "../../var/lib/x/s", -EPERM),
	      "guard refused a relative name");
	CHECK(unix_violation(ENGINE_UNIX_HIDDEN, t, n, "connect", "s", 0), "hidden: a relative name is judged");
	/* no table (a trace from before): the profile judges every name */
	CHECK(unix_violation(ENGINE_UNIX_UNKNOWN, NULL, 0, "connect", "/tmp/s", 0), "no table: judged");
	CHECK(!unix_violation(ENGINE_UNIX_UNKNOWN, NULL, 0, "connect", "/tmp/s", -ENOENT), "nothing there");
	for (size_t i = 0; i < n; i++)
		free((char *)t[i].path);
	if (f)
		fclose(f);
	free(line);
	free(path);
}

int main(void)
{
	if (!fixture_begin("engine"))
		return 1;
	test_clean();
	test_violations(true);
	test_violations(false);
	test_classify();
	test_field_cases();
	test_writers();
	test_live_meta();
	test_unix_sockets();
	fixture_end();
	return unit_summary("test_engine");
}
