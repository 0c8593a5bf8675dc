/* SARIF 2.1.0: the verdict as code scanning reads it (see sarif.h). */
#include "report/sarif.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/baseline.h"
#include "report/findings.h"
#include "decide/engine.h"
#include "report/report.h"
#include "base/base.h"

/* A path as a URI reference: every byte but unreserved ones and "/"
 * percent-encoded; an absolute path becomes a file:// URI. */
static char *path_uri(const char *path)
{
	size_t n = strlen(path), o = 0;
	char *out = xmalloc(3 * n + 8);

	if (strstr(path, "://"))
		return xstrdup(path);   /* a URL already (an sdist named by URL) */
	if (path[0] == '/') {
		memcpy(out, "file://", 7);
		o = 7;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];

		if (isalnum(c) || strchr("-._~/", c))
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 4, "%%%02X", c);
	}
	out[o] = '\0';
	return out;
}

static cJSON *text_obj(const char *text)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "text", text);
	return o;
}

static cJSON *rule_json(const struct finding_rule *r, const char *id)
{
	cJSON *o = cJSON_CreateObject(), *cfg, *props, *tags;
	autofree char *shortd = xasprintf("A package %s", r->title);

	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddItemToObject(o, "shortDescription", text_obj(shortd));
	cJSON_AddItemToObject(o, "fullDescription", text_obj(r->description));
	cJSON_AddItemToObject(o, "help", text_obj(r->help));
	cfg = cJSON_AddObjectToObject(o, "defaultConfiguration");
	cJSON_AddStringToObject(cfg, "level", "error");
	props = cJSON_AddObjectToObject(o, "properties");
	tags = cJSON_AddArrayToObject(props, "tags");
	cJSON_AddItemToArray(tags, cJSON_CreateString("security"));
	cJSON_AddItemToArray(tags, cJSON_CreateString("supply-chain"));
	cJSON_AddStringToObject(props, "precision", "high");
	cJSON_AddStringToObject(props, "problem.severity", "error");
	cJSON_AddStringToObject(props, "security-severity", r->severity);
	return o;
}

/* The rules: every known one in a fixed order (stable ruleIndex across
 * runs), then the unknown ids this run met, in order of appearance. */
struct rule_table {
	const char **ids;
	size_t n;
};

static int rule_index(const struct rule_table *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->ids[i], id))
			return (int)i;
	return -1;
}

static cJSON *rules_json(const struct engine *e, const size_t *idx, size_t n,
			 struct rule_table *t)
{
	size_t nk;
	const struct finding_rule *known = finding_rules(&nk);
	cJSON *a = cJSON_CreateArray();

	t->ids = xcalloc(nk + n + 1, sizeof(*t->ids));
	for (size_t i = 0; i < nk; i++) {
		t->ids[t->n++] = known[i].id;
		cJSON_AddItemToArray(a, rule_json(&known[i], known[i].id));
	}
	for (size_t j = 0; j < n; j++) {
		const char *id = engine_violation(e, idx[j])->rule;

		if (rule_index(t, id) >= 0)
			continue;
		t->ids[t->n++] = id;
		cJSON_AddItemToArray(a, rule_json(&finding_rule_unknown, id));
	}
	return a;
}

static void add_opt_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static cJSON *location_json(const struct violation_record *v, const struct origin *loc)
{
	cJSON *l = cJSON_CreateObject();

	if (loc->file) {
		cJSON *phys = cJSON_AddObjectToObject(l, "physicalLocation");
		cJSON *art = cJSON_AddObjectToObject(phys, "artifactLocation");
		cJSON *reg = cJSON_AddObjectToObject(phys, "region");
		autofree char *uri = path_uri(loc->file);

		cJSON_AddStringToObject(art, "uri", uri);
		if (loc->file[0] != '/' && !strstr(loc->file, "://"))
			cJSON_AddStringToObject(art, "uriBaseId", "%SRCROOT%");
		/* a line when known; else the file's first (viewers place results on lines) */
		cJSON_AddNumberToObject(reg, "startLine", loc->line ? loc->line : 1);
	}
	{
		cJSON *ll = cJSON_AddArrayToObject(l, "logicalLocations"), *p = cJSON_CreateObject();
		autofree char *fq = xasprintf("%s%s%s", v->package ? v->package : "pip",
					      v->version ? "==" : "", v->version ? v->version : "");

		cJSON_AddStringToObject(p, "name", v->package ? v->package : "pip");
		cJSON_AddStringToObject(p, "fullyQualifiedName", fq);
		cJSON_AddStringToObject(p, "kind", "package");
		cJSON_AddItemToArray(ll, p);
	}
	return l;
}

static cJSON *result_json(const struct engine *e, const struct violation_record *v,
			  const struct sarif_ctx *ctx, const struct rule_table *t)
{
	cJSON *r = cJSON_CreateObject(), *msg, *locs, *fp, *props;
	struct origin loc;
	struct baseline_key k;
	autofree char *text = NULL, *fingerprint = NULL;
	char outcome[256];

	origins_locate(ctx->origins, v->package, &loc);
	text = finding_message(e, v, &loc);
	cJSON_AddStringToObject(r, "ruleId", v->rule);
	cJSON_AddNumberToObject(r, "ruleIndex", rule_index(t, v->rule));
	cJSON_AddStringToObject(r, "kind", "fail");
	cJSON_AddStringToObject(r, "level", v->baselined ? "note" : "error");
	msg = cJSON_AddObjectToObject(r, "message");
	cJSON_AddStringToObject(msg, "text", text);
	locs = cJSON_AddArrayToObject(r, "locations");
	cJSON_AddItemToArray(locs, location_json(v, &loc));

	baseline_key_of(e, v, &k);
	fingerprint = xasprintf("%s/%s/%s", k.package, v->rule, k.hash);
	fp = cJSON_AddObjectToObject(r, "partialFingerprints");
	cJSON_AddStringToObject(fp, SARIF_FINGERPRINT, fingerprint);
	if (ctx->baseline)
		cJSON_AddStringToObject(r, "baselineState", v->baselined ? "unchanged" : "new");
	if (v->baselined) {
		cJSON *sup = cJSON_AddArrayToObject(r, "suppressions"), *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "kind", "external");
		cJSON_AddStringToObject(s, "status", "accepted");
		cJSON_AddStringToObject(s, "justification", "a known finding, accepted by the "
					"pipjail baseline (--baseline)");
		cJSON_AddItemToArray(sup, s);
	}
	props = cJSON_AddObjectToObject(r, "properties");
	add_opt_str(props, "package", v->package);
	add_opt_str(props, "version", v->version);
	add_opt_str(props, "hook", v->hook);
	cJSON_AddStringToObject(props, "role", role_name(v->role));
	add_opt_str(props, "evidence", v->evidence);
	cJSON_AddStringToObject(props, "normalizedEvidence", k.evidence);
	add_opt_str(props, "detail", v->detail);
	add_opt_str(props, "profileFile", v->profile_file);
	add_opt_str(props, "chain", v->chain);
	cJSON_AddStringToObject(props, "action", action_name(v->action));
	cJSON_AddStringToObject(props, "outcome", report_outcome(e, v, outcome, sizeof(outcome)));
	cJSON_AddBoolToObject(props, "baselined", v->baselined);
	if (loc.transitive)
		cJSON_AddBoolToObject(props, "transitive", true);
	baseline_key_free(&k);
	return r;
}

static cJSON *invocation_json(const struct engine *e, const struct sarif_ctx *ctx)
{
	cJSON *inv = cJSON_CreateObject();

	/* "the tool ran to completion": a verdict was reached */
	cJSON_AddBoolToObject(inv, "executionSuccessful", ctx->exit_code != EXIT_PIPJAIL_ERROR &&
			      strcmp(engine_verdict(e), "incomplete"));
	cJSON_AddNumberToObject(inv, "exitCode", ctx->exit_code);
	cJSON_AddStringToObject(inv, "exitCodeDescription", report_exit_meaning(ctx->exit_code));
	if (ctx->argv) {
		cJSON *a = cJSON_AddArrayToObject(inv, "arguments");

		for (size_t i = 0; ctx->argv[i]; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(ctx->argv[i]));
	}
	return inv;
}

cJSON *sarif_json(const struct engine *e, const struct sarif_ctx *ctx)
{
	const struct profile *p = engine_profile(e);
	cJSON *log = cJSON_CreateObject(), *runs, *run, *tool, *driver, *results, *props;
	struct rule_table t = { 0 };
	size_t n;
	autofree size_t *idx = findings_sorted(e, &n);

	cJSON_AddStringToObject(log, "$schema", SARIF_SCHEMA);
	cJSON_AddStringToObject(log, "version", SARIF_VERSION);
	runs = cJSON_AddArrayToObject(log, "runs");
	run = cJSON_CreateObject();
	cJSON_AddItemToArray(runs, run);
	tool = cJSON_AddObjectToObject(run, "tool");
	driver = cJSON_AddObjectToObject(tool, "driver");
	cJSON_AddStringToObject(driver, "name", "pipjail");
	cJSON_AddStringToObject(driver, "version", PIPJAIL_VERSION);
	cJSON_AddStringToObject(driver, "semanticVersion", PIPJAIL_VERSION);
	cJSON_AddItemToObject(driver, "rules", rules_json(e, idx, n, &t));
	{
		cJSON *invs = cJSON_AddArrayToObject(run, "invocations");

		cJSON_AddItemToArray(invs, invocation_json(e, ctx));
	}
	if (ctx->origins) {
		cJSON *bases = cJSON_AddObjectToObject(run, "originalUriBaseIds");
		cJSON *root = cJSON_AddObjectToObject(bases, "%SRCROOT%");
		const char *b = origins_base(ctx->origins);
		autofree char *dir = xasprintf("%s%s", b, strcmp(b, "/") ? "/" : "");
		autofree char *uri = path_uri(dir);

		cJSON_AddStringToObject(root, "uri", uri);
	}
	results = cJSON_AddArrayToObject(run, "results");
	for (size_t j = 0; j < n; j++)
		cJSON_AddItemToArray(results, result_json(e, engine_violation(e, idx[j]), ctx, &t));
	props = cJSON_AddObjectToObject(run, "properties");
	cJSON_AddStringToObject(props, "verdict", engine_verdict(e));
	cJSON_AddStringToObject(props, "mode", !engine_enforcing(e) ? "audit" : "enforce");
	add_opt_str(props, "profile", p ? p->name : NULL);
	cJSON_AddNumberToObject(props, "violations",
				(double)(engine_n_violations(e) - engine_n_baselined(e)));
	cJSON_AddNumberToObject(props, "baselined", (double)engine_n_baselined(e));
	free(t.ids);
	return log;
}

int sarif_write_fd(const struct engine *e, int fd, const struct sarif_ctx *ctx)
{
	return json_write_fd(sarif_json(e, ctx), fd);
}
