/* `pipjail replay`: a run the engine judged live and wrote as an annotated
 * trace (the install of engine_fixture.h) is judged again from the trace
 * with the same verdict; a malformed trace is an error that names it. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "../unit.h"
#include "../engine_fixture.h"
#include "base/base.h"

/* Live: the engine writes the annotated trace; replay gives the same verdict. */
static void test_trace_and_replay(void)
{
	char tpath[PATH_MAX + 32], rpath[PATH_MAX + 32], ppath[PATH_MAX + 32];
	struct kills k = { 0 };
	struct engine *e = install_engine(true, &k);
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
		cJSON_AddItemToObject(extra, "profile", profile_to_json(engine_profile(e)));
		trace_write_header(w, &h);
		cJSON_Delete(extra);
	}
	engine_set_trace(e, w);
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
	install_end(e);

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
	if (!fixture_begin("replay"))
		return 1;
	test_trace_and_replay();
	fixture_end();
	return unit_summary("test_replay");
}
