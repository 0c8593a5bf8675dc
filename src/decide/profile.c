/* Profile files: JSON (cJSON), checked key by key against the format in
 * docs/profiles.md.  The first problem stops the load with one message:
 *   profile FILE: JSON.PATH: found WHAT; expected WHAT
 * and no profile comes back, so pipjail never runs with half a profile. */
#include "decide/profile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "decide/glob.h"
#include "base/base.h"

static const char *const var_names[VAR_COUNT] = {
	[VAR_HOME] = "HOME", [VAR_ENV] = "ENV", [VAR_SITE] = "SITE", [VAR_BUILD] = "BUILD",
	[VAR_TMP] = "TMP", [VAR_PYTHON] = "PYTHON", [VAR_CWD] = "CWD", [VAR_PROXY] = "PROXY",
	[VAR_SRC] = "SRC",
};

const char *profile_var_name(enum profile_var v)
{
	return v < VAR_COUNT ? var_names[v] : "?";
}

static int var_lookup(const char *name, size_t len)
{
	for (int i = 0; i < VAR_COUNT; i++)
		if (strlen(var_names[i]) == len && !strncmp(var_names[i], name, len))
			return i;
	return -1;
}

/* ---- load context and messages ------------------------------------------- */

struct chain_link {
	dev_t dev;
	ino_t ino;
	char *name;
};

struct loadctx {
	const struct profile_source *src;
	char *err;
	size_t errlen;
	const char *file;          /* the file being applied (owned by the profile) */
	struct chain_link chain[PROFILE_MAX_DEPTH + 1];
	int depth;
	bool failed;
};

static void __attribute__((format(printf, 3, 4)))
fail_at(struct loadctx *c, const char *jpath, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (c->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "profile %s: %s: %s", c->file ? c->file : "?",
		 jpath && *jpath ? jpath : "(top level)", msg);
	c->failed = true;
}

/* "a number (42)", "a string (\"x\")": what a reader needs to find it. */
static const char *describe(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t n = strlen(s);

		snprintf(buf, len, "a string (\"%.*s%s\")", n > 60 ? 60 : (int)n, s, n > 60 ? "..." : "");
	} else if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "a number (%g)", v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		snprintf(buf, len, "null");
	} else if (cJSON_IsArray(v)) {
		snprintf(buf, len, "an array");
	} else if (cJSON_IsObject(v)) {
		snprintf(buf, len, "an object");
	} else {
		snprintf(buf, len, "an invalid value");
	}
	return buf;
}

static void wrong_type(struct loadctx *c, const char *jpath, const cJSON *v, const char *expected)
{
	char d[128];

	fail_at(c, jpath, "found %s; expected %s", describe(v, d, sizeof(d)), expected);
}

static void join(char *out, size_t len, const char *base, const char *key)
{
	int n;

	if (base && *base)
		n = snprintf(out, len, "%s.%s", base, key);
	else
		n = snprintf(out, len, "%s", key);
	if (n < 0 || (size_t)n >= len)
		out[len - 1] = '\0';  /* a path that long is cut, not wrong */
}

/* An object whose keys are all known and unique.  known is NULL-terminated. */
static bool check_keys(struct loadctx *c, const char *jpath, const cJSON *obj,
		       const char *const *known)
{
	const cJSON *it, *prev;

	cJSON_ArrayForEach(it, obj) {
		bool ok = false;
		char kp[512], list[512] = "";
		size_t o = 0;

		join(kp, sizeof(kp), jpath, it->string);
		for (prev = obj->child; prev != it; prev = prev->next) {
			if (!strcmp(prev->string, it->string)) {
				fail_at(c, kp, "found the key \"%s\" twice; expected each key once",
					it->string);
				return false;
			}
		}
		for (size_t i = 0; known[i]; i++)
			if (!strcmp(known[i], it->string))
				ok = true;
		if (ok)
			continue;
		for (size_t i = 0; known[i] && o < sizeof(list) - 1; i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", known[i]);
		fail_at(c, kp, "found an unknown key \"%s\"; expected one of: %s", it->string, list);
		return false;
	}
	return true;
}

/* ---- patterns -------------------------------------------------------------- */

enum pat_kind { PAT_PATH, PAT_EXEC, PAT_UNIX };

/* Variables known, "$" well formed; the text with each variable replaced by
 * a placeholder segment into out, for the glob check. */
static bool check_vars(struct loadctx *c, const char *jpath, const char *text, char *out,
		       size_t outlen)
{
	size_t o = 0;
	char list[256] = "";
	size_t lo = 0;

	for (int i = 0; i < VAR_COUNT; i++)
		lo += (size_t)snprintf(list + lo, sizeof(list) - lo, "%s$%s", i ? ", " : "", var_names[i]);
	for (const char *s = text; *s;) {
		if (o + 8 >= outlen) {
			fail_at(c, jpath, "found a pattern of %zu bytes; expected at most %d",
				strlen(text), GLOB_MAX);
			return false;
		}
		if (*s == '\\' && s[1]) {
			out[o++] = *s++;
			out[o++] = *s++;
			continue;
		}
		if (*s == '~' && s == text && (s[1] == '/' || !s[1])) {
			memcpy(out + o, "/h", 2);
			o += 2;
			s++;
			continue;
		}
		if (*s != '$') {
			out[o++] = *s++;
			continue;
		}
		{
			bool brace = s[1] == '{';
			const char *name = s + 1 + brace, *end = name;
			int v;

			while ((*end >= 'A' && *end <= 'Z') || (*end >= 'a' && *end <= 'z') ||
			       (*end >= '0' && *end <= '9') || *end == '_')
				end++;
			if (end == name || (brace && *end != '}')) {
				fail_at(c, jpath, "found a '$' not followed by a variable name in \"%s\"; "
					"expected $NAME or ${NAME} (one of %s), or \\\\$ for a literal '$'",
					text, list);
				return false;
			}
			v = var_lookup(name, (size_t)(end - name));
			if (v < 0) {
				fail_at(c, jpath, "found an unknown variable $%.*s in \"%s\"; expected one of %s",
					(int)(end - name), name, text, list);
				return false;
			}
			memcpy(out + o, "/v", 2);
			o += 2;
			s = end + brace;
		}
	}
	out[o] = '\0';
	return true;
}

static bool check_pattern(struct loadctx *c, const char *jpath, const char *text, enum pat_kind k)
{
	char buf[GLOB_MAX + 64], why[256];

	if (!*text) {
		fail_at(c, jpath, "found an empty string; expected a %s", k == PAT_EXEC ?
			"program name or path glob" : "path glob");
		return false;
	}
	if (!check_vars(c, jpath, text, buf, sizeof(buf)))
		return false;
	if (glob_check(buf, why, sizeof(why)) < 0) {
		fail_at(c, jpath, "found \"%s\", which is not a valid glob (%s); expected a glob "
			"(* within a segment, ** for whole segments, ?, [...])", text, why);
		return false;
	}
	if (buf[0] != '/' && !(k == PAT_EXEC && !strchr(text, '/'))) {
		fail_at(c, jpath, "found the relative pattern \"%s\"; expected an absolute path glob "
			"(starting with /, ~/ or a $VARIABLE)%s", text,
			k == PAT_EXEC ? " or a program name without '/'" : "");
		return false;
	}
	return true;
}

static void list_push(struct pattern_list *l, const char *text, const char *origin, const char *file)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = (struct pattern){ .text = xstrdup(text), .origin = xstrdup(origin), .file = file };
}

static void list_clear(struct pattern_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].origin);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool apply_pattern_array(struct loadctx *c, const char *jpath, const cJSON *arr,
				struct pattern_list *l, enum pat_kind k)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(arr)) {
		wrong_type(c, jpath, arr, k == PAT_EXEC ? "an array of program names or path globs"
							: "an array of path globs");
		return false;
	}
	cJSON_ArrayForEach(it, arr) {
		char ip[512];

		snprintf(ip, sizeof(ip), "%s[%zu]", jpath, i++);
		if (!cJSON_IsString(it)) {
			wrong_type(c, ip, it, k == PAT_EXEC ? "a string (a program name or path glob)"
							    : "a string (a path glob)");
			return false;
		}
		if (!check_pattern(c, ip, it->valuestring, k))
			return false;
		list_push(l, it->valuestring, ip, c->file);
	}
	return true;
}

/* ---- rule sets --------------------------------------------------------------- */

static bool apply_file_rules(struct loadctx *c, const char *jpath, const cJSON *obj,
			     struct file_rules *fr, enum pat_kind k)
{
	static const char *const keys[] = { "inherit", "default", "allow", "deny", "comment", NULL };
	const cJSON *inherit, *it;
	char kp[512];

	if (!cJSON_IsObject(obj)) {
		wrong_type(c, jpath, obj, "an object with \"allow\", \"deny\" and \"default\"");
		return false;
	}
	if (!check_keys(c, jpath, obj, keys))
		return false;
	inherit = cJSON_GetObjectItemCaseSensitive(obj, "inherit");
	if (inherit) {
		join(kp, sizeof(kp), jpath, "inherit");
		if (!cJSON_IsBool(inherit)) {
			wrong_type(c, kp, inherit, "true or false");
			return false;
		}
		if (cJSON_IsFalse(inherit)) {
			/* Deny patterns always carry over: a profile that extends
			 * another can only add to them. */
			list_clear(&fr->allow);
			fr->dflt = RULE_ALLOW;
			free(fr->dflt_origin);
			fr->dflt_origin = NULL;
		}
	}
	cJSON_ArrayForEach(it, obj) {
		join(kp, sizeof(kp), jpath, it->string);
		if (!strcmp(it->string, "default")) {
			if (!cJSON_IsString(it) || (strcmp(it->valuestring, "allow") &&
						    strcmp(it->valuestring, "deny"))) {
				wrong_type(c, kp, it, "\"allow\" or \"deny\"");
				return false;
			}
			fr->dflt = !strcmp(it->valuestring, "deny") ? RULE_DENY : RULE_ALLOW;
			free(fr->dflt_origin);
			fr->dflt_origin = xstrdup(kp);
			fr->dflt_file = c->file;
		} else if (!strcmp(it->string, "allow")) {
			if (!apply_pattern_array(c, kp, it, &fr->allow, k))
				return false;
		} else if (!strcmp(it->string, "deny")) {
			if (!apply_pattern_array(c, kp, it, &fr->deny, k))
				return false;
		} else if (!strcmp(it->string, "comment") && !cJSON_IsString(it)) {
			wrong_type(c, kp, it, "a string");
			return false;
		}
	}
	return true;
}

/* "HOST:PORT", "[v6]:PORT", "unix:PATH", "proxy", "loopback". */
static bool check_endpoint(struct loadctx *c, const char *jpath, const char *s)
{
	char host[GLOB_MAX + 1], tmp[GLOB_MAX + 64], why[256];
	const char *port;

	if (!strcmp(s, "proxy") || !strcmp(s, "loopback"))
		return true;
	if (!strncmp(s, "unix:", 5))
		return check_pattern(c, jpath, s + 5, PAT_UNIX);
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			fail_at(c, jpath, "found \"%s\"; expected \"[IPv6]:PORT\"", s);
			return false;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon) {
			fail_at(c, jpath, "found \"%s\"; expected \"HOST:PORT\" (globs, e.g. \"127.0.0.1:*\"), "
				"\"[::1]:PORT\", \"unix:/path\", \"proxy\" or \"loopback\"", s);
			return false;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = colon + 1;
	}
	if (!*host || !*port) {
		fail_at(c, jpath, "found \"%s\" with an empty host or port; expected \"HOST:PORT\" "
			"(use * for any)", s);
		return false;
	}
	if (!check_vars(c, jpath, host, tmp, sizeof(tmp)))
		return false;
	if (glob_check(tmp, why, sizeof(why)) < 0) {
		fail_at(c, jpath, "found the host \"%s\", which is not a valid glob (%s); expected an "
			"address glob", host, why);
		return false;
	}
	if (!check_vars(c, jpath, port, tmp, sizeof(tmp)))
		return false;
	if (glob_check(tmp, why, sizeof(why)) < 0) {
		fail_at(c, jpath, "found the port \"%s\", which is not a valid glob (%s); expected a "
			"port number, * or $PROXY", port, why);
		return false;
	}
	return true;
}

static bool apply_net_value(struct loadctx *c, const char *jpath, const cJSON *v, struct net_rules *nr)
{
	static const char *expect = "\"none\", \"any\", \"proxy\", \"loopback\" or an array of endpoints "
				    "(\"HOST:PORT\", \"[::1]:PORT\", \"unix:/path\", \"proxy\", \"loopback\")";
	size_t i = 0;
	const cJSON *it;

	list_clear(&nr->allow);
	nr->any = false;
	free(nr->origin);
	nr->origin = xstrdup(jpath);
	nr->file = c->file;
	if (cJSON_IsString(v)) {
		if (!strcmp(v->valuestring, "none"))
			return true;
		if (!strcmp(v->valuestring, "any")) {
			nr->any = true;
			return true;
		}
		if (!strcmp(v->valuestring, "proxy") || !strcmp(v->valuestring, "loopback")) {
			list_push(&nr->allow, v->valuestring, jpath, c->file);
			return true;
		}
		wrong_type(c, jpath, v, expect);
		return false;
	}
	if (!cJSON_IsArray(v)) {
		wrong_type(c, jpath, v, expect);
		return false;
	}
	cJSON_ArrayForEach(it, v) {
		char ip[512];

		snprintf(ip, sizeof(ip), "%s[%zu]", jpath, i++);
		if (!cJSON_IsString(it)) {
			wrong_type(c, ip, it, "a string (\"HOST:PORT\", \"unix:/path\", \"proxy\" or \"loopback\")");
			return false;
		}
		if (!check_endpoint(c, ip, it->valuestring))
			return false;
		list_push(&nr->allow, it->valuestring, ip, c->file);
	}
	return true;
}

static bool apply_network(struct loadctx *c, const char *jpath, const cJSON *obj, struct role_policy *rp)
{
	static const char *const keys[] = { "connect", "bind", "comment", NULL };
	const cJSON *it;
	char kp[512];

	if (!cJSON_IsObject(obj)) {
		wrong_type(c, jpath, obj, "an object with \"connect\" and \"bind\"");
		return false;
	}
	if (!check_keys(c, jpath, obj, keys))
		return false;
	cJSON_ArrayForEach(it, obj) {
		join(kp, sizeof(kp), jpath, it->string);
		if (!strcmp(it->string, "connect")) {
			if (!apply_net_value(c, kp, it, &rp->connect))
				return false;
		} else if (!strcmp(it->string, "bind")) {
			if (!apply_net_value(c, kp, it, &rp->bind))
				return false;
		} else if (!cJSON_IsString(it)) {
			wrong_type(c, kp, it, "a string");
			return false;
		}
	}
	return true;
}

static bool apply_action(struct loadctx *c, const char *jpath, const cJSON *v, struct role_policy *rp)
{
	int a = cJSON_IsString(v) ? action_from_name(v->valuestring) : -1;

	if (a < 0 || a == ACTION_REFUSED) {
		wrong_type(c, jpath, v, "\"kill-process\", \"kill-jail\" or \"report\"");
		return false;
	}
	rp->on_violation = (enum action)a;
	free(rp->action_origin);
	rp->action_origin = xstrdup(jpath);
	rp->action_file = c->file;
	return true;
}

static void list_copy(struct pattern_list *dst, const struct pattern_list *src)
{
	list_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		list_push(dst, src->v[i].text, src->v[i].origin, src->v[i].file);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void file_rules_copy(struct file_rules *dst, const struct file_rules *src)
{
	list_copy(&dst->allow, &src->allow);
	list_copy(&dst->deny, &src->deny);
	dst->dflt = src->dflt;
	free(dst->dflt_origin);
	dst->dflt_origin = dup_or_null(src->dflt_origin);
	dst->dflt_file = src->dflt_file;
}

static void net_copy(struct net_rules *dst, const struct net_rules *src)
{
	list_copy(&dst->allow, &src->allow);
	dst->any = src->any;
	free(dst->origin);
	dst->origin = dup_or_null(src->origin);
	dst->file = src->file;
}

/* "same_as": start from a copy of another role's policy. */
static void role_copy(struct role_policy *dst, const struct role_policy *src)
{
	if (dst == src)
		return;
	file_rules_copy(&dst->read, &src->read);
	file_rules_copy(&dst->write, &src->write);
	file_rules_copy(&dst->exec, &src->exec);
	net_copy(&dst->connect, &src->connect);
	net_copy(&dst->bind, &src->bind);
	dst->on_violation = src->on_violation;
	free(dst->action_origin);
	dst->action_origin = dup_or_null(src->action_origin);
	dst->action_file = src->action_file;
}

static bool apply_role(struct loadctx *c, const char *jpath, const cJSON *obj, struct role_policy *rp,
		       struct profile *p)
{
	static const char *const keys[] = { "same_as", "read", "write", "exec", "network",
					    "on_violation", "comment", NULL };
	const cJSON *same;
	const cJSON *it;
	char kp[512];

	if (!cJSON_IsObject(obj)) {
		wrong_type(c, jpath, obj, "an object with read, write, exec, network, on_violation");
		return false;
	}
	if (!check_keys(c, jpath, obj, keys))
		return false;
	same = cJSON_GetObjectItemCaseSensitive(obj, "same_as");
	if (same) {
		enum role from = cJSON_IsString(same) ? role_from_name(same->valuestring) : ROLE_NONE;

		join(kp, sizeof(kp), jpath, "same_as");
		if (from == ROLE_NONE || &p->roles[from] == rp) {
			wrong_type(c, kp, same, "the name of another role (pip, build, tool, import)");
			return false;
		}
		role_copy(rp, &p->roles[from]);
	}
	cJSON_ArrayForEach(it, obj) {
		bool ok = true;

		if (!strcmp(it->string, "same_as"))
			continue;

		join(kp, sizeof(kp), jpath, it->string);
		if (!strcmp(it->string, "read"))
			ok = apply_file_rules(c, kp, it, &rp->read, PAT_PATH);
		else if (!strcmp(it->string, "write"))
			ok = apply_file_rules(c, kp, it, &rp->write, PAT_PATH);
		else if (!strcmp(it->string, "exec"))
			ok = apply_file_rules(c, kp, it, &rp->exec, PAT_EXEC);
		else if (!strcmp(it->string, "network"))
			ok = apply_network(c, kp, it, rp);
		else if (!strcmp(it->string, "on_violation"))
			ok = apply_action(c, kp, it, rp);
		else if (!cJSON_IsString(it)) {
			wrong_type(c, kp, it, "a string");
			ok = false;
		}
		if (!ok)
			return false;
	}
	return true;
}

static bool apply_top(struct loadctx *c, const cJSON *obj, struct profile *p)
{
	static const char *const keys[] = { "$schema", "name", "description", "comment", "extends",
					    "on_violation", "probe_refusals", "roles", NULL };
	static const char *const role_keys[] = { "pip", "build", "tool", "import", NULL };
	const cJSON *it;

	if (!check_keys(c, "", obj, keys))
		return false;
	cJSON_ArrayForEach(it, obj) {
		const char *k = it->string;

		if (!strcmp(k, "roles")) {
			const cJSON *r;

			if (!cJSON_IsObject(it)) {
				wrong_type(c, k, it, "an object with the roles pip, build, tool, import");
				return false;
			}
			if (!check_keys(c, "roles", it, role_keys))
				return false;
			/* Roles that copy another ("same_as") come after the others,
			 * so that they copy this file's version of it. */
			for (int pass = 0; pass < 2; pass++) {
				cJSON_ArrayForEach(r, it) {
					char kp[512];
					bool copies = cJSON_IsObject(r) &&
						      cJSON_HasObjectItem(r, "same_as");

					if (copies != (pass == 1))
						continue;
					join(kp, sizeof(kp), "roles", r->string);
					if (!apply_role(c, kp, r, &p->roles[role_from_name(r->string)], p))
						return false;
				}
			}
		} else if (!strcmp(k, "on_violation")) {
			/* For every role; a role's own on_violation (later in this
			 * file) still overrides it. */
			for (int r = ROLE_PIP; r < ROLE_COUNT; r++)
				if (!apply_action(c, k, it, &p->roles[r]))
					return false;
		} else if (!strcmp(k, "probe_refusals")) {
			if (!cJSON_IsString(it) || (strcmp(it->valuestring, "record") &&
						    strcmp(it->valuestring, "violation"))) {
				wrong_type(c, k, it, "\"record\" or \"violation\"");
				return false;
			}
			p->probes_are_violations = !strcmp(it->valuestring, "violation");
		} else if (!cJSON_IsString(it)) {
			wrong_type(c, k, it, strcmp(k, "extends") ? "a string"
				   : "a string (a profile name such as \"default\", or a path)");
			return false;
		} else if (!strcmp(k, "name")) {
			free(p->name);
			p->name = xstrdup(it->valuestring);
		} else if (!strcmp(k, "description")) {
			free(p->description);
			p->description = xstrdup(it->valuestring);
		}
	}
	/* A role-level on_violation beats the top-level one wherever both are in
	 * this file: apply the roles' own again. */
	{
		const cJSON *roles = cJSON_GetObjectItemCaseSensitive(obj, "roles"), *r;

		if (cJSON_GetObjectItemCaseSensitive(obj, "on_violation") && roles) {
			cJSON_ArrayForEach(r, roles) {
				const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "on_violation");
				char kp[512];

				snprintf(kp, sizeof(kp), "roles.%s.on_violation", r->string);
				if (a && !apply_action(c, kp, a, &p->roles[role_from_name(r->string)]))
					return false;
			}
		}
	}
	return true;
}

/* ---- files and the extends chain ---------------------------------------------- */

static bool is_path_spec(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".json"));
}

static bool valid_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static char exe_dir_buf[PATH_MAX];

const char *profile_dir(void)
{
	const char *env = getenv("PIPJAIL_PROFILE_DIR");
	struct stat st;
	ssize_t n;
	char *slash;

	if (env && *env && getuid() == 0 && geteuid() == 0)
		return env;
	if (stat(PROFILE_INSTALLED_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return PROFILE_INSTALLED_DIR;
	n = readlink("/proc/self/exe", exe_dir_buf, sizeof(exe_dir_buf) - 16);
	if (n <= 0)
		return PROFILE_INSTALLED_DIR;
	exe_dir_buf[n] = '\0';
	slash = strrchr(exe_dir_buf, '/');
	if (!slash)
		return PROFILE_INSTALLED_DIR;
	strcpy(slash, "/profiles");
	return exe_dir_buf;
}

/* The names of the profiles in dir, for "no such profile" messages. */
static void list_names(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t o = 0;

	out[0] = '\0';
	if (!d)
		return;
	while ((de = readdir(d)) && o + 1 < len) {
		size_t n = strlen(de->d_name);

		if (n > 5 && !strcmp(de->d_name + n - 5, ".json") && de->d_name[0] != '.')
			o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? ", " : "", (int)(n - 5),
					      de->d_name);
	}
	closedir(d);
}


static void role_defaults(struct role_policy *rp)
{
	rp->read.dflt = RULE_ALLOW;
	rp->write.dflt = RULE_ALLOW;
	rp->exec.dflt = RULE_ALLOW;
	rp->connect.any = true;
	rp->bind.any = true;
	rp->on_violation = ACTION_REPORT;
}

static struct profile *profile_empty(void)
{
	struct profile *p = xcalloc(1, sizeof(*p));

	for (int r = 0; r < ROLE_COUNT; r++)
		role_defaults(&p->roles[r]);
	p->hash = FNV1A_INIT;
	return p;
}

static bool load_spec(struct loadctx *c, struct profile *p, const char *spec, const char *from_dir,
		      const char *jpath);

/* Where cJSON stopped, as "line L, column C" and the text there. */
static void json_error(struct loadctx *c, const char *text, size_t len)
{
	const char *at = cJSON_GetErrorPtr();
	unsigned line = 1, col = 1;
	char near[40];
	size_t k = 0;

	if (!at || at < text || at > text + len) {
		fail_at(c, NULL, "found text that is not valid JSON; expected a JSON object");
		return;
	}
	for (const char *s = text; s < at; s++) {
		if (*s == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	for (const char *s = at; s < text + len && k < 20 && *s != '\n'; s++)
		near[k++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	near[k] = '\0';
	{
		char where[64];

		snprintf(where, sizeof(where), "line %u, column %u", line, col);
		fail_at(c, where, "found %s%s%s; expected valid JSON (a missing comma, quote or "
			"bracket, or a trailing comma?)", k ? "\"" : "the end of the file",
			k ? near : "", k ? "\"" : "");
	}
}

/* Apply the bytes of one file (already read) onto p, its extends first. */
static bool apply_text(struct loadctx *c, struct profile *p, const char *text, size_t len,
		       const char *display, dev_t dev, ino_t ino)
{
	const char *prev_file = c->file;
	cJSON *root;
	const cJSON *ext;
	char *owned;
	bool ok = false, pushed = false;

	for (int i = 0; i < c->depth; i++) {
		if ((dev || ino) && c->chain[i].dev == dev && c->chain[i].ino == ino) {
			char loop[1024];
			size_t o = 0;

			for (int j = i; j < c->depth; j++)
				o += (size_t)snprintf(loop + o, sizeof(loop) - o, "%s → ", c->chain[j].name);
			snprintf(loop + o, sizeof(loop) - o, "%s", display);
			c->file = c->chain[c->depth - 1].name;
			fail_at(c, "extends", "found a loop (%s); expected a chain of extends that ends",
				loop);
			c->file = prev_file;
			return false;
		}
	}
	if (c->depth >= PROFILE_MAX_DEPTH) {
		c->file = c->chain[c->depth - 1].name;
		fail_at(c, "extends", "found a chain of more than %d profiles; expected a shorter chain",
			PROFILE_MAX_DEPTH);
		c->file = prev_file;
		return false;
	}
	owned = xstrdup(display);
	c->file = owned;
	c->chain[c->depth++] = (struct chain_link){ .dev = dev, .ino = ino, .name = owned };

	root = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
	if (!root) {
		json_error(c, text, len);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		wrong_type(c, NULL, root, "a JSON object");
		goto out;
	}
	ext = cJSON_GetObjectItemCaseSensitive(root, "extends");
	if (ext) {
		char dir[PATH_MAX];
		const char *slash = strrchr(owned, '/');

		if (!cJSON_IsString(ext)) {
			wrong_type(c, "extends", ext, "a string (a profile name such as \"default\", or a path)");
			goto out;
		}
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - owned) : 1, slash ? owned : ".");
		if (!load_spec(c, p, ext->valuestring, dir, "extends"))
			goto out;
		c->file = owned;
	}
	/* After the parents: the list runs base first. */
	p->files = xrealloc(p->files, (p->n_files + 1) * sizeof(*p->files));
	p->files[p->n_files++] = owned;
	pushed = true;
	p->hash = fnv1a(p->hash, text, len);
	ok = apply_top(c, root, p);
	if (ok) {
		free(p->path);
		p->path = xstrdup(owned);
	}
out:
	cJSON_Delete(root);
	c->depth--;
	c->file = prev_file;
	if (!pushed)
		free(owned);
	return ok;
}

static bool read_fd(struct loadctx *c, int fd, const char *display, char **buf, size_t *len)
{
	char *b = xmalloc(PROFILE_MAX_BYTES + 1);
	ssize_t n = read_all(fd, b, PROFILE_MAX_BYTES + 1);

	if (n < 0) {
		snprintf(c->err, c->errlen, "profile %s: cannot read: %s", display, strerror(errno));
		c->failed = true;
		free(b);
		return false;
	}
	if ((size_t)n > PROFILE_MAX_BYTES) {
		snprintf(c->err, c->errlen, "profile %s: larger than %u bytes; expected a small JSON file",
			 display, PROFILE_MAX_BYTES);
		c->failed = true;
		free(b);
		return false;
	}
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return true;
}

static bool load_spec(struct loadctx *c, struct profile *p, const char *spec, const char *from_dir,
		      const char *jpath)
{
	char path[PATH_MAX];
	autoclose int fd = -1;
	autofree char *buf = NULL;
	size_t len;
	struct stat st;
	bool user;

	if (is_path_spec(spec)) {
		if (spec[0] == '/' || !from_dir)
			snprintf(path, sizeof(path), "%s", spec);
		else
			snprintf(path, sizeof(path), "%s/%s", from_dir, spec);
		user = true;
	} else {
		const char *dir = c->src && c->src->dir ? c->src->dir : profile_dir();

		if (!valid_name(spec)) {
			if (c->file)
				fail_at(c, jpath, "found the name \"%s\"; expected a profile name (letters, "
					"digits, - _ .) or a path", spec);
			else
				snprintf(c->err, c->errlen, "profile \"%s\": not a valid name; expected a "
					 "profile name (letters, digits, - _ .) or a path to a .json file", spec);
			c->failed = true;
			return false;
		}
		snprintf(path, sizeof(path), "%s/%s.json", dir, spec);
		user = false;
	}
	if (user && c->src && c->src->open_user)
		fd = c->src->open_user(path, c->src->ctx);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		char names[512];

		if (!user && e == ENOENT) {
			list_names(c->src && c->src->dir ? c->src->dir : profile_dir(), names, sizeof(names));
			if (c->file)
				fail_at(c, jpath, "found \"%s\", which is no profile in %s; expected one of: %s",
					spec, c->src && c->src->dir ? c->src->dir : profile_dir(),
					*names ? names : "(none there)");
			else
				snprintf(c->err, c->errlen, "profile \"%s\": no such profile in %s; expected "
					 "one of: %s (or a path to a .json file)", spec,
					 c->src && c->src->dir ? c->src->dir : profile_dir(),
					 *names ? names : "(none there)");
		} else if (c->file) {
			fail_at(c, jpath, "cannot open \"%s\" (%s): %s; expected a readable profile file",
				spec, path, strerror(e));
		} else {
			snprintf(c->err, c->errlen, "profile %s: cannot open: %s", path, strerror(e));
		}
		c->failed = true;
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(c->err, c->errlen, "profile %s: not a regular file; expected a JSON file", path);
		c->failed = true;
		return false;
	}
	if (!read_fd(c, fd, path, &buf, &len))
		return false;
	return apply_text(c, p, buf, len, path, st.st_dev, st.st_ino);
}

static void finish_name(struct profile *p)
{
	if (!p->name && p->path) {
		const char *b = strrchr(p->path, '/');
		size_t n;

		b = b ? b + 1 : p->path;
		n = strlen(b);
		p->name = xasprintf("%.*s", (int)(n > 5 && !strcmp(b + n - 5, ".json") ? n - 5 : n), b);
	}
}

struct profile *profile_load(const char *spec, const struct profile_source *src, char *err,
			     size_t errlen)
{
	struct loadctx c = { .src = src, .err = err, .errlen = errlen };
	struct profile *p = profile_empty();

	if (!load_spec(&c, p, spec, NULL, NULL)) {
		profile_free(p);
		return NULL;
	}
	/* The top profile's "name" may come from a parent: a file is known by
	 * its own name unless it sets one. */
	finish_name(p);
	return p;
}

struct profile *profile_load_buffer(const char *text, size_t len, const char *filename,
				    const struct profile_source *src, char *err, size_t errlen)
{
	struct loadctx c = { .src = src, .err = err, .errlen = errlen };
	struct profile *p = profile_empty();

	if (!apply_text(&c, p, text, len, filename ? filename : "(buffer)", 0, 0)) {
		profile_free(p);
		return NULL;
	}
	finish_name(p);
	return p;
}

static void file_rules_free(struct file_rules *fr)
{
	list_clear(&fr->allow);
	list_clear(&fr->deny);
	free(fr->dflt_origin);
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct role_policy *rp = &p->roles[r];

		file_rules_free(&rp->read);
		file_rules_free(&rp->write);
		file_rules_free(&rp->exec);
		list_clear(&rp->connect.allow);
		list_clear(&rp->bind.allow);
		free(rp->connect.origin);
		free(rp->bind.origin);
		free(rp->action_origin);
	}
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	for (int v = 0; v < VAR_COUNT; v++)
		free(p->vars[v]);
	free(p->name);
	free(p->path);
	free(p->description);
	free(p);
}

/* ---- variables ------------------------------------------------------------------ */

void profile_set_var_id(struct profile *p, enum profile_var v, const char *value)
{
	if (v >= VAR_COUNT)
		return;
	free(p->vars[v]);
	p->vars[v] = value ? xstrdup(value) : NULL;
	p->var_is_glob[v] = v == VAR_BUILD || (v == VAR_SITE && value && glob_has_magic(value)) ||
			    (v == VAR_PYTHON && value && glob_has_magic(value));
}

int profile_set_var(struct profile *p, const char *name, const char *value)
{
	int v = var_lookup(name, strlen(name));

	if (v < 0)
		return -1;
	profile_set_var_id(p, (enum profile_var)v, value);
	return 0;
}

/* "home = /usr/bin" and "version = 3.11.2" of a venv's pyvenv.cfg. */
static void venv_python(const char *venv, char *stdlib, size_t len, char *ver, size_t vlen)
{
	autofree char *cfg = xasprintf("%s/pyvenv.cfg", venv);
	autoclose int fd = open(cfg, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char buf[4096], home[PATH_MAX] = "";
	ssize_t n;
	unsigned maj = 0, min = 0;

	stdlib[0] = ver[0] = '\0';
	if (fd < 0 || (n = read_all(fd, buf, sizeof(buf) - 1)) <= 0)
		return;
	buf[n] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *eq = strchr(line, '=');
		char *k = line, *v, *end;

		if (!eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		while (*v == ' ')
			v++;
		end = eq;
		while (end > k && end[-1] == ' ')
			*--end = '\0';
		if (!strcmp(k, "home"))
			snprintf(home, sizeof(home), "%s", v);
		else if ((!strcmp(k, "version") || !strcmp(k, "version_info")) &&
			 sscanf(v, "%u.%u", &maj, &min) == 2)
			snprintf(ver, vlen, "%u.%u", maj, min);
	}
	if (*home && *ver) {
		char *slash = strrchr(home, '/');

		int w;

		if (slash && !strcmp(slash, "/bin"))
			*slash = '\0';
		w = snprintf(stdlib, len, "%s/lib/python%s", home, ver);
		if (w < 0 || (size_t)w >= len)
			stdlib[0] = '\0';  /* too long to be right: fall back to the glob */
	}
}

void profile_set_defaults(struct profile *p, const char *home, const char *cwd, const char *venv)
{
	if (home)
		profile_set_var_id(p, VAR_HOME, home);
	if (cwd)
		profile_set_var_id(p, VAR_CWD, cwd);
	profile_set_var_id(p, VAR_TMP, "/tmp");
	profile_set_var_id(p, VAR_BUILD, "/tmp/pip-*");
	if (venv) {
		char stdlib[PATH_MAX], ver[32], esc[PATH_MAX * 2];

		profile_set_var_id(p, VAR_ENV, venv);
		venv_python(venv, stdlib, sizeof(stdlib), ver, sizeof(ver));
		if (*ver && glob_escape(venv, esc, sizeof(esc) - 64)) {
			autofree char *site = xasprintf("%s/lib/python%s/site-packages", venv, ver);

			profile_set_var_id(p, VAR_SITE, site);
		} else if (glob_escape(venv, esc, sizeof(esc) - 64)) {
			autofree char *site = xasprintf("%s/lib/python3*/site-packages", esc);

			profile_set_var_id(p, VAR_SITE, site);
			p->var_is_glob[VAR_SITE] = true;
		}
		if (*stdlib) {
			profile_set_var_id(p, VAR_PYTHON, stdlib);
		} else {
			profile_set_var_id(p, VAR_PYTHON, "/usr/lib/python3*");
			p->var_is_glob[VAR_PYTHON] = true;
		}
	} else {
		profile_set_var_id(p, VAR_PYTHON, "/usr/lib/python3*");
		p->var_is_glob[VAR_PYTHON] = true;
	}
}

cJSON *profile_to_json(const struct profile *p)
{
	cJSON *o = cJSON_CreateObject(), *files, *vars;
	char h[24];

	cJSON_AddStringToObject(o, "name", p->name ? p->name : "(unnamed)");
	if (p->path)
		cJSON_AddStringToObject(o, "path", p->path);
	files = cJSON_AddArrayToObject(o, "files");
	for (size_t i = 0; i < p->n_files; i++)
		cJSON_AddItemToArray(files, cJSON_CreateString(p->files[i]));
	snprintf(h, sizeof(h), "%016llx", (unsigned long long)p->hash);
	cJSON_AddStringToObject(o, "hash", h);
	cJSON_AddBoolToObject(o, "project", p->project);
	vars = cJSON_AddObjectToObject(o, "vars");
	for (int v = 0; v < VAR_COUNT; v++)
		if (p->vars[v])
			cJSON_AddStringToObject(vars, var_names[v], p->vars[v]);
	return o;
}

/* ---- project profile ---------------------------------------------------------- */

char *profile_find_project(const char *cwd, const char *home)
{
	char dir[PATH_MAX];
	bool stop_at_home = home && *home && strcmp(home, "/") && path_is_under(cwd, home);

	if (!cwd || cwd[0] != '/' || strlen(cwd) >= sizeof(dir))
		return NULL;
	snprintf(dir, sizeof(dir), "%s", cwd);
	for (;;) {
		char *cand = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", PROFILE_PROJECT_FILE);
		struct stat st;
		char *slash;

		if (lstat(cand, &st) == 0 && S_ISREG(st.st_mode))
			return cand;
		free(cand);
		if (!strcmp(dir, "/") || (stop_at_home && !strcmp(dir, home)))
			return NULL;
		slash = strrchr(dir, '/');
		if (slash == dir)
			strcpy(dir, "/");
		else
			*slash = '\0';
	}
}

/* ---- built-in syscall classes ----------------------------------------------------- */

static const char *const dangerous_calls[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
	"fsmount", "fspick", "mount_setattr", "chroot",
	"unshare", "setns", "clone",  /* clone is refused only with namespace flags */
	"bpf", "perf_event_open", "userfaultfd",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"keyctl", "add_key", "request_key",
	"ioctl",                      /* refused only for TIOCSTI and TIOCLINUX */
	"open_by_handle_at", "reboot", "swapon", "swapoff", "acct",
};

static const char *const probe_calls[] = {
	"io_uring_setup", "io_uring_enter", "io_uring_register", "clone3", "personality",
};

bool profile_syscall_is_dangerous(const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(dangerous_calls); i++)
		if (!strcmp(s, dangerous_calls[i]))
			return true;
	return false;
}

bool profile_syscall_is_probe(const char *s)
{
	if (!s)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(probe_calls); i++)
		if (!strcmp(s, probe_calls[i]))
			return true;
	return false;
}
