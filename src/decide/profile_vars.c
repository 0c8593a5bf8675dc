/* Run-time variables of profiles ($HOME, $SITE, $SRC, ...): their names,
 * their values for this run (set by the supervisor, or read back from a
 * trace header), and patterns expanded with them (profile_priv.h) before
 * the engine compiles them into globs. */
#include "decide/profile_priv.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "decide/glob.h"
#include "base/base.h"

/* ---- names ------------------------------------------------------------------------ */

static const char *const var_names[VAR_COUNT] = {
	[VAR_HOME] = "HOME", [VAR_ENV] = "ENV", [VAR_SITE] = "SITE", [VAR_BUILD] = "BUILD",
	[VAR_TMP] = "TMP", [VAR_PYTHON] = "PYTHON", [VAR_CWD] = "CWD", [VAR_PROXY] = "PROXY",
	[VAR_SRC] = "SRC", [VAR_CARGO_HOME] = "CARGO_HOME", [VAR_RUSTUP_HOME] = "RUSTUP_HOME",
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

int profile_var_at(const char *s, size_t *len, const char **next)
{
	bool brace = s[1] == '{';
	const char *name = s + 1 + brace, *end = name;

	while ((*end >= 'A' && *end <= 'Z') || (*end >= 'a' && *end <= 'z') ||
	       (*end >= '0' && *end <= '9') || *end == '_')
		end++;
	*len = (size_t)(end - name);
	*next = end + (brace && *end == '}');
	return var_lookup(name, *len);
}

/* ---- values ----------------------------------------------------------------------- */

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

/* ENV, SITE and the stdlib of the venv's interpreter (into stdlib, "" when
 * pyvenv.cfg does not tell). */
static void set_venv_vars(struct profile *p, const char *venv, char *stdlib, size_t len)
{
	char ver[32], esc[PATH_MAX * 2];

	profile_set_var_id(p, VAR_ENV, venv);
	venv_python(venv, stdlib, len, ver, sizeof(ver));
	if (*ver && glob_escape(venv, esc, sizeof(esc) - 64)) {
		autofree char *site = xasprintf("%s/lib/python%s/site-packages", venv, ver);

		profile_set_var_id(p, VAR_SITE, site);
	} else if (glob_escape(venv, esc, sizeof(esc) - 64)) {
		autofree char *site = xasprintf("%s/lib/python3*/site-packages", esc);

		profile_set_var_id(p, VAR_SITE, site);
		p->var_is_glob[VAR_SITE] = true;
	}
}

void profile_set_defaults(struct profile *p, const char *home, const char *cwd, const char *venv)
{
	char stdlib[PATH_MAX] = "";

	if (home)
		profile_set_var_id(p, VAR_HOME, home);
	if (cwd)
		profile_set_var_id(p, VAR_CWD, cwd);
	profile_set_var_id(p, VAR_TMP, "/tmp");
	profile_set_var_id(p, VAR_BUILD, JAIL_PIP_TMP "/*");
	if (venv)
		set_venv_vars(p, venv, stdlib, sizeof(stdlib));
	if (*stdlib) {
		profile_set_var_id(p, VAR_PYTHON, stdlib);
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

/* ---- patterns expanded -------------------------------------------------------- */

int profile_expand(const struct profile *p, const char *text, const char *srcdir, bool escape,
		   char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *s = text; *s;) {
		const char *val = NULL;
		bool val_glob = false;

		if (*s == '\\' && s[1]) {
			if (o + 2 >= outlen)
				return -1;
			out[o++] = *s++;
			out[o++] = *s++;
			continue;
		}
		if (*s == '~' && s == text && (s[1] == '/' || !s[1])) {
			val = p ? p->vars[VAR_HOME] : NULL;
			if (!val)
				return 1;
			s++;
		} else if (*s == '$') {
			size_t len;
			int v = profile_var_at(s, &len, &s);

			if (v < 0)
				return 1;  /* the loader refuses these: never here */
			if (v == VAR_SRC)
				val = srcdir;
			else if (p) {
				val = p->vars[v];
				val_glob = p->var_is_glob[v];
			}
			if (!val)
				return 1;
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *s++;
			continue;
		}
		if (escape && !val_glob) {
			if (!glob_escape(val, out + o, outlen - o))
				return -1;
			o += strlen(out + o);
		} else {
			size_t n = strlen(val);

			if (o + n >= outlen)
				return -1;
			memcpy(out + o, val, n);
			o += n;
		}
		/* "$HOME/" after a value ending in '/' ("/"): no "//". */
		if (o > 1 && out[o - 1] == '/' && *s == '/')
			s++;
	}
	out[o] = '\0';
	return 0;
}
