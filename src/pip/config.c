/* pip's configuration files (pip.conf): which files pip reads, in its
 * order, and each read as Python's configparser reads it.  The files are
 * the user's and the system's, read before the jail exists (with the
 * user's rights when the caller says so); bounded and never blocking. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pip/pip.h"

#define CONF_MAX_BYTES (1u << 20)

const char *pip_env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

bool pip_config_truthy(const char *v)
{
	return v && (strcasecmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
		     strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The key being read: its line and its value so far. */
struct pending {
	char section[64], key[64];
	unsigned line;
	char *value;
};

static int flush(struct pending *k, const char *file,
		 int (*on_item)(void *ctx, const struct pip_config_item *it), void *ctx)
{
	struct pip_config_item it = { .file = file, .line = k->line, .section = k->section,
				      .key = k->key, .value = k->value };
	int rc = 0;

	if (k->value)
		rc = on_item(ctx, &it);
	free(k->value);
	k->value = NULL;
	k->key[0] = '\0';
	return rc;
}

/* One line of the file (a C string: a NUL ends it early). */
static int conf_line(struct pending *k, char *line, unsigned lineno, const char *file,
		     int (*on_item)(void *ctx, const struct pip_config_item *it), void *ctx)
{
	char *t = trim(line);
	size_t klen;
	int rc;

	/* An indented line continues the value of the key before it. */
	if (k->value && isspace((unsigned char)line[0]) && *t && *t != '#' && *t != ';') {
		char *nv = xasprintf("%s%s%s", k->value, *k->value ? " " : "", t);

		free(k->value);
		k->value = nv;
		return 0;
	}
	if ((rc = flush(k, file, on_item, ctx)))
		return rc;
	if (*t == '\0' || *t == '#' || *t == ';')
		return 0;
	if (*t == '[') {
		char *end = strchr(t, ']');

		snprintf(k->section, sizeof(k->section), "%.*s", end ? (int)(end - t - 1) : 0, t + 1);
		for (char *c = k->section; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		return 0;
	}
	klen = strcspn(t, "=:");
	if (t[klen] == '\0')
		return 0;    /* not a key line; configparser would fail, pip too */
	t[klen] = '\0';
	snprintf(k->key, sizeof(k->key), "%s", trim(t));
	k->value = xstrdup(trim(t + klen + 1));
	k->line = lineno;
	return 0;
}

int pip_config_parse(const char *file, const char *text, size_t len,
		     int (*on_item)(void *ctx, const struct pip_config_item *it), void *ctx)
{
	struct pending k = { 0 };
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int rc = 0;

	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		autofree char *line = xasprintf("%.*s", (int)n, p);

		p += n + (nl ? 1 : 0);
		rc = conf_line(&k, line, ++lineno, file, on_item, ctx);
	}
	if (!rc)
		rc = flush(&k, file, on_item, ctx);
	free(k.value);
	return rc;
}

/* One file; a missing or unreadable one is skipped. */
static int read_conf(const struct pip_config_src *src, const char *path,
		     int (*on_item)(void *ctx, const struct pip_config_item *it), void *ctx)
{
	autoclose int fd = src->open_file ? src->open_file(path, src->ctx)
					  : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	autofree char *text = NULL;
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CONF_MAX_BYTES)
		return 0;
	text = xmalloc((size_t)st.st_size + 1);
	n = read_all(fd, text, (size_t)st.st_size);
	if (n < 0)
		return 0;
	debugx(2, "reading pip configuration %s", path);
	return pip_config_parse(path, text, (size_t)n, on_item, ctx);
}

int pip_config_read(const struct pip_config_src *src,
		    int (*on_item)(void *ctx, const struct pip_config_item *it), void *ctx)
{
	static const char *const system_default[] = { "/etc/xdg/pip/pip.conf", "/etc/pip.conf", NULL };
	const char *const *sys = src->system_files ? src->system_files : system_default;
	const char *cf = pip_env_get(src->envp, "PIP_CONFIG_FILE");
	const char *xdg = pip_env_get(src->envp, "XDG_CONFIG_HOME");
	const char *venv = pip_env_get(src->envp, "VIRTUAL_ENV");
	char *files[4] = { NULL };
	size_t n = 0;
	int rc = 0;

	if (cf && *cf) {
		if (strcmp(cf, "/dev/null") == 0)
			return 0;   /* os.devnull: no file at all */
		rc = read_conf(src, cf, on_item, ctx);
	}
	for (; *sys && !rc; sys++)
		rc = read_conf(src, *sys, on_item, ctx);
	if (src->home)
		files[n++] = xasprintf("%s/.pip/pip.conf", src->home);
	if (xdg && xdg[0] == '/')
		files[n++] = xasprintf("%s/pip/pip.conf", xdg);
	else if (src->home)
		files[n++] = xasprintf("%s/.config/pip/pip.conf", src->home);
	if (venv && *venv)
		files[n++] = xasprintf("%s/pip.conf", venv);
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = read_conf(src, files[i], on_item, ctx);
		free(files[i]);
	}
	return rc;
}
