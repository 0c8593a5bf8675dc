/* The index page of a batch (DIR/index.html of `pipjail analyze --batch`):
 * every package of the summary, the most severe first, each linking to its
 * own report; the violations counted per rule.  One self-contained page,
 * like the single report (report/html.c, whose pieces it uses). */
#include <stdlib.h>
#include <string.h>

#include "report/html.h"
#include "report/html_parts.h"
#include "base/base.h"

static const char *const order[] = { "violation", "incomplete", "error", "pending", "clean" };

static const char index_css[] =
	".counts span{display:inline-block;margin-right:1em;padding:2px 8px;border-radius:4px}"
	".b-violation{background:#fde2e1;border:1px solid #c0392b}"
	".b-incomplete,.b-error{background:#fff3d6;border:1px solid #d9822b}"
	".b-pending{background:#eee;border:1px solid #999}"
	".b-clean{background:#e3f7e3;border:1px solid #2e8b57}"
	"tr.v-violation td{background:#fff0f0}tr.v-incomplete td,tr.v-error td{background:#fffbea}"
	"tr.v-pending td{color:#666}td.n{text-align:right}.files a{margin-right:.6em}";

static int rank(const char *verdict)
{
	for (size_t i = 0; verdict && i < ARRAY_SIZE(order); i++)
		if (!strcmp(verdict, order[i]))
			return (int)i;
	return (int)ARRAY_SIZE(order);
}

/* The most severe first; then the most violations; then LIST's order. */
static int by_severity(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int rx = rank(html_str(x, "verdict")), ry = rank(html_str(y, "verdict"));
	double vx = html_num(x, "violations"), vy = html_num(y, "violations");

	if (rx != ry)
		return rx - ry;
	if (vx != vy)
		return vx > vy ? -1 : 1;
	return html_num(x, "index") < html_num(y, "index") ? -1 : 1;
}

static void file_link(FILE *f, const cJSON *rec, const char *field, const char *text)
{
	const char *href = html_str(rec, field);

	if (!href)
		return;
	fputs("<a href=\"", f);
	html_esc(f, href);
	fputs("\">", f);
	html_esc(f, text);
	fputs("</a>", f);
}

static void section_rules(FILE *f, const cJSON *totals)
{
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(totals, "rules"), *r;

	fputs("<h2 id=\"rules\">Violations by rule</h2>\n", f);
	if (cJSON_GetArraySize(rules) == 0) {
		fputs("<p>None.</p>\n", f);
		return;
	}
	fputs("<table class=\"rules\"><tr><th>rule</th><th>packages</th><th>violations</th></tr>\n", f);
	cJSON_ArrayForEach(r, rules) {
		fputs("<tr class=\"rule\"><td><b>", f);
		html_esc(f, r->string);
		fprintf(f, "</b></td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td></tr>\n",
			html_num(r, "packages"), html_num(r, "violations"));
	}
	fputs("</table>\n", f);
}

static void package_row(FILE *f, const cJSON *rec)
{
	const char *verdict = html_str(rec, "verdict");
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(rec, "violations_by_rule"), *r;
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(rec, "exit");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "duration_s");

	int k = rank(verdict);

	fprintf(f, "<tr class=\"pkg v-%s\" id=\"pkg-", k < (int)ARRAY_SIZE(order) ? order[k] : "error");
	html_esc(f, html_str(rec, "key"));
	fputs("\"><td class=\"verdict\">", f);
	html_esc(f, verdict ? verdict : "?");
	fputs("</td><td class=\"package\">", f);
	if (html_str(rec, "html"))
		file_link(f, rec, "html", html_str(rec, "line"));
	else
		html_esc(f, html_str(rec, "line"));
	fprintf(f, " <span class=\"pid\">line %.0f</span></td><td class=\"rules\">",
		html_num(rec, "lineno"));
	cJSON_ArrayForEach(r, rules) {
		html_esc(f, r->string);
		fprintf(f, " ×%.0f ", r->valuedouble);
	}
	if (cJSON_IsNumber(ex))
		fprintf(f, "</td><td class=\"n\">%.0f", ex->valuedouble);
	else
		fputs("</td><td class=\"n\">—", f);
	if (cJSON_IsNumber(d))
		fprintf(f, "</td><td class=\"n\">%.1f s", d->valuedouble);
	else
		fputs("</td><td class=\"n\">—", f);
	fputs("</td><td class=\"files\">", f);
	file_link(f, rec, "report", "report.json");
	file_link(f, rec, "trace", "trace.jsonl");
	file_link(f, rec, "log", "analyze.log");
	html_next_cell(f, html_str(rec, "reason"));
	fputs("</td></tr>\n", f);
}

void html_batch_index(FILE *f, const cJSON *summary)
{
	const cJSON *pk = cJSON_GetObjectItemCaseSensitive(summary, "packages");
	const cJSON *totals = cJSON_GetObjectItemCaseSensitive(summary, "totals");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(totals, "verdicts");
	size_t n = (size_t)cJSON_GetArraySize(pk), i = 0;
	const cJSON **rows = xcalloc(n + 1, sizeof(*rows));
	const cJSON *rec;

	html_page_start(f, "pipjail batch analysis", index_css);
	fputs("<p>List <code>", f);
	html_esc(f, html_str(summary, "list"));
	fputs("</code>, written ", f);
	html_esc(f, html_str(summary, "generated"));
	fprintf(f, ": %zu package%s.</p>\n<p class=\"counts\">", n, n == 1 ? "" : "s");
	for (size_t k = 0; k < ARRAY_SIZE(order); k++)
		fprintf(f, "<span class=\"b-%s\">%.0f %s</span>", order[k], html_num(by, order[k]),
			order[k]);
	fputs("</p>\n<nav><a href=\"#packages\">Packages</a><a href=\"#rules\">Rules</a></nav>\n", f);
	cJSON_ArrayForEach(rec, pk)
		rows[i++] = rec;
	qsort(rows, n, sizeof(*rows), by_severity);
	fputs("<h2 id=\"packages\">Packages</h2>\n<table class=\"packages\"><tr><th>verdict</th>"
	      "<th>package</th><th>violations</th><th>exit</th><th>time</th><th>files</th>"
	      "<th>why</th></tr>\n", f);
	for (i = 0; i < n; i++)
		package_row(f, rows[i]);
	fputs("</table>\n", f);
	section_rules(f, totals);
	fputs("</body></html>\n", f);
	free(rows);
}
