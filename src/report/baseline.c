/* Baselines: known findings, keyed so that the same finding in another run
 * (other decoy values, other temp dirs, another machine) has the same key.
 * See baseline.h for the key and the normalisation, docs/ci.md for use. */
#include "report/baseline.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "decide/engine.h"
#include "pip/pip.h"
#include "base/base.h"

struct bentry {
	char *package;            /* PEP 503, "" for pip */
	char *rule;
	char hash[65];
};

struct baseline {
	struct bentry *v;
	size_t n;
};

/* ---- normalisation ------------------------------------------------------------- */

static bool name_ch(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
}

static bool all_of(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(set, s[i]) || !s[i])
			return false;
	return true;
}

#define TEMP_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"  /* Python's tempfile names */
#define HEX_CHARS  "0123456789abcdef"

/* One path component (a run of name characters): its random part, if it
 * has one of the known forms, becomes "*". */
static void put_component(FILE *out, const char *c, size_t n)
{
	const char *dash = NULL, *us = NULL;

	for (size_t i = 0; i < n; i++) {
		if (c[i] == '-')
			dash = c + i;
		if (c[i] == '_')
			us = c + i;
	}
	/* pip's tempfile.mkdtemp(prefix="pip-<kind>-"): pip-install-k2j3ab_x */
	if (n > 4 && !strncmp(c, "pip-", 4) && dash && dash > c + 3 &&
	    (size_t)(c + n - dash - 1) == 8 && all_of(dash + 1, 8, TEMP_CHARS)) {
		fprintf(out, "%.*s*", (int)(dash + 1 - c), c);
		return;
	}
	/* Python's tempfile default names: tmpk2j3ab_x */
	if (n == 11 && !strncmp(c, "tmp", 3) && all_of(c + 3, 8, TEMP_CHARS)) {
		fputs("tmp*", out);
		return;
	}
	/* pip's source trees: <name>_<uuid4 hex> */
	if (us && us > c && (size_t)(c + n - us - 1) == 32 && all_of(us + 1, 32, HEX_CHARS)) {
		fprintf(out, "%.*s*", (int)(us + 1 - c), c);
		return;
	}
	fwrite(c, 1, n, out);
}

static size_t digits(const char *s)
{
	size_t n = 0;

	while (isdigit((unsigned char)s[n]))
		n++;
	return n;
}

struct pathvar {
	const char *name, *val;
	size_t len;
};

static int by_len_desc(const void *a, const void *b)
{
	const struct pathvar *x = a, *y = b;

	return x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

static size_t collect_vars(const struct baseline_env *env, struct pathvar v[3])
{
	const struct pathvar all[3] = {
		{ "$ENV", env->venv, 0 }, { "$CWD", env->cwd, 0 }, { "$HOME", env->home, 0 },
	};
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		size_t len = all[i].val ? strlen(all[i].val) : 0;

		while (len > 1 && all[i].val[len - 1] == '/')
			len--;
		/* "/" (a home of /) would eat every path */
		if (len < 2 || all[i].val[0] != '/')
			continue;
		v[n] = all[i];
		v[n++].len = len;
	}
	qsort(v, n, sizeof(*v), by_len_desc);
	return n;
}

/* Step 1: decoy values, longest first (a token that holds another). */
static char *replace_tokens(const char *s, const struct baseline_env *env)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	if (!out)
		die_errno("open_memstream");
	while (*s) {
		size_t best = 0, bi = 0;

		for (size_t t = 0; t < env->n_tokens; t++) {
			size_t n = env->tokens[t] ? strlen(env->tokens[t]) : 0;

			if (n >= 4 && n > best && !strncmp(s, env->tokens[t], n)) {
				best = n;
				bi = t;
			}
		}
		if (best) {
			fprintf(out, "<decoy %s>", env->wheres && env->wheres[bi] ? env->wheres[bi] : "?");
			s += best;
		} else {
			fputc(*s++, out);
		}
	}
	if (fclose(out) != 0)
		die_errno("open_memstream");
	return buf;
}

char *baseline_normalize(const char *evidence, const struct baseline_env *env)
{
	static const struct baseline_env none = { 0 };
	autofree char *s = NULL;
	struct pathvar vars[3];
	size_t nv, i = 0, size = 0;
	char *buf = NULL;
	FILE *out;

	env = env ? env : &none;
	s = replace_tokens(evidence ? evidence : "", env);
	nv = collect_vars(env, vars);
	out = open_memstream(&buf, &size);
	if (!out)
		die_errno("open_memstream");
	while (s[i]) {
		bool starts = i == 0 || (!name_ch((unsigned char)s[i - 1]) && s[i - 1] != '/');
		size_t j, d;

		if (starts && s[i] == '/') {
			size_t k;

			for (k = 0; k < nv; k++)
				if (!strncmp(s + i, vars[k].val, vars[k].len) &&
				    !name_ch((unsigned char)s[i + vars[k].len]))
					break;
			if (k < nv) {
				fputs(vars[k].name, out);
				i += vars[k].len;
				continue;
			}
		}
		if (!strncmp(s + i, "/proc/", 6) && (d = digits(s + i + 6)) &&
		    !name_ch((unsigned char)s[i + 6 + d])) {
			fputs("/proc/<pid>", out);
			i += 6 + d;
			continue;
		}
		if (!name_ch((unsigned char)s[i]) || (i && name_ch((unsigned char)s[i - 1]))) {
			fputc(s[i++], out);
			continue;
		}
		for (j = i; name_ch((unsigned char)s[j]); j++)
			;
		/* "pid 1234", "pid=1234": a pid of this run */
		if (j - i == 3 && !strncmp(s + i, "pid", 3) && (s[j] == ' ' || s[j] == '=') &&
		    (d = digits(s + j + 1)) && !name_ch((unsigned char)s[j + 1 + d])) {
			fprintf(out, "pid%c<pid>", s[j]);
			i = j + 1 + d;
			continue;
		}
		put_component(out, s + i, j - i);
		i = j;
	}
	if (fclose(out) != 0)
		die_errno("open_memstream");
	return buf;
}

char *baseline_normalize_for(const struct engine *e, const char *evidence)
{
	const struct profile *p = engine_profile(e);
	struct baseline_env env = { 0 };
	const char **tokens = NULL, **wheres = NULL;
	const char *where;
	char *out;
	size_t n = 0;

	if (p) {
		env.home = p->vars[VAR_HOME];
		env.cwd = p->vars[VAR_CWD];
		env.venv = p->vars[VAR_ENV];
	}
	while (engine_decoy(e, n, NULL))
		n++;
	tokens = xcalloc(n + 1, sizeof(*tokens));
	wheres = xcalloc(n + 1, sizeof(*wheres));
	for (size_t i = 0; i < n; i++) {
		tokens[i] = engine_decoy(e, i, &where);
		wheres[i] = where;
	}
	env.tokens = tokens;
	env.wheres = wheres;
	env.n_tokens = n;
	out = baseline_normalize(evidence, &env);
	free(tokens);
	free(wheres);
	return out;
}

static void hex_sha256(const char *s, char hex[65])
{
	uint8_t d[SHA256_DIGEST_LEN];

	sha256(s, strlen(s), d);
	for (size_t i = 0; i < SHA256_DIGEST_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void baseline_key_of(const struct engine *e, const struct violation_record *v,
		     struct baseline_key *k)
{
	k->package = v->package ? pip_normalize_name(v->package) : xstrdup("");
	k->evidence = baseline_normalize_for(e, v->evidence);
	hex_sha256(k->evidence, k->hash);
}

void baseline_key_free(struct baseline_key *k)
{
	free(k->package);
	free(k->evidence);
	k->package = k->evidence = NULL;
}

/* ---- the file ------------------------------------------------------------------- */

void baseline_free(struct baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].package);
		free(b->v[i].rule);
	}
	free(b->v);
	free(b);
}

size_t baseline_size(const struct baseline *b)
{
	return b ? b->n : 0;
}

static bool is_hash(const char *s)
{
	return s && strlen(s) == 64 && all_of(s, 64, HEX_CHARS);
}

struct baseline *baseline_parse(const char *text, size_t len, const char *name, char *err,
				size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *fmt, *ver, *findings, *it;
	struct baseline *b = NULL;
	size_t i = 0;

	if (!root) {
		snprintf(err, errlen, "baseline %s: not valid JSON (near byte %td)", name,
			 cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : (ptrdiff_t)0);
		return NULL;
	}
	fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
	ver = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	findings = cJSON_GetObjectItemCaseSensitive(root, "findings");
	if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, BASELINE_FORMAT)) {
		snprintf(err, errlen, "baseline %s: format: expected \"%s\" (write one with "
			 "--write-baseline)", name, BASELINE_FORMAT);
		goto fail;
	}
	if (!cJSON_IsNumber(ver) || ver->valuedouble != BASELINE_FORMAT_VERSION) {
		snprintf(err, errlen, "baseline %s: format_version: expected %d", name,
			 BASELINE_FORMAT_VERSION);
		goto fail;
	}
	if (!cJSON_IsArray(findings)) {
		snprintf(err, errlen, "baseline %s: findings: expected an array", name);
		goto fail;
	}
	b = xcalloc(1, sizeof(*b));
	b->v = xcalloc((size_t)cJSON_GetArraySize(findings) + 1, sizeof(*b->v));
	cJSON_ArrayForEach(it, findings) {
		const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(it, "package");
		const cJSON *rule = cJSON_GetObjectItemCaseSensitive(it, "rule");
		const cJSON *hash = cJSON_GetObjectItemCaseSensitive(it, "evidence_sha256");
		struct bentry *en;

		if (!cJSON_IsObject(it) || !(cJSON_IsNull(pkg) || cJSON_IsString(pkg)) ||
		    !cJSON_IsString(rule) || !cJSON_IsString(hash) || !is_hash(hash->valuestring)) {
			snprintf(err, errlen, "baseline %s: findings[%zu]: expected an object with "
				 "\"package\" (a string or null), \"rule\" (a string) and "
				 "\"evidence_sha256\" (64 lowercase hex digits)", name, i);
			goto fail;
		}
		en = &b->v[b->n++];
		en->package = cJSON_IsString(pkg) ? pip_normalize_name(pkg->valuestring) : xstrdup("");
		en->rule = xstrdup(rule->valuestring);
		memcpy(en->hash, hash->valuestring, 65);
		i++;
	}
	cJSON_Delete(root);
	return b;
fail:
	cJSON_Delete(root);
	baseline_free(b);
	return NULL;
}

struct baseline *baseline_read_fd(int fd, const char *name, char *err, size_t errlen)
{
	autofree char *buf = NULL;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "baseline %s: %s", name, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "baseline %s: not a regular file", name);
		return NULL;
	}
	if (st.st_size > BASELINE_MAX_BYTES) {
		snprintf(err, errlen, "baseline %s: larger than %u bytes", name, BASELINE_MAX_BYTES);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read_all(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		snprintf(err, errlen, "baseline %s: %s", name, strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	return baseline_parse(buf, (size_t)n, name, err, errlen);
}

bool baseline_has_rule(const struct baseline *b, const char *rule)
{
	for (size_t i = 0; b && i < b->n; i++)
		if (!strcmp(b->v[i].rule, rule))
			return true;
	return false;
}

bool baseline_match(const struct engine *e, const struct violation_record *v, void *ctx)
{
	const struct baseline *b = ctx;
	struct baseline_key k;
	bool hit = false;

	if (!b || !b->n)
		return false;
	baseline_key_of(e, v, &k);
	for (size_t i = 0; i < b->n && !hit; i++)
		hit = !strcmp(b->v[i].hash, k.hash) && !strcmp(b->v[i].rule, v->rule) &&
		      !strcmp(b->v[i].package, k.package);
	baseline_key_free(&k);
	return hit;
}

/* ---- writing -------------------------------------------------------------------- */

struct wentry {
	struct baseline_key k;
	const struct violation_record *v;
};

static int wentry_cmp(const void *a, const void *b)
{
	const struct wentry *x = a, *y = b;
	int c = strcmp(x->k.package, y->k.package);

	if (!c)
		c = strcmp(x->v->rule, y->v->rule);
	if (!c)
		c = strcmp(x->k.hash, y->k.hash);
	return c;
}

int baseline_write_fd(const struct engine *e, int fd)
{
	size_t n = engine_n_violations(e), last = SIZE_MAX;
	struct wentry *w = xcalloc(n + 1, sizeof(*w));
	cJSON *root = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(root, "format", BASELINE_FORMAT);
	cJSON_AddNumberToObject(root, "format_version", BASELINE_FORMAT_VERSION);
	cJSON_AddStringToObject(root, "comment", "Findings accepted by pipjail --baseline: each is "
				"matched by package, rule and evidence_sha256 (docs/ci.md). Review before "
				"you commit it; remove an entry to fail on it again.");
	arr = cJSON_AddArrayToObject(root, "findings");
	for (size_t i = 0; i < n; i++) {
		w[i].v = engine_violation(e, i);
		baseline_key_of(e, w[i].v, &w[i].k);
	}
	qsort(w, n, sizeof(*w), wentry_cmp);
	for (size_t i = 0; i < n; i++) {
		cJSON *o;

		if (last != SIZE_MAX && !wentry_cmp(&w[i], &w[last]))
			continue;  /* one entry per key */
		last = i;
		o = cJSON_CreateObject();
		if (w[i].v->package)
			cJSON_AddStringToObject(o, "package", w[i].k.package);
		else
			cJSON_AddNullToObject(o, "package");
		cJSON_AddStringToObject(o, "rule", w[i].v->rule);
		cJSON_AddStringToObject(o, "evidence_sha256", w[i].k.hash);
		cJSON_AddStringToObject(o, "evidence", w[i].k.evidence);
		if (w[i].v->version)
			cJSON_AddStringToObject(o, "version", w[i].v->version);
		cJSON_AddItemToArray(arr, o);
	}
	for (size_t i = 0; i < n; i++)
		baseline_key_free(&w[i].k);
	free(w);
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		cJSON_Delete(root);
		return -1;
	}
	return json_write_fd(root, fd);
}
