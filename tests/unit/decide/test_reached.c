/* Judging what a process reached, not the names it used (issue 14, items
 * 7 to 9): files by the file the kernel opened (and decoys by inode),
 * path-only calls through /proc/self/root and the run's own symlinks,
 * programs by the file the kernel ran, decoy tokens anywhere in an exec's
 * argv and environment (in every form decoyscan.c knows), and meson's
 * ~/.netrc exception tied to the code that ran in it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "decide/engine_priv.h"
#include "../unit.h"
#include "../engine_fixture.h"
#include "base/base.h"

#define GHTOK  "ghp_0123456789abcdef0123456789abcdef0123"
#define NETRC  "5f4dcc3b5aa765d61d8327deb882cf99"

static const struct violation_record *find_rule(const struct engine *e, const char *rule)
{
	for (size_t i = 0; i < engine_n_violations(e); i++)
		if (!strcmp(engine_violation(e, i)->rule, rule))
			return engine_violation(e, i);
	return NULL;
}

static const struct violation_record *last_rule(const struct engine *e, const char *rule)
{
	const struct violation_record *v = NULL;

	for (size_t i = 0; i < engine_n_violations(e); i++)
		if (!strcmp(engine_violation(e, i)->rule, rule))
			v = engine_violation(e, i);
	return v;
}

/* pip (1001/2) and a build (1002/3) of demo, in SRC, under profile p. */
static struct engine *build_engine_with(struct profile *p)
{
	struct engine *e = engine_new(p, false);

	engine_set_command(e, pip_argv + 1);
	engine_set_home(e, HOME);
	engine_add_decoy(e, "~/.ssh/id_rsa", TOKEN);
	engine_add_decoy(e, "~/.netrc", NETRC);
	engine_add_decoy(e, "$GITHUB_TOKEN", GHTOK);
	fork_ev(e, 1000, 1, 1001, 2);
	exec_ev(e, 1001, 2, "/venv/bin/python3", "/work", pip_argv);
	fork_ev(e, 1001, 2, 1002, 3);
	exec_ev(e, 1002, 3, "/venv/bin/python3", SRC, hook_argv);
	return e;
}

static struct engine *build_engine(void)
{
	return build_engine_with(load_default());
}

static void end(struct engine *e)
{
	struct profile *p = (struct profile *)engine_profile(e);

	engine_free(e);
	profile_free(p);
}

/* An open for reading by hpid (pid) of name that reached file. */
static void open_by(struct engine *e, uint32_t hpid, uint32_t pid, const char *name, const char *file,
		    uint64_t dev, uint64_t ino)
{
	struct trace_event ev = base("open", hpid, pid, 0);

	ev.syscall = "openat";
	ev.path = ev.abs = name;
	ev.file = file;
	ev.dev = dev;
	ev.ino = ino;
	ev.file_valid = file != NULL;
	ev.flags = "O_RDONLY|O_CLOEXEC";
	ev.has_ret = true;
	ev.ret = 3;
	engine_event(e, &ev);
}

/* ... by the build (pid 3) */
static void open_reached(struct engine *e, const char *name, const char *file, uint64_t dev, uint64_t ino)
{
	open_by(e, 1002, 3, name, file, dev, ino);
}

/* ... by the program the build started (pid 4), of path */
static void tool_reads(struct engine *e, const char *path)
{
	open_by(e, 1003, 4, path, path, 0, 0);
}

static void test_token_forms(void)
{
	struct engine *e = build_engine();
	const char *how = NULL;
	char hex[128], b64[128];
	unsigned char pad[64];
	const char *where;

	CHECK(engine_find_decoy(e, (const unsigned char *)"nothing here", 12, false, &how) < 0, "clean");
	CHECK(engine_find_decoy(e, (const unsigned char *)"x=" GHTOK "&", strlen(GHTOK) + 3, false, &how) == 2 &&
	      !strcmp(how, "as is"), "as is: %s", how);
	hex_encode(GHTOK, hex, true);
	CHECK(engine_find_decoy(e, (const unsigned char *)hex, strlen(hex), false, &how) == 2 &&
	      !strcmp(how, "hex"), "upper-case hex");
	for (size_t k = 0; k < 3; k++) {
		char text[200];

		memset(pad, 'Q', k);
		memcpy(pad + k, GHTOK, strlen(GHTOK));
		b64_encode(pad, k + strlen(GHTOK), b64, k == 2);
		snprintf(text, sizeof(text), "Authorization: Basic %s==", b64);
		CHECK(engine_find_decoy(e, (const unsigned char *)text, strlen(text), false, &how) == 2 &&
		      !strncmp(how, "base64", 6), "base64 at alignment %zu: %s", k, how ? how : "-");
	}
	CHECK(engine_find_decoy(e, (const unsigned char *)"GHP_0123456789ABCDEF0123456789ABCDEF0123", 40,
				true, &how) == 2, "case-insensitively when asked (DNS)");
	CHECK(engine_find_decoy(e, (const unsigned char *)"GHP_0123456789ABCDEF0123456789ABCDEF0123", 40,
				false, &how) < 0, "exactly otherwise");
	CHECK(engine_decoy(e, 2, &where) && !strcmp(where, "$GITHUB_TOKEN"), "decoy 2");
	end(e);
}

static void test_files_reached(void)
{
	struct engine *e = build_engine();
	const struct violation_record *v;

	/* its own tree by other names: clean */
	open_reached(e, "/proc/self/root" SRC "/data.txt", SRC "/data.txt", 1, 10);
	open_reached(e, "/tmp/pjlink/data.txt", SRC "/data.txt", 1, 10);
	/* its own /proc entries, as the kernel walks them (/proc/3/...) */
	open_reached(e, "/proc/self/environ", "/proc/3/environ", 2, 11);
	open_reached(e, "/proc/thread-self/status", "/proc/3/task/3/status", 2, 12);
	/* a pipe behind /dev/stdin: judged by the name */
	open_reached(e, "/dev/stdin", "pipe:[1234]", 3, 13);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	/* a host file by an allowed name */
	open_reached(e, "/proc/self/root/var/lib/x/notes.txt", "/var/lib/x/notes.txt", 4, 14);
	v = find_rule(e, "file-read");
	CHECK(v && strstr(v->evidence, "/proc/self/root/var/lib/x/notes.txt") &&
	      strstr(v->evidence, "(→ /var/lib/x/notes.txt)"), "the file reached: %s",
	      v ? v->evidence : "none");
	open_reached(e, "/tmp/.l", "/var/lib/x/other.txt", 4, 15);
	CHECK_INT_EQ(engine_n_violations(e), 2);
	/* another process's environ is not its own */
	open_reached(e, "/proc/2/environ", "/proc/2/environ", 2, 16);
	CHECK_INT_EQ(engine_n_violations(e), 3);
	/* a decoy by its inode: a hard link under another name */
	engine_set_decoy_file(e, "~/.ssh/id_rsa", makedev(0, 55), 777);
	open_reached(e, "/tmp/innocent", "/tmp/innocent", makedev(0, 55), 777);
	v = find_rule(e, "decoy-read");
	CHECK(v && strstr(v->detail, "~/.ssh/id_rsa"), "a hard link to the decoy: %s",
	      v ? v->evidence : "none");
	end(e);
}

static void test_path_only(void)
{
	struct engine *e = build_engine();
	struct trace_event ev = base("symlink", 1002, 3, 1001);
	const struct violation_record *v;

	/* /tmp/l -> $HOME (made by the build), then writes through it */
	ev.syscall = "symlink";
	ev.path = ev.abs = "/tmp/l";
	ev.str = HOME;
	ev.has_ret = true;
	engine_event(e, &ev);
	path_ev(e, "mkdir", 1002, 3, "/tmp/l2", NULL, 0);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	path_ev(e, "rename", 1002, 3, "/tmp/x", "/tmp/l/.bashrc", 0);
	v = find_rule(e, "file-write");
	CHECK(v && strstr(v->detail, ".bashrc"), "rename onto ~/.bashrc through /tmp/l: %s",
	      v ? v->detail : "none");
	path_ev(e, "unlink", 1002, 3, "/proc/self/root/tmp/l/.netrc", NULL, 0);
	v = find_rule(e, "decoy-access");
	CHECK(v && strstr(v->detail, "~/.netrc"), "unlink of the decoy through /proc/self/root and /tmp/l");
	/* a relative symlink, chained */
	ev.path = ev.abs = "/tmp/r";
	ev.str = "l/.ssh";
	engine_event(e, &ev);
	path_ev(e, "mkdir", 1002, 3, "/tmp/r/keys", NULL, 0);
	v = last_rule(e, "file-write");
	CHECK(v && strstr(v->detail, ".ssh") && strstr(v->evidence, "/tmp/r/keys"),
	      "mkdir below ~/.ssh through two links: %s", v ? v->detail : "none");
	end(e);
}

static void exec_with(struct engine *e, const char *path, const char *file, bool script,
		      const char *const *argv, const char *const *env)
{
	struct trace_event ev = base("exec", 1003, 4, 1002);

	ev.path = ev.abs = path;
	ev.file = file;
	ev.exe = file;
	ev.script = script;
	ev.cwd = SRC;
	ev.argv = argv;
	ev.env = env;
	ev.comm = "x";
	engine_event(e, &ev);
}

/* Program lists are strict's (the default judges what programs do). */
static void test_exec_reached(void)
{
	struct profile *p = load_profile("strict", HOME);
	struct engine *e;

	profile_set_var(p, "ENV", "/venv");
	e = build_engine_with(p);
	static const char *const argv[] = { "gcc", "-c", "x.c", NULL };
	static const char *const env[] = { "PATH=/usr/bin", "GITHUB_TOKEN=" GHTOK, NULL };

	fork_ev(e, 1002, 3, 1003, 4);
	exec_with(e, "/usr/bin/cc", "/usr/bin/x86_64-linux-gnu-gcc-12", false, argv, env);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	/* an allowed name for a program that is not allowed */
	exec_with(e, "/tmp/pip-build-env-x/gcc", "/usr/bin/openssl", false, argv, env);
	CHECK(find_rule(e, "exec") != NULL, "a symlink called gcc to openssl");
	end(e);
}

static void test_exec_tokens(void)
{
	struct engine *e = build_engine();
	static const char *const env_ok[] = { "PATH=/usr/bin", "GITHUB_TOKEN=" GHTOK, NULL };
	static const char *const env_other[] = { "PATH=/usr/bin", "GITHUB_TOKEN=" GHTOK, "CI_AUTH=" GHTOK, NULL };
	static const char *const env_changed[] = { "GITHUB_TOKEN=https://x:" GHTOK "@h", NULL };
	char big[20000], b64[100], entry[120];
	const char *argv[] = { "git", "-c", big, "config", "url", NULL };
	const char *env_b64[] = { entry, NULL };
	const struct violation_record *v;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fork_ev(e, 1002, 3, 1003, 4);
	exec_with(e, "/usr/bin/git", "/usr/bin/git", false, argv, env_ok);
	CHECK_INT_EQ(engine_n_violations(e), 0);
	/* far past what a command line shows */
	snprintf(big + sizeof(big) - 100, 100, "https://deploy:%s@h", GHTOK);
	exec_with(e, "/usr/bin/git", "/usr/bin/git", false, argv, env_ok);
	v = find_rule(e, "decoy-token");
	CHECK(v && strstr(v->evidence, "argument 2") && strstr(v->evidence, GHTOK) &&
	      strstr(v->detail, "argv"), "a token after 19,900 bytes: %s", v ? v->evidence : "none");
	end(e);

	e = build_engine();
	fork_ev(e, 1002, 3, 1003, 4);
	exec_with(e, "/usr/bin/true", "/usr/bin/true", false, NULL, env_other);
	v = find_rule(e, "decoy-token");
	CHECK(v && strstr(v->evidence, "CI_AUTH=") && strstr(v->detail, "environment"),
	      "a token in another variable: %s", v ? v->evidence : "none");
	end(e);

	e = build_engine();
	fork_ev(e, 1002, 3, 1003, 4);
	exec_with(e, "/usr/bin/true", "/usr/bin/true", false, NULL, env_changed);
	CHECK(find_rule(e, "decoy-token") != NULL, "its own variable, changed");
	end(e);

	e = build_engine();
	b64_encode((const unsigned char *)GHTOK, strlen(GHTOK), b64, false);
	snprintf(entry, sizeof(entry), "X=%s", b64);
	fork_ev(e, 1002, 3, 1003, 4);
	exec_with(e, "/usr/bin/true", "/usr/bin/true", false, NULL, env_b64);
	CHECK(find_rule(e, "decoy-token") != NULL, "in base64");
	end(e);
}

static void test_meson(void)
{
	static const char *const meson_argv[] = { "/usr/bin/python3", "/usr/bin/meson", "setup", "b", NULL };
	static const char *const env_clean[] = { "PATH=/usr/bin", "PYTHONDONTWRITEBYTECODE=1",
						 "GITHUB_TOKEN=" GHTOK, NULL };
	static const char *const env_pp[] = { "PATH=/usr/bin", "PYTHONPATH=/tmp/site", NULL };
	static const char *const env_pre[] = { "PATH=/usr/bin", "LD_PRELOAD=/tmp/x.txt", NULL };
	const struct violation_record *v;
	struct engine *e;

	/* Debian's meson, clean: it may read ~/.netrc */
	e = build_engine();
	fork_ev(e, 1002, 3, 1003, 4);
	exec_with(e, "/usr/bin/meson", "/usr/bin/python3.11", true, meson_argv, env_clean);
	tool_reads(e, "/usr/lib/python3/dist-packages/mesonbuild/mesonmain.py");
	tool_reads(e, SRC "/meson.build");
	tool_reads(e, HOME "/.netrc");
	CHECK_INT_EQ(engine_n_violations(e), 0);
	/* its own tree's .py, read as data after the decoy: not held against it */
	tool_reads(e, SRC "/version.py");
	CHECK_INT_EQ(engine_n_violations(e), 0);
	/* a usercustomize.py of the (writable) home before the decoy: not clean */
	exec_with(e, "/usr/bin/meson", "/usr/bin/python3.11", true, meson_argv, env_clean);
	tool_reads(e, HOME "/.local/lib/python3.11/site-packages/usercustomize.py");
	tool_reads(e, HOME "/.netrc");
	v = find_rule(e, "decoy-read");
	CHECK(v && strstr(v->detail, "usercustomize.py"), "the user site's code: %s", v ? v->detail : "none");
	end(e);

	/* PYTHONPATH, LD_PRELOAD: not clean from the start */
	for (int i = 0; i < 2; i++) {
		e = build_engine();
		fork_ev(e, 1002, 3, 1003, 4);
		exec_with(e, "/usr/bin/meson", "/usr/bin/python3.11", true, meson_argv, i ? env_pre : env_pp);
		tool_reads(e, HOME "/.netrc");
		v = find_rule(e, "decoy-read");
		CHECK(v && strstr(v->detail, i ? "LD_PRELOAD" : "PYTHONPATH"), "%s: %s",
		      i ? "LD_PRELOAD" : "PYTHONPATH", v ? v->detail : "none");
		end(e);
	}

	/* a meson of the build environment: its code is the build's to change */
	e = build_engine();
	fork_ev(e, 1002, 3, 1003, 4);
	exec_with(e, "/tmp/pip-build-env-x/overlay/bin/meson", "/usr/bin/python3.11", true, meson_argv,
		  env_clean);
	tool_reads(e, HOME "/.netrc");
	CHECK(find_rule(e, "decoy-read") != NULL, "meson by name only");
	end(e);

	CHECK(interp_env_loads_code("PYTHONPATH=/x") && interp_env_loads_code("PYTHONSTARTUP=x") &&
	      interp_env_loads_code("PYTHONWARNINGS=ignore::x.Y") && interp_env_loads_code("LD_AUDIT=x") &&
	      interp_env_loads_code("PYTHONPYCACHEPREFIX=/tmp") && interp_env_loads_code("GCONV_PATH=/tmp"),
	      "code-loading variables");
	CHECK(!interp_env_loads_code("PYTHONDONTWRITEBYTECODE=1") && !interp_env_loads_code("PATH=/x") &&
	      !interp_env_loads_code("PYTHONHASHSEED=0") && !interp_env_loads_code("LDFLAGS=-g"),
	      "harmless ones");
}

int main(void)
{
	if (!fixture_begin("reached"))
		return 1;
	test_token_forms();
	test_files_reached();
	test_path_only();
	test_exec_reached();
	test_exec_tokens();
	test_meson();
	fixture_end();
	return unit_summary("test_reached");
}
