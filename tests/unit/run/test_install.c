/* The staged install as the run holds it (src/run/install.c), on a real
 * overlayfs (run as root): stage_check's findings become violations of
 * the run through install_check_stage, each of kind "staging" and
 * attributed by the engine to the process that wrote the file.  The venv,
 * the stage and what pip writes come from tests/unit/stage/stage_fixture.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "decide/engine.h"
#include "stage/stage.h"
#include "base/base.h"
#include "run/internal.h"
#include "../unit.h"
#include "../stage/stage_fixture.h"

/* Through the engine (install_check_stage): an undeclared file lands on
 * the build that wrote it, not on pip. */
static void test_finding_to_violation(void)
{
	static const char *const pip_argv[] = { "/venv/bin/python3", "/venv/bin/pip", "install", "evil-demo", NULL };
	static const char *const setup_argv[] = {
		"/venv/bin/python3", "-u", "-c", "exec(compile(open('setup.py').read(), 'setup.py', 'exec'))",
		"install", "--record", "/tmp/pip-record-q/install-record.txt", NULL,
	};
	static const char *const srcdir = "/tmp/pip-install-q/evil-demo_0123456789abcdef0123456789abcdef";
	struct trace_event ev = { .nr = -1, .mode = -1, .protocol = -1, .port = -1, .target_pid = -1,
				  .exit_code = -1, .comm = "python3" };
	struct engine *e = engine_new(NULL, false);
	autofree char *planted = xasprintf("%s/%s/zz_planted.py", venv, SP);
	autofree char *mpath = xasprintf("%s/%s/zz_planted.py", merged, SP);
	const struct violation_record *v = NULL;
	struct stage *s;
	int n;

	fresh_venv();
	s = stage_up();
	legacy_install(merged, "evil_demo-1.0.egg-info", "Name: evil-demo\nVersion: 1.0\n", legacy1, 1, NULL);
	writef(mpath, "print('planted')\n", 0);
	stage_down();
	engine_set_command(e, pip_argv + 1);
	ev.kind = "fork";
	ev.hpid = 500;
	ev.child_hpid = ev.child_htid = 501;
	ev.child_pid = 2;
	engine_event(e, &ev);
	ev = (struct trace_event){ .kind = "exec", .nr = -1, .mode = -1, .protocol = -1, .port = -1,
				   .target_pid = -1, .exit_code = -1, .hpid = 501, .pid = 2,
				   .path = "/venv/bin/pip", .abs = "/venv/bin/pip", .argv = pip_argv,
				   .cwd = "/work", .comm = "pip" };
	engine_event(e, &ev);
	ev.kind = "fork";
	ev.child_hpid = ev.child_htid = 502;
	ev.child_pid = 3;
	engine_event(e, &ev);
	ev.kind = "exec";
	ev.hpid = 502;
	ev.pid = 3;
	ev.path = ev.abs = "/venv/bin/python3";
	ev.argv = setup_argv;
	ev.cwd = srcdir;
	engine_event(e, &ev);
	ev.kind = "open";
	ev.argv = NULL;
	ev.path = ev.abs = ev.file = planted;
	ev.flags = "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC";
	ev.has_ret = true;
	ev.ret = 3;
	engine_event(e, &ev);
	{
		char err[512];

		CHECK(stage_scan(s, err, sizeof(err)) == 0, "scan: %s", err);
	}
	n = install_check_stage(s, e, NULL, NULL);
	CHECK_INT_EQ(n, 1);
	for (size_t i = 0; i < engine_n_violations(e); i++)
		if (!strcmp(engine_violation(e, i)->rule, "undeclared-file"))
			v = engine_violation(e, i);
	CHECK(v != NULL, "the engine has the staging violation");
	if (v) {
		CHECK(strstr(v->evidence, "zz_planted.py: not in any RECORD") != NULL, "%s", v->evidence);
		CHECK_STR_EQ(v->kind, "staging");
		CHECK_INT_EQ(v->hpid, 502);
		CHECK_STR_EQ(v->package, "evil-demo");
		CHECK_STR_EQ(v->hook, "setup.py install");
	}
	stage_discard(s);
	engine_free(e);
}

/* Events of a small run: pip (501), its setup.py hook (502). */
static void ev_fork(struct engine *e, uint32_t parent, uint32_t child)
{
	struct trace_event ev = { .kind = "fork", .nr = -1, .mode = -1, .protocol = -1, .port = -1,
				  .target_pid = -1, .exit_code = -1, .comm = "python3", .hpid = parent,
				  .child_hpid = child, .child_htid = child, .child_pid = child - 499 };

	engine_event(e, &ev);
}

static void ev_exec(struct engine *e, uint32_t hpid, const char *prog, const char *const *argv, const char *cwd)
{
	struct trace_event ev = { .kind = "exec", .nr = -1, .mode = -1, .protocol = -1, .port = -1,
				  .target_pid = -1, .exit_code = -1, .comm = "python3", .hpid = hpid,
				  .pid = hpid - 499, .path = prog, .abs = prog, .argv = argv, .cwd = cwd };

	engine_event(e, &ev);
}

static void ev_exit(struct engine *e, uint32_t hpid)
{
	struct trace_event ev = { .kind = "exit", .nr = -1, .mode = -1, .protocol = -1, .port = -1,
				  .target_pid = -1, .exit_code = 0, .comm = "python3", .hpid = hpid,
				  .pid = hpid - 499 };

	engine_event(e, &ev);
}

static int count_rule(const struct engine *e, const char *rule, uint32_t hpid)
{
	int n = 0;

	for (size_t i = 0; i < engine_n_violations(e); i++)
		if (!strcmp(engine_violation(e, i)->rule, rule) && (!hpid || engine_violation(e, i)->hpid == hpid))
			n++;
	return n;
}

/* A process still alive when the build hook that started it returns is a
 * violation outlived-build (decide/outlive.c); one the hook waited for is
 * not; a build server the profile names by its program's path is allowed,
 * and a process an outliver starts later outlives the hook too. */
static void test_outlived_build(void)
{
	static const char *const pip_argv[] = { "/venv/bin/python3", "/venv/bin/pip", "install", "demo", NULL };
	static const char *const setup_argv[] = {
		"/venv/bin/python3", "-u", "-c", "exec(compile(open('setup.py').read(), 'setup.py', 'exec'))",
		"bdist_wheel", NULL,
	};
	static const char *const sccache_argv[] = { "/usr/bin/sccache", "--start-server", NULL };
	static const char *const servers = "{\"build_servers\": [\"/usr/bin/sccache\"]}";
	static const char *const srcdir = "/tmp/pip-install-q/demo_0123456789abcdef0123456789abcdef";
	char err[512];

	for (int with_profile = 0; with_profile < 2; with_profile++) {
		struct profile *p = with_profile ? profile_load_buffer(servers, strlen(servers), "servers.json",
								      NULL, err, sizeof(err)) : NULL;
		struct engine *e;

		CHECK(!with_profile || p, "profile: %s", err);
		e = engine_new(p, false);
		engine_set_command(e, pip_argv + 1);
		ev_fork(e, 500, 501);
		ev_exec(e, 501, "/venv/bin/pip", pip_argv, "/work");
		ev_fork(e, 501, 502);
		ev_exec(e, 502, "/venv/bin/python3", setup_argv, srcdir);
		ev_fork(e, 502, 503);      /* a daemon: setsid, never waited for */
		ev_fork(e, 502, 504);      /* a compiler the hook waits for */
		ev_exit(e, 504);
		ev_fork(e, 502, 505);      /* the build server */
		ev_exec(e, 505, "/usr/bin/sccache", sccache_argv, srcdir);
		ev_fork(e, 505, 506);      /* its worker */
		ev_fork(e, 502, 508);      /* a helper that ends when the hook's pipe closes */
		ev_exit(e, 502);           /* the hook returns: their grace begins */
		CHECK_INT_EQ(count_rule(e, "outlived-build", 0), 0);
		ev_exit(e, 508);           /* the helper ends, doing nothing: never reported */
		ev_fork(e, 503, 507);      /* the daemon acts: it, and what it starts */
		CHECK_INT_EQ(count_rule(e, "outlived-build", 503), 1);
		CHECK_INT_EQ(count_rule(e, "outlived-build", 507), 1);
		CHECK_INT_EQ(count_rule(e, "outlived-build", 504), 0);
		CHECK_INT_EQ(count_rule(e, "outlived-build", 508), 0);
		{
			/* the grace (1 s) is over: still alive, quiet or not */
			struct trace_event late = { .kind = "exit", .nr = -1, .mode = -1, .protocol = -1,
						    .port = -1, .target_pid = -1, .comm = "python3",
						    .hpid = 509, .pid = 10, .t_mono_ns = 5000000000ull };

			engine_event(e, &late);
		}
		CHECK_INT_EQ(count_rule(e, "outlived-build", 505), with_profile ? 0 : 1);
		CHECK_INT_EQ(count_rule(e, "outlived-build", 506), with_profile ? 0 : 1);
		ev_exit(e, 501);
		CHECK_INT_EQ(count_rule(e, "outlived-build", 501), 0);
		for (size_t i = 0; i < engine_n_violations(e); i++) {
			const struct violation_record *v = engine_violation(e, i);

			if (v->hpid != 503 || strcmp(v->rule, "outlived-build"))
				continue;
			CHECK(strstr(v->evidence, "still running when its build hook setup.py bdist_wheel") != NULL,
			      "%s", v->evidence);
			CHECK_STR_EQ(v->hook, "setup.py bdist_wheel");
			CHECK(v->chain && strstr(v->chain, "setup.py bdist_wheel"), "chain: %s", v->chain);
		}
		engine_free(e);
		profile_free(p);
	}
	/* what build_servers accepts */
	{
		static const char *const bad[] = {
			"{\"build_servers\": [\"sccache\"]}", "{\"build_servers\": [\"/usr/bin/*\"]}",
			"{\"build_servers\": [\"/tmp/sccache\"]}", "{\"build_servers\": [\"$HOME/bin/x\"]}",
			"{\"build_servers\": \"/usr/bin/sccache\"}",
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			struct profile *p = profile_load_buffer(bad[i], strlen(bad[i]), "bad.json", NULL, err, sizeof(err));

			CHECK(p == NULL && strstr(err, "build_servers"), "%s refused: %s", bad[i], err);
			profile_free(p);
		}
	}
}

int main(void)
{
	test_outlived_build();
	if (geteuid() != 0) {
		printf("test_install: skipped (needs root for overlayfs)\n");
		return 0;
	}
	fixture_start();
	test_finding_to_violation();
	fixture_end();
	return unit_summary("test_install");
}
