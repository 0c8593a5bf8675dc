/* One profile file's JSON (cJSON), checked key by key against the format
 * in docs/profiles.md and applied onto a profile (over what its extends
 * chain set).  The first problem stops the load with one message:
 *   profile FILE: JSON.PATH: found WHAT; expected WHAT
 * and no profile comes back, so pipjail never runs with half a profile. */
#include "decide/profile_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decide/glob.h"
#include "base/base.h"

/* ---- messages -------------------------------------------------------------- */

void profile_fail_at(struct loadctx *c, const char *jpath, const char *fmt, ...)
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

void profile_wrong_type(struct loadctx *c, const char *jpath, const cJSON *v, const char *expected)
{
	char d[128];

	profile_fail_at(c, jpath, "found %s; expected %s", describe(v, d, sizeof(d)), expected);
}

void profile_json_error(struct loadctx *c, const char *text, size_t len)
{
	const char *at = cJSON_GetErrorPtr();
	unsigned line = 1, col = 1;
	char near[40], where[64];
	size_t k = 0;

	if (!at || at < text || at > text + len) {
		profile_fail_at(c, NULL, "found text that is not valid JSON; expected a JSON object");
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
	snprintf(where, sizeof(where), "line %u, column %u", line, col);
	profile_fail_at(c, where, "found %s%s%s; expected valid JSON (a missing comma, quote or "
			"bracket, or a trailing comma?)", k ? "\"" : "the end of the file",
			k ? near : "", k ? "\"" : "");
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
				profile_fail_at(c, kp, "found the key \"%s\" twice; expected each key once",
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
		profile_fail_at(c, kp, "found an unknown key \"%s\"; expected one of: %s", it->string, list);
		return false;
	}
	return true;
}

/* An object (else "found ...; expected <expected>") with known keys only. */
static bool check_object(struct loadctx *c, const char *jpath, const cJSON *obj,
			 const char *expected, const char *const *known)
{
	if (!cJSON_IsObject(obj)) {
		profile_wrong_type(c, jpath, obj, expected);
		return false;
	}
	return check_keys(c, jpath, obj, known);
}

/* ---- patterns -------------------------------------------------------------- */

/* What the strings of an array are: path globs, programs (a name or a path
 * glob), unix socket path globs, network endpoints. */
enum pat_kind { PAT_PATH, PAT_EXEC, PAT_UNIX, PAT_ENDPOINT };

/* Variables known, "$" well formed; the text with each variable replaced by
 * a placeholder segment into out, for the glob check. */
static bool check_vars(struct loadctx *c, const char *jpath, const char *text, char *out,
		       size_t outlen)
{
	size_t o = 0;
	char list[256] = "";
	size_t lo = 0;

	for (int i = 0; i < VAR_COUNT; i++)
		lo += (size_t)snprintf(list + lo, sizeof(list) - lo, "%s$%s", i ? ", " : "",
				       profile_var_name((enum profile_var)i));
	for (const char *s = text; *s;) {
		bool brace;
		const char *name;
		size_t len;
		int v;

		if (o + 8 >= outlen) {
			profile_fail_at(c, jpath, "found a pattern of %zu bytes; expected at most %d",
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
		brace = s[1] == '{';
		name = s + 1 + brace;
		v = profile_var_at(s, &len, &s);
		if (!len || (brace && name[len] != '}')) {
			profile_fail_at(c, jpath, "found a '$' not followed by a variable name in \"%s\"; "
					"expected $NAME or ${NAME} (one of %s), or \\\\$ for a literal '$'",
					text, list);
			return false;
		}
		if (v < 0) {
			profile_fail_at(c, jpath, "found an unknown variable $%.*s in \"%s\"; expected one "
					"of %s", (int)len, name, text, list);
			return false;
		}
		memcpy(out + o, "/v", 2);
		o += 2;
	}
	out[o] = '\0';
	return true;
}

/* text (a pattern, or the host or port of an endpoint) names known
 * variables and is a valid glob; out gets it with placeholders for the
 * variables.  found: how the message names it, before the quoted text. */
static bool check_glob(struct loadctx *c, const char *jpath, const char *text, const char *found,
		       const char *expected, char *out, size_t outlen)
{
	char why[256];

	if (!check_vars(c, jpath, text, out, outlen))
		return false;
	if (glob_check(out, why, sizeof(why)) < 0) {
		profile_fail_at(c, jpath, "found %s\"%s\", which is not a valid glob (%s); expected %s",
				found, text, why, expected);
		return false;
	}
	return true;
}

static bool check_pattern(struct loadctx *c, const char *jpath, const char *text, enum pat_kind k)
{
	char buf[GLOB_MAX + 64];

	if (!*text) {
		profile_fail_at(c, jpath, "found an empty string; expected a %s", k == PAT_EXEC ?
				"program name or path glob" : "path glob");
		return false;
	}
	if (!check_glob(c, jpath, text, "", "a glob (* within a segment, ** for whole segments, ?, "
			"[...])", buf, sizeof(buf)))
		return false;
	if (buf[0] != '/' && !(k == PAT_EXEC && !strchr(text, '/'))) {
		profile_fail_at(c, jpath, "found the relative pattern \"%s\"; expected an absolute path "
				"glob (starting with /, ~/ or a $VARIABLE)%s", text,
				k == PAT_EXEC ? " or a program name without '/'" : "");
		return false;
	}
	return true;
}

/* "HOST:PORT", "[v6]:PORT", "unix:PATH", "proxy", "loopback". */
static bool check_endpoint(struct loadctx *c, const char *jpath, const char *s)
{
	char host[GLOB_MAX + 1], tmp[GLOB_MAX + 64];
	const char *port;

	if (!strcmp(s, "proxy") || !strcmp(s, "loopback"))
		return true;
	if (!strncmp(s, "unix:", 5))
		return check_pattern(c, jpath, s + 5, PAT_UNIX);
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			profile_fail_at(c, jpath, "found \"%s\"; expected \"[IPv6]:PORT\"", s);
			return false;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon) {
			profile_fail_at(c, jpath, "found \"%s\"; expected \"HOST:PORT\" (globs, e.g. "
					"\"127.0.0.1:*\"), \"[::1]:PORT\", \"unix:/path\", \"proxy\" or "
					"\"loopback\"", s);
			return false;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = colon + 1;
	}
	if (!*host || !*port) {
		profile_fail_at(c, jpath, "found \"%s\" with an empty host or port; expected "
				"\"HOST:PORT\" (use * for any)", s);
		return false;
	}
	return check_glob(c, jpath, host, "the host ", "an address glob", tmp, sizeof(tmp)) &&
	       check_glob(c, jpath, port, "the port ", "a port number, * or $PROXY", tmp, sizeof(tmp));
}

static void list_push(struct pattern_list *l, const char *text, const char *origin, const char *file)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = (struct pattern){ .text = xstrdup(text), .origin = xstrdup(origin), .file = file };
}

void pattern_list_clear(struct pattern_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].origin);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The strings of the array arr, each checked as a k and added to l as
 * found at "jpath[i]". */
static bool apply_items(struct loadctx *c, const char *jpath, const cJSON *arr,
			struct pattern_list *l, enum pat_kind k)
{
	static const char *const expected[] = {
		[PAT_PATH] = "a string (a path glob)",
		[PAT_EXEC] = "a string (a program name or path glob)",
		[PAT_UNIX] = "a string (a path glob)",
		[PAT_ENDPOINT] = "a string (\"HOST:PORT\", \"unix:/path\", \"proxy\" or \"loopback\")",
	};
	const cJSON *it;
	size_t i = 0;

	cJSON_ArrayForEach(it, arr) {
		char ip[512];

		snprintf(ip, sizeof(ip), "%s[%zu]", jpath, i++);
		if (!cJSON_IsString(it)) {
			profile_wrong_type(c, ip, it, expected[k]);
			return false;
		}
		if (!(k == PAT_ENDPOINT ? check_endpoint(c, ip, it->valuestring)
					: check_pattern(c, ip, it->valuestring, k)))
			return false;
		list_push(l, it->valuestring, ip, c->file);
	}
	return true;
}

/* ---- rule sets --------------------------------------------------------------- */

/* Where a setting was written (the report names it); NULL origin: built in. */
static void set_origin(char **origin, const char **file, const char *new_origin, const char *new_file)
{
	free(*origin);
	*origin = new_origin ? xstrdup(new_origin) : NULL;
	*file = new_file;
}

static bool apply_pattern_array(struct loadctx *c, const char *jpath, const cJSON *arr,
				struct pattern_list *l, enum pat_kind k)
{
	if (!cJSON_IsArray(arr)) {
		profile_wrong_type(c, jpath, arr, k == PAT_EXEC ? "an array of program names or path globs"
								: "an array of path globs");
		return false;
	}
	return apply_items(c, jpath, arr, l, k);
}

/* "inherit": false starts the allow list and the default afresh.  Deny
 * patterns always carry over: a profile that extends another can only add
 * to them. */
static bool apply_inherit(struct loadctx *c, const char *jpath, const cJSON *inherit,
			  struct file_rules *fr)
{
	char kp[512];

	join(kp, sizeof(kp), jpath, "inherit");
	if (!cJSON_IsBool(inherit)) {
		profile_wrong_type(c, kp, inherit, "true or false");
		return false;
	}
	if (cJSON_IsFalse(inherit)) {
		pattern_list_clear(&fr->allow);
		fr->dflt = RULE_ALLOW;
		free(fr->dflt_origin);
		fr->dflt_origin = NULL;
	}
	return true;
}

static bool apply_file_rules(struct loadctx *c, const char *jpath, const cJSON *obj,
			     struct file_rules *fr, enum pat_kind k)
{
	static const char *const keys[] = { "inherit", "default", "allow", "deny", "comment", NULL };
	const cJSON *inherit, *it;
	char kp[512];

	if (!check_object(c, jpath, obj, "an object with \"allow\", \"deny\" and \"default\"", keys))
		return false;
	inherit = cJSON_GetObjectItemCaseSensitive(obj, "inherit");
	if (inherit && !apply_inherit(c, jpath, inherit, fr))
		return false;
	cJSON_ArrayForEach(it, obj) {
		join(kp, sizeof(kp), jpath, it->string);
		if (!strcmp(it->string, "default")) {
			if (!cJSON_IsString(it) || (strcmp(it->valuestring, "allow") &&
						    strcmp(it->valuestring, "deny"))) {
				profile_wrong_type(c, kp, it, "\"allow\" or \"deny\"");
				return false;
			}
			fr->dflt = !strcmp(it->valuestring, "deny") ? RULE_DENY : RULE_ALLOW;
			set_origin(&fr->dflt_origin, &fr->dflt_file, kp, c->file);
		} else if (!strcmp(it->string, "allow")) {
			if (!apply_pattern_array(c, kp, it, &fr->allow, k))
				return false;
		} else if (!strcmp(it->string, "deny")) {
			if (!apply_pattern_array(c, kp, it, &fr->deny, k))
				return false;
		} else if (!strcmp(it->string, "comment") && !cJSON_IsString(it)) {
			profile_wrong_type(c, kp, it, "a string");
			return false;
		}
	}
	return true;
}

static bool apply_net_value(struct loadctx *c, const char *jpath, const cJSON *v, struct net_rules *nr)
{
	static const char *expect = "\"none\", \"any\", \"proxy\", \"loopback\" or an array of endpoints "
				    "(\"HOST:PORT\", \"[::1]:PORT\", \"unix:/path\", \"proxy\", \"loopback\")";

	pattern_list_clear(&nr->allow);
	nr->any = false;
	set_origin(&nr->origin, &nr->file, jpath, c->file);
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
		profile_wrong_type(c, jpath, v, expect);
		return false;
	}
	if (!cJSON_IsArray(v)) {
		profile_wrong_type(c, jpath, v, expect);
		return false;
	}
	return apply_items(c, jpath, v, &nr->allow, PAT_ENDPOINT);
}

static bool apply_network(struct loadctx *c, const char *jpath, const cJSON *obj, struct role_policy *rp)
{
	static const char *const keys[] = { "connect", "bind", "comment", NULL };
	const cJSON *it;
	char kp[512];

	if (!check_object(c, jpath, obj, "an object with \"connect\" and \"bind\"", keys))
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
			profile_wrong_type(c, kp, it, "a string");
			return false;
		}
	}
	return true;
}

static bool apply_action(struct loadctx *c, const char *jpath, const cJSON *v, struct role_policy *rp)
{
	int a = cJSON_IsString(v) ? action_from_name(v->valuestring) : -1;

	if (a < 0 || a == ACTION_REFUSED) {
		profile_wrong_type(c, jpath, v, "\"kill-process\", \"kill-jail\" or \"report\"");
		return false;
	}
	rp->on_violation = (enum action)a;
	set_origin(&rp->action_origin, &rp->action_file, jpath, c->file);
	return true;
}

/* ---- roles ------------------------------------------------------------------------ */

static void list_copy(struct pattern_list *dst, const struct pattern_list *src)
{
	pattern_list_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		list_push(dst, src->v[i].text, src->v[i].origin, src->v[i].file);
}

static void file_rules_copy(struct file_rules *dst, const struct file_rules *src)
{
	list_copy(&dst->allow, &src->allow);
	list_copy(&dst->deny, &src->deny);
	dst->dflt = src->dflt;
	set_origin(&dst->dflt_origin, &dst->dflt_file, src->dflt_origin, src->dflt_file);
}

static void net_copy(struct net_rules *dst, const struct net_rules *src)
{
	list_copy(&dst->allow, &src->allow);
	dst->any = src->any;
	set_origin(&dst->origin, &dst->file, src->origin, src->file);
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
	set_origin(&dst->action_origin, &dst->action_file, src->action_origin, src->action_file);
}

static bool apply_same_as(struct loadctx *c, const char *jpath, const cJSON *same,
			  struct role_policy *rp, struct profile *p)
{
	enum role from = cJSON_IsString(same) ? role_from_name(same->valuestring) : ROLE_NONE;
	char kp[512];

	join(kp, sizeof(kp), jpath, "same_as");
	if (from == ROLE_NONE || &p->roles[from] == rp) {
		profile_wrong_type(c, kp, same, "the name of another role (pip, build, tool, import)");
		return false;
	}
	role_copy(rp, &p->roles[from]);
	return true;
}

static bool apply_role(struct loadctx *c, const char *jpath, const cJSON *obj, struct role_policy *rp,
		       struct profile *p)
{
	static const char *const keys[] = { "same_as", "read", "write", "exec", "network",
					    "on_violation", "comment", NULL };
	const cJSON *same, *it;
	char kp[512];

	if (!check_object(c, jpath, obj, "an object with read, write, exec, network, on_violation",
			  keys))
		return false;
	same = cJSON_GetObjectItemCaseSensitive(obj, "same_as");
	if (same && !apply_same_as(c, jpath, same, rp, p))
		return false;
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
			profile_wrong_type(c, kp, it, "a string");
			ok = false;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* "roles": each role's object onto its policy.  Roles that copy another
 * ("same_as") come after the others, so that they copy this file's
 * version of it. */
static bool apply_roles(struct loadctx *c, const cJSON *roles, struct profile *p)
{
	static const char *const role_keys[] = { "pip", "build", "tool", "import", NULL };
	const cJSON *r;

	if (!check_object(c, "roles", roles, "an object with the roles pip, build, tool, import",
			  role_keys))
		return false;
	for (int pass = 0; pass < 2; pass++) {
		cJSON_ArrayForEach(r, roles) {
			char kp[512];
			bool copies = cJSON_IsObject(r) && cJSON_HasObjectItem(r, "same_as");

			if (copies != (pass == 1))
				continue;
			join(kp, sizeof(kp), "roles", r->string);
			if (!apply_role(c, kp, r, &p->roles[role_from_name(r->string)], p))
				return false;
		}
	}
	return true;
}

/* A role-level on_violation beats the top-level one wherever both are in
 * this file: apply the roles' own again, after the top level's. */
static bool reapply_role_actions(struct loadctx *c, const cJSON *obj, struct profile *p)
{
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(obj, "roles"), *r;

	if (!cJSON_GetObjectItemCaseSensitive(obj, "on_violation") || !roles)
		return true;
	cJSON_ArrayForEach(r, roles) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "on_violation");
		char kp[512];

		snprintf(kp, sizeof(kp), "roles.%s.on_violation", r->string);
		if (a && !apply_action(c, kp, a, &p->roles[role_from_name(r->string)]))
			return false;
	}
	return true;
}

/* ---- the top level ------------------------------------------------------------------ */

/* "build_servers": programs whose processes may outlive their build hook,
 * each named by its exact absolute path on the host.  A glob, a variable,
 * or a place the jail can write (where a package could put a program of
 * that name) is refused: a server is allowed by what it is. */
static bool apply_servers(struct loadctx *c, const char *jpath, const cJSON *arr, struct pattern_list *l)
{
	static const char *const writable[] = { "/tmp/", "/var/tmp/", "/dev/", "/proc/", "/home/",
						"/root/", "/run/" };
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(arr)) {
		profile_wrong_type(c, jpath, arr, "an array of absolute program paths");
		return false;
	}
	cJSON_ArrayForEach(it, arr) {
		char ip[512];
		bool bad;

		snprintf(ip, sizeof(ip), "%s[%zu]", jpath, i++);
		if (!cJSON_IsString(it)) {
			profile_wrong_type(c, ip, it, "a string (an absolute program path)");
			return false;
		}
		bad = it->valuestring[0] != '/' || strpbrk(it->valuestring, "*?[]{}$~\\") ||
		      strstr(it->valuestring, "/../") || strstr(it->valuestring, "/./");
		for (size_t w = 0; w < ARRAY_SIZE(writable) && !bad; w++)
			bad = !strncmp(it->valuestring, writable[w], strlen(writable[w]));
		if (bad) {
			profile_fail_at(c, ip, "found \"%s\"; expected the exact absolute path of a program "
					"on the host, outside the places a build can write (no glob, no variable)",
					it->valuestring);
			return false;
		}
		list_push(l, it->valuestring, ip, c->file);
	}
	return true;
}

/* A top-level key other than "roles". */
static bool apply_top_key(struct loadctx *c, const char *k, const cJSON *it, struct profile *p)
{
	if (!strcmp(k, "on_violation")) {
		/* For every role; a role's own on_violation (later in this
		 * file) still overrides it. */
		for (int r = ROLE_PIP; r < ROLE_COUNT; r++)
			if (!apply_action(c, k, it, &p->roles[r]))
				return false;
	} else if (!strcmp(k, "probe_refusals")) {
		if (!cJSON_IsString(it) || (strcmp(it->valuestring, "record") &&
					    strcmp(it->valuestring, "violation"))) {
			profile_wrong_type(c, k, it, "\"record\" or \"violation\"");
			return false;
		}
		p->probes_are_violations = !strcmp(it->valuestring, "violation");
	} else if (!strcmp(k, "build_servers")) {
		return apply_servers(c, k, it, &p->build_servers);
	} else if (!cJSON_IsString(it)) {
		profile_wrong_type(c, k, it, strcmp(k, "extends") ? "a string"
				   : "a string (a profile name such as \"default\", or a path)");
		return false;
	} else if (!strcmp(k, "name")) {
		free(p->name);
		p->name = xstrdup(it->valuestring);
	} else if (!strcmp(k, "description")) {
		free(p->description);
		p->description = xstrdup(it->valuestring);
	}
	return true;
}

bool profile_apply_top(struct loadctx *c, const cJSON *obj, struct profile *p)
{
	static const char *const keys[] = { "$schema", "name", "description", "comment", "extends",
					    "on_violation", "probe_refusals", "build_servers", "roles", NULL };
	const cJSON *it;

	if (!check_keys(c, "", obj, keys))
		return false;
	cJSON_ArrayForEach(it, obj) {
		if (!(strcmp(it->string, "roles") ? apply_top_key(c, it->string, it, p)
						  : apply_roles(c, it, p)))
			return false;
	}
	return reapply_role_actions(c, obj, p);
}
