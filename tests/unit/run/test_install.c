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
	n = install_check_stage(s, e);
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

int main(void)
{
	if (geteuid() != 0) {
		printf("test_install: skipped (needs root for overlayfs)\n");
		return 0;
	}
	fixture_start();
	test_finding_to_violation();
	fixture_end();
	return unit_summary("test_install");
}
