/* The reports of a run the engine judged (the install of engine_fixture.h):
 * the human summary (one line for a clean run; per package, each violation
 * with its rule, chain and what was done) and the JSON report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "../unit.h"
#include "../engine_fixture.h"
#include "base/base.h"

/* A clean install: one short line. */
static void test_clean_summary(void)
{
	struct kills k = { 0 };
	struct engine *e = install_engine(true, &k);
	struct engine_outcome out = { .command_code = 0 };

	clean_part(e);
	second_package(e);
	engine_set_outcome(e, &out);
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
	install_end(e);
}

/* The install with demo's build turned hostile, enforced or audited. */
static void test_violation_reports(bool enforce)
{
	struct kills k = { 0 };
	struct engine *e = install_engine(enforce, &k);

	clean_part(e);
	bad_part(e);
	second_package(e);

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
			if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "rule")), "network"))
				continue;
			seen = true;
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "package")), "demo");
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "hook")), "build_wheel");
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "role")), "tool");
			CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "action")), "kill-process");
			CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(it, "pids")) == 4, "pids");
			CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "time")), "time");
		}
		CHECK(seen, "curl's network violation is in the JSON");
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
	install_end(e);
}

int main(void)
{
	if (!fixture_begin("report"))
		return 1;
	test_clean_summary();
	test_violation_reports(true);
	test_violation_reports(false);
	fixture_end();
	return unit_summary("test_report");
}
