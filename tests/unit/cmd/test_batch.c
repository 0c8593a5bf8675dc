/* pipjail analyze --batch, the parts without a jail: a LIST line reduced to
 * its entry, the package's key, the verdict of a finished analysis (each
 * row of docs/report-format.md's table), and the index page's order and
 * escaping. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cmd/batch.h"
#include "report/report.h"
#include "../unit.h"

static void test_entry(void)
{
	char a[] = "  /feed/evil-1.0.tar.gz   # from the feed\r", b[] = "# only a comment",
	     c[] = "   \t", d[] = "name#1==2.0", e[] = "pkg==1.0\t#x";

	CHECK_STR_EQ(batch_entry(a), "/feed/evil-1.0.tar.gz");
	CHECK(batch_entry(b) == NULL, "a comment line is no package");
	CHECK(batch_entry(c) == NULL, "a blank line is no package");
	CHECK_STR_EQ(batch_entry(d), "name#1==2.0");
	CHECK_STR_EQ(batch_entry(e), "pkg==1.0");
}

static void test_key(void)
{
	char k1[BATCH_KEY_MAX], k2[BATCH_KEY_MAX], k3[BATCH_KEY_MAX], k4[BATCH_KEY_MAX];

	/* the hash is SHA-256 of the line: what the Slurm side may compute too */
	batch_key("calmpkg-1.0.tar.gz", k1);
	CHECK_STR_EQ(k1, "calmpkg-1.0.tar.gz-a1cbd26851");
	batch_key("/other/dir/calmpkg-1.0.tar.gz", k2);
	CHECK(strncmp(k2, "calmpkg-1.0.tar.gz-", 19) == 0 && strcmp(k1, k2) != 0,
	      "same name, other line: %s vs %s", k1, k2);
	batch_key("../.hidden/ x<y>==1", k3);
	CHECK(strspn(k3, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	      strlen(k3) && k3[0] != '.', "a safe name: %s", k3);
	batch_key("/", k4);
	CHECK(k4[0] == 'p' && k4[1] == '-', "a line with no name: %s", k4);
	batch_key("a/very/long/path/to/a-package-with-a-rather-long-name-indeed-1.0.tar.gz", k4);
	CHECK(strlen(k4) == 40 + 11, "the name part is cut at 40: %s", k4);
}

static cJSON *report(const char *verdict, bool incomplete, double lost)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "verdict", verdict);
	cJSON_AddBoolToObject(r, "incomplete", incomplete);
	cJSON_AddNumberToObject(r, "lost", lost);
	return r;
}

static void expect(int status, cJSON *rep, const char *log, bool overran, const char *verdict,
		   const char *reason_part)
{
	char reason[512];
	const char *got = batch_classify(status, rep, log, overran, 300, reason, sizeof(reason));

	if (!verdict)
		CHECK(got == NULL, "cut short, not %s (%s)", got, reason);
	else
		CHECK_STR_EQ(got, verdict);
	if (reason_part)
		CHECK(strstr(reason, reason_part) != NULL, "reason \"%s\" lacks \"%s\"", reason,
		      reason_part);
	cJSON_Delete(rep);
}

#define EXITED(n) ((n) << 8)

static void test_classify(void)
{
	const char *log = "pip output\npipjail: x.tar.gz: cannot be read (as user u)\n"
			  "pipjail: analyze: report in out/report.html\n";

	expect(EXITED(143), report("incomplete", true, 0), "", true, "error", "did not end within 300");
	expect(SIGKILL, NULL, "", false, NULL, NULL);
	expect(SIGSEGV, report("clean", false, 0), "", false, NULL, NULL);
	expect(EXITED(143), report("incomplete", true, 0), "", false, NULL, NULL);
	expect(EXITED(1), report("incomplete", true, 0), "", false, NULL, NULL);
	expect(EXITED(100), report("violation", true, 0), "", false, NULL, NULL);
	expect(EXITED(143), NULL, "", false, NULL, NULL);
	expect(EXITED(100), report("violation", false, 0), "", false, "violation", NULL);
	expect(EXITED(0), report("clean", false, 0), "", false, "clean", NULL);
	expect(EXITED(124), report("clean", false, 0), "", false, "incomplete", "timeout");
	expect(EXITED(102), report("incomplete", true, 12), "", false, "incomplete", "lost 12");
	expect(EXITED(125), NULL, log, false, "error", "x.tar.gz: cannot be read (as user u)");
	expect(EXITED(125), NULL, "", false, "error", "exited 125 without a report");
	expect(EXITED(2), report("clean", false, 0), "", false, "error", "did not complete (exit 2)");
	/* a package whose own code exits 143 is not an interruption */
	expect(EXITED(143), report("clean", false, 0), "", false, "error", "exit 143");
}

static cJSON *record(const char *line, const char *verdict, double violations, double index)
{
	cJSON *r = cJSON_CreateObject();
	char key[BATCH_KEY_MAX];

	batch_key(line, key);
	cJSON_AddStringToObject(r, "line", line);
	cJSON_AddStringToObject(r, "key", key);
	cJSON_AddStringToObject(r, "verdict", verdict);
	cJSON_AddNumberToObject(r, "violations", violations);
	cJSON_AddNumberToObject(r, "index", index);
	cJSON_AddNumberToObject(r, "lineno", index + 1);
	cJSON_AddObjectToObject(r, "violations_by_rule");
	return r;
}

static void test_index_page(void)
{
	cJSON *s = cJSON_CreateObject(), *pk = cJSON_AddArrayToObject(s, "packages");
	char *html = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&html, &len);
	const char *order[] = { "few-violations", "many-violations", "<img src=x>==1", "cut",
				"fine", "broken" };
	const char *p[6];

	cJSON_AddStringToObject(s, "list", "/feed/list.txt");
	cJSON_AddItemToArray(pk, record("fine", "clean", 0, 0));
	cJSON_AddItemToArray(pk, record("few-violations", "violation", 1, 1));
	cJSON_AddItemToArray(pk, record("broken", "error", 0, 2));
	cJSON_AddItemToArray(pk, record("many-violations", "violation", 5, 3));
	cJSON_AddItemToArray(pk, record("cut", "pending", 0, 4));
	cJSON_AddItemToArray(pk, record("<img src=x>==1", "incomplete", 0, 5));
	html_batch_index(f, s);
	fclose(f);
	CHECK(strstr(html, "<img") == NULL && strstr(html, "&lt;img src=x&gt;==1") != NULL,
	      "a LIST line is escaped");
	CHECK(strstr(html, "<script") == NULL && strstr(html, "://") == NULL &&
	      strstr(html, "url(") == NULL,
	      "no script, no external asset");
	for (size_t i = 0; i < 6; i++) {
		char cell[128];

		snprintf(cell, sizeof(cell), "<td class=\"package\">%s",
			 i == 2 ? "&lt;img src=x&gt;==1" : order[i]);
		p[i] = strstr(html, cell);
		CHECK(p[i] != NULL, "row %s", order[i]);
	}
	/* violation (most first), incomplete, error, pending, clean */
	CHECK(p[1] < p[0] && p[0] < p[2] && p[2] < p[5] && p[5] < p[3] && p[3] < p[4],
	      "rows sorted by severity");
	free(html);
	cJSON_Delete(s);
}

int main(void)
{
	test_entry();
	test_key();
	test_classify();
	test_index_page();
	return unit_summary("test_batch");
}
