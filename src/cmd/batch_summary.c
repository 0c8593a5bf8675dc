/* pipjail analyze --batch: each package's result.json (written last, only
 * for an analysis that really ended), and DIR/summary.json and
 * DIR/index.html built from them.  Formats: docs/report-format.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cmd/batch.h"
#include "report/report.h"

#define MAX_REPORT_BYTES (256u << 20)
#define MAX_RESULT_BYTES (1u << 20)
#define LOG_TAIL_BYTES   8192

static const char *const verdicts[] = { "violation", "incomplete", "error", "pending", "clean" };

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The last "pipjail: ..." line of the analysis's output: its own message
 * when it gave up (usage, an unreadable file, a missing index URL). */
static void last_message(const char *log, char *out, size_t len)
{
	static const char mine[] = "pipjail: ", report[] = "pipjail: analyze: report in ";
	const char *best = NULL, *p = log;

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, mine, strlen(mine)) && strncmp(p, report, strlen(report)))
			best = p + strlen(mine);
	if (best)
		snprintf(out, len, "%.*s", (int)strcspn(best, "\n"), best);
}

const char *batch_classify(int status, const cJSON *report, const char *log_tail, bool overran,
			   unsigned long long timeout_s, char *reason, size_t reason_len)
{
	const char *verdict = report ? jstr(report, "verdict") : NULL;
	const cJSON *lost = cJSON_GetObjectItemCaseSensitive(report, "lost");
	bool lost_events = cJSON_IsNumber(lost) && lost->valuedouble > 0;
	bool incomplete = report && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "incomplete"));
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	reason[0] = '\0';
	if (overran) {
		snprintf(reason, reason_len, "pipjail analyze did not end within %llu s of its "
			 "--timeout; the batch stopped it", timeout_s);
		return "error";
	}
	/* Cut short, no result: killed (a crash, a kill, the batch's own
	 * end), or interrupted (an incomplete report that lost nothing: a
	 * SIGINT or SIGTERM stopped it; or none at all, and exit 128+N). */
	if (!WIFEXITED(status))
		return NULL;
	if (incomplete && !lost_events && code != EXIT_TIMEOUT)
		return NULL;
	if (!verdict && (code == 128 + SIGINT || code == 128 + SIGTERM || code == 128 + SIGHUP))
		return NULL;
	if (verdict && !strcmp(verdict, "violation"))
		return "violation";
	if (code == EXIT_TIMEOUT) {
		snprintf(reason, reason_len, "timeout: the analysis ran longer than %llu s "
			 "(--timeout)", timeout_s);
		return "incomplete";
	}
	if (incomplete || (verdict && !strcmp(verdict, "incomplete"))) {
		snprintf(reason, reason_len, "the trace lost %.0f events", lost_events ?
			 lost->valuedouble : 0);
		return "incomplete";
	}
	if (verdict && !strcmp(verdict, "clean") && code == 0)
		return "clean";
	if (!verdict || code == EXIT_PIPJAIL_ERROR) {
		snprintf(reason, reason_len, "pipjail analyze exited %d%s", code,
			 verdict ? "" : " without a report");
		last_message(log_tail, reason, reason_len);
		return "error";
	}
	snprintf(reason, reason_len, "the install did not complete (exit %d): see analyze.log", code);
	return "error";
}

/* "pkgs/<key>/name" when has says it is there, else null. */
static void add_path(cJSON *o, const char *field, const struct batch_pkg *p, const char *name,
		     bool there)
{
	if (there) {
		autofree char *rel = xasprintf("pkgs/%s/%s", p->key, name);

		cJSON_AddStringToObject(o, field, rel);
	} else {
		cJSON_AddNullToObject(o, field);
	}
}

static cJSON *count_rules(const cJSON *report, unsigned *total)
{
	cJSON *by = cJSON_CreateObject();
	const cJSON *v;

	*total = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(report, "violations")) {
		const char *rule = jstr(v, "rule");
		cJSON *n;

		if (!rule || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "baselined")))
			continue;
		n = cJSON_GetObjectItemCaseSensitive(by, rule);
		if (n)
			cJSON_SetNumberValue(n, n->valuedouble + 1);
		else
			cJSON_AddNumberToObject(by, rule, 1);
		(*total)++;
	}
	return by;
}

static void add_identity(cJSON *o, const struct batch_pkg *p)
{
	cJSON_AddStringToObject(o, "line", p->entry);
	cJSON_AddNumberToObject(o, "lineno", p->lineno);
	cJSON_AddNumberToObject(o, "index", (double)p->index);
	cJSON_AddStringToObject(o, "key", p->key);
	cJSON_AddStringToObject(o, "spec", p->spec);
}

static char *json_text(cJSON *doc)
{
	char *s = cJSON_Print(doc);
	char *t = xasprintf("%s\n", s ? s : "null");

	free(s);
	return t;
}

cJSON *batch_record(struct batch *b, struct batch_pkg *p, int status, double seconds,
		    const char *started)
{
	int has = batch_settle_pkg(b, p);
	autofree char *dir = batch_pkg_path(b, p, "");
	autofree char *rep_path = batch_pkg_path(b, p, "/report.json");
	autofree char *log_path = batch_pkg_path(b, p, "/analyze.log");
	autofree char *log = batch_read_tail(b, log_path, LOG_TAIL_BYTES);
	autofree char *text = NULL;
	size_t len = 0;
	char *rep_text = has & BATCH_HAS_REPORT ?
		read_file_as_user(&b->user, rep_path, MAX_REPORT_BYTES, &len) : NULL;
	cJSON *report = rep_text ? cJSON_Parse(rep_text) : NULL;
	cJSON *r, *opts;
	char reason[512];
	const char *verdict;
	unsigned total = 0;
	int err;

	free(rep_text);
	verdict = batch_classify(status, report, log, p->watchdog > 0, b->o.a.timeout_s, reason,
				 sizeof(reason));
	if (!verdict) {
		cJSON_Delete(report);
		return NULL;
	}
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "format", BATCH_RESULT_FORMAT);
	cJSON_AddNumberToObject(r, "format_version", BATCH_FORMAT_VERSION);
	cJSON_AddStringToObject(r, "pipjail", PIPJAIL_VERSION);
	add_identity(r, p);
	cJSON_AddStringToObject(r, "verdict", verdict);
	if (reason[0])
		cJSON_AddStringToObject(r, "reason", reason);
	else
		cJSON_AddNullToObject(r, "reason");
	if (WIFEXITED(status))
		cJSON_AddNumberToObject(r, "exit", WEXITSTATUS(status));
	else
		cJSON_AddNullToObject(r, "exit");
	cJSON_AddItemToObject(r, "violations_by_rule", count_rules(report, &total));
	cJSON_AddNumberToObject(r, "violations", total);
	cJSON_AddNumberToObject(r, "duration_s", (double)(long long)(seconds * 1000) / 1000);
	cJSON_AddStringToObject(r, "started", started);
	opts = cJSON_AddObjectToObject(r, "options");
	cJSON_AddBoolToObject(opts, "import", b->o.a.import);
	cJSON_AddBoolToObject(opts, "fast_time", b->o.a.fast_time);
	cJSON_AddNumberToObject(opts, "timeout_s", (double)b->o.a.timeout_s);
	if (b->o.a.index_url)
		cJSON_AddStringToObject(opts, "index_url", b->o.a.index_url);
	else
		cJSON_AddNullToObject(opts, "index_url");
	add_path(r, "report", p, "report.json", has & BATCH_HAS_REPORT);
	add_path(r, "trace", p, "trace.jsonl", has & BATCH_HAS_TRACE);
	add_path(r, "html", p, "report.html", has & BATCH_HAS_HTML);
	add_path(r, "payloads", p, "payloads", has & BATCH_HAS_PAYLOADS);
	add_path(r, "log", p, "analyze.log", has & BATCH_HAS_LOG);
	cJSON_Delete(report);
	text = json_text(r);
	err = batch_write_as_user(b, dir, "result.json", text, strlen(text));
	if (err) {
		errno = err;
		warn_errno("%s/result.json", dir);
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

const char *batch_result_verdict(const cJSON *result, unsigned *violations)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(result, "violations");

	if (violations)
		*violations = cJSON_IsNumber(n) ? (unsigned)n->valuedouble : 0;
	return jstr(result, "verdict");
}

bool batch_result_retryable(const cJSON *result)
{
	const char *v = batch_result_verdict(result, NULL);

	return v && (!strcmp(v, "error") || !strcmp(v, "incomplete"));
}

cJSON *batch_load_result(const struct batch *b, const struct batch_pkg *p)
{
	autofree char *path = batch_pkg_path(b, p, "/result.json");
	size_t len = 0;
	autofree char *text = read_file_as_user(&b->user, path, MAX_RESULT_BYTES, &len);
	cJSON *r = text ? cJSON_Parse(text) : NULL;
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(r, "format_version");
	const char *fmt = jstr(r, "format"), *key = jstr(r, "key"), *line = jstr(r, "line");
	const char *v = jstr(r, "verdict");
	bool known = false;

	for (size_t i = 0; v && i < ARRAY_SIZE(verdicts); i++)
		known |= strcmp(v, verdicts[i]) == 0 && strcmp(v, "pending") != 0;
	if (r && fmt && !strcmp(fmt, BATCH_RESULT_FORMAT) && cJSON_IsNumber(ver) &&
	    ver->valuedouble == BATCH_FORMAT_VERSION && key && !strcmp(key, p->key) && line &&
	    !strcmp(line, p->entry) && known)
		return r;
	cJSON_Delete(r);
	return NULL;
}

/* --- summary.json ----------------------------------------------------------- */

/* The summary's record of a package: who it is (from LIST as it is now)
 * and what its result says, or "pending". */
static cJSON *summary_record(const struct batch *b, const struct batch_pkg *p)
{
	static const char *const copied[] = { "verdict", "reason", "exit", "violations",
					      "violations_by_rule", "duration_s", "started",
					      "report", "trace", "html", "payloads", "log" };
	cJSON *res = batch_load_result(b, p);
	cJSON *o = cJSON_CreateObject();
	autofree char *rel = res ? xasprintf("pkgs/%s/result.json", p->key) : NULL;

	add_identity(o, p);
	if (!res) {
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "verdict", "pending");
		cJSON_AddStringToObject(res, "reason", "no result yet: not analysed, or cut short "
					"(a second run analyses it)");
		cJSON_AddNumberToObject(res, "violations", 0);
		cJSON_AddObjectToObject(res, "violations_by_rule");
	}
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(res, copied[i]);

		cJSON_AddItemToObject(o, copied[i], v ? v : cJSON_CreateNull());
	}
	if (rel)
		cJSON_AddStringToObject(o, "result", rel);
	else
		cJSON_AddNullToObject(o, "result");
	cJSON_Delete(res);
	return o;
}

static void add_to(cJSON *obj, const char *name, double n)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (v)
		cJSON_SetNumberValue(v, v->valuedouble + n);
	else
		cJSON_AddNumberToObject(obj, name, n);
}

static cJSON *totals(const cJSON *packages)
{
	cJSON *t = cJSON_CreateObject(), *by = cJSON_CreateObject(), *rules = cJSON_CreateObject();
	const cJSON *rec, *rule;
	double viols = 0, secs = 0;

	cJSON_AddNumberToObject(t, "packages", cJSON_GetArraySize(packages));
	for (size_t i = 0; i < ARRAY_SIZE(verdicts); i++)
		cJSON_AddNumberToObject(by, verdicts[i], 0);
	cJSON_ArrayForEach(rec, packages) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "duration_s");
		unsigned n = 0;

		add_to(by, batch_result_verdict(rec, &n), 1);
		viols += n;
		secs += cJSON_IsNumber(d) ? d->valuedouble : 0;
		cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(rec, "violations_by_rule")) {
			cJSON *r = cJSON_GetObjectItemCaseSensitive(rules, rule->string);

			if (!r) {
				r = cJSON_AddObjectToObject(rules, rule->string);
				cJSON_AddNumberToObject(r, "packages", 0);
				cJSON_AddNumberToObject(r, "violations", 0);
			}
			add_to(r, "packages", 1);
			add_to(r, "violations", rule->valuedouble);
		}
	}
	cJSON_AddItemToObject(t, "verdicts", by);
	cJSON_AddNumberToObject(t, "violations", viols);
	cJSON_AddItemToObject(t, "rules", rules);
	cJSON_AddNumberToObject(t, "duration_s", (double)(long long)(secs * 1000) / 1000);
	return t;
}

static char *utc_now(void)
{
	time_t now = time(NULL);
	struct tm tm;
	char buf[32];

	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

int batch_write_summary(const struct batch *b)
{
	cJSON *s = cJSON_CreateObject(), *pk;
	autofree char *now = utc_now(), *text = NULL, *html = NULL;
	size_t html_len = 0;
	FILE *f;
	int err;

	cJSON_AddStringToObject(s, "format", BATCH_SUMMARY_FORMAT);
	cJSON_AddNumberToObject(s, "format_version", BATCH_FORMAT_VERSION);
	cJSON_AddStringToObject(s, "pipjail", PIPJAIL_VERSION);
	cJSON_AddStringToObject(s, "list", b->list_abs);
	cJSON_AddStringToObject(s, "generated", now);
	pk = cJSON_AddArrayToObject(s, "packages");
	for (size_t i = 0; i < b->n; i++)
		cJSON_AddItemToArray(pk, summary_record(b, &b->pkgs[i]));
	cJSON_AddItemToObject(s, "totals", totals(pk));

	f = open_memstream(&html, &html_len);
	if (!f)
		die_errno("open_memstream");
	html_batch_index(f, s);
	if (fclose(f) != 0)
		die_errno("rendering index.html");
	text = json_text(s);
	cJSON_Delete(s);
	err = batch_write_as_user(b, b->o.a.out, "summary.json", text, strlen(text));
	if (!err)
		err = batch_write_as_user(b, b->o.a.out, "index.html", html, html_len);
	if (err) {
		errno = err;
		warn_errno("writing %s/summary.json and index.html", b->o.a.out);
		return -1;
	}
	return 0;
}
