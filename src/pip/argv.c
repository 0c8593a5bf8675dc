/* pip's command line, read the way pip's option parser (optparse) reads it:
 * which options take a value, short options bundled, long ones written
 * "--name=value" or abbreviated, the command, the requirements.  The one
 * scanner behind the index settings (index.c), the install target (env.c),
 * the command's one requirement (metadata.c) and the requirements files a
 * CI run points at (report/). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pip/pip.h"

/* pip's options (pip/_internal/cli/cmdoptions.py and the commands'), long
 * name, short letter, whether a value follows, and the commands in which
 * the short letter is a flag instead ("pip list -e", "pip show -f"). */
static const struct pip_option {
	const char *name;
	char letter;
	bool value;
	enum pip_opt opt;
	const char *flag_in;
} options[] = {
	{ "requirement", 'r', true, PIP_OPT_REQUIREMENT, NULL },
	{ "constraint", 'c', true, PIP_OPT_CONSTRAINT, NULL },
	{ "editable", 'e', true, PIP_OPT_EDITABLE, "list" },
	{ "index-url", 'i', true, PIP_OPT_INDEX_URL, NULL },
	{ "extra-index-url", 0, true, PIP_OPT_EXTRA_INDEX_URL, NULL },
	{ "find-links", 'f', true, PIP_OPT_FIND_LINKS, "show" },
	{ "no-index", 0, false, PIP_OPT_NO_INDEX, NULL },
	{ "target", 't', true, PIP_OPT_TARGET, NULL },
	{ "prefix", 0, true, PIP_OPT_PREFIX, NULL },
	{ "root", 0, true, PIP_OPT_ROOT, NULL },
	{ "user", 0, false, PIP_OPT_USER, NULL },
	{ "dest", 'd', true, PIP_OPT_OUTPUT_DIR, NULL },
	{ "destination-dir", 0, true, PIP_OPT_OUTPUT_DIR, NULL },
	{ "destination-directory", 0, true, PIP_OPT_OUTPUT_DIR, NULL },
	{ "wheel-dir", 'w', true, PIP_OPT_OUTPUT_DIR, NULL },
	/* options whose value is skipped */
	{ "build", 'b', true, PIP_OPT_OTHER, NULL },
	{ "config-settings", 'C', true, PIP_OPT_OTHER, NULL },
	{ "algorithm", 'a', true, PIP_OPT_OTHER, NULL },
	{ "python", 0, true, PIP_OPT_OTHER, NULL },
	{ "log", 0, true, PIP_OPT_OTHER, NULL },
	{ "log-file", 0, true, PIP_OPT_OTHER, NULL },
	{ "local-log", 0, true, PIP_OPT_OTHER, NULL },
	{ "keyring-provider", 0, true, PIP_OPT_OTHER, NULL },
	{ "proxy", 0, true, PIP_OPT_OTHER, NULL },
	{ "retries", 0, true, PIP_OPT_OTHER, NULL },
	{ "timeout", 0, true, PIP_OPT_OTHER, NULL },
	{ "exists-action", 0, true, PIP_OPT_OTHER, NULL },
	{ "trusted-host", 0, true, PIP_OPT_OTHER, NULL },
	{ "cert", 0, true, PIP_OPT_OTHER, NULL },
	{ "client-cert", 0, true, PIP_OPT_OTHER, NULL },
	{ "cache-dir", 0, true, PIP_OPT_OTHER, NULL },
	{ "use-feature", 0, true, PIP_OPT_OTHER, NULL },
	{ "use-deprecated", 0, true, PIP_OPT_OTHER, NULL },
	{ "platform", 0, true, PIP_OPT_OTHER, NULL },
	{ "python-version", 0, true, PIP_OPT_OTHER, NULL },
	{ "implementation", 0, true, PIP_OPT_OTHER, NULL },
	{ "abi", 0, true, PIP_OPT_OTHER, NULL },
	{ "src", 0, true, PIP_OPT_OTHER, NULL },
	{ "source", 0, true, PIP_OPT_OTHER, NULL },
	{ "source-dir", 0, true, PIP_OPT_OTHER, NULL },
	{ "source-directory", 0, true, PIP_OPT_OTHER, NULL },
	{ "upgrade-strategy", 0, true, PIP_OPT_OTHER, NULL },
	{ "global-option", 0, true, PIP_OPT_OTHER, NULL },
	{ "install-option", 0, true, PIP_OPT_OTHER, NULL },
	{ "build-option", 0, true, PIP_OPT_OTHER, NULL },
	{ "no-binary", 0, true, PIP_OPT_OTHER, NULL },
	{ "only-binary", 0, true, PIP_OPT_OTHER, NULL },
	{ "progress-bar", 0, true, PIP_OPT_OTHER, NULL },
	{ "root-user-action", 0, true, PIP_OPT_OTHER, NULL },
	{ "report", 0, true, PIP_OPT_OTHER, NULL },
	{ "hash", 0, true, PIP_OPT_OTHER, NULL },
	{ "path", 0, true, PIP_OPT_OTHER, NULL },
	{ "format", 0, true, PIP_OPT_OTHER, NULL },
	{ "exclude", 0, true, PIP_OPT_OTHER, NULL },
	{ "editor", 0, true, PIP_OPT_OTHER, NULL },
	/* flags: known, so that an abbreviation is ambiguous where it is for pip */
	{ "no-deps", 0, false, PIP_OPT_OTHER, NULL },
	{ "pre", 0, false, PIP_OPT_OTHER, NULL },
	{ "dry-run", 0, false, PIP_OPT_OTHER, NULL },
	{ "upgrade", 'U', false, PIP_OPT_OTHER, NULL },
	{ "force-reinstall", 0, false, PIP_OPT_OTHER, NULL },
	{ "ignore-installed", 'I', false, PIP_OPT_OTHER, NULL },
	{ "ignore-requires-python", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-build-isolation", 0, false, PIP_OPT_OTHER, NULL },
	{ "use-pep517", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-use-pep517", 0, false, PIP_OPT_OTHER, NULL },
	{ "check-build-dependencies", 0, false, PIP_OPT_OTHER, NULL },
	{ "break-system-packages", 0, false, PIP_OPT_OTHER, NULL },
	{ "compile", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-compile", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-warn-script-location", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-warn-conflicts", 0, false, PIP_OPT_OTHER, NULL },
	{ "prefer-binary", 0, false, PIP_OPT_OTHER, NULL },
	{ "require-hashes", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-clean", 0, false, PIP_OPT_OTHER, NULL },
	{ "help", 'h', false, PIP_OPT_OTHER, NULL },
	{ "debug", 0, false, PIP_OPT_OTHER, NULL },
	{ "isolated", 0, false, PIP_OPT_OTHER, NULL },
	{ "require-virtualenv", 0, false, PIP_OPT_OTHER, NULL },
	{ "verbose", 'v', false, PIP_OPT_OTHER, NULL },
	{ "version", 'V', false, PIP_OPT_OTHER, NULL },
	{ "quiet", 'q', false, PIP_OPT_OTHER, NULL },
	{ "no-input", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-cache-dir", 0, false, PIP_OPT_OTHER, NULL },
	{ "disable-pip-version-check", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-color", 0, false, PIP_OPT_OTHER, NULL },
	{ "no-python-version-warning", 0, false, PIP_OPT_OTHER, NULL },
	{ "yes", 'y', false, PIP_OPT_OTHER, NULL },
};

static const struct pip_option *by_letter(char c, const char *command)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		if (options[i].letter != c)
			continue;
		if (command && options[i].flag_in && !strcmp(options[i].flag_in, command))
			return NULL;
		return &options[i];
	}
	return NULL;
}

/* name (n bytes, without "--"): the option of that name, else the one
 * option it abbreviates (optparse accepts a unique prefix), else NULL. */
static const struct pip_option *by_long(const char *name, size_t n)
{
	const struct pip_option *found = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strlen(options[i].name) == n && !strncmp(options[i].name, name, n))
			return &options[i];
	for (size_t i = 0; n && i < ARRAY_SIZE(options); i++) {
		if (strncmp(options[i].name, name, n))
			continue;
		if (found)
			return NULL;   /* ambiguous: pip refuses it */
		found = &options[i];
	}
	return found;
}

void pip_args_init(struct pip_args *it, const char *const *words, bool command_seen)
{
	memset(it, 0, sizeof(*it));
	it->words = words;
	it->command_seen = command_seen;
}

/* The value of an option that takes one: the rest of this word, else the
 * next word (NULL at the end: pip reports the missing value). */
static void take_value(struct pip_args *it, const char *rest, struct pip_arg *a)
{
	it->pos = 0;
	if (*rest) {
		a->value = rest;
		it->i++;
	} else {
		a->value = it->words[it->i + 1];
		it->i += a->value ? 2 : 1;
	}
}

/* One letter of "-qr FILE", "-iURL": it->pos is the letter's index. */
static void short_option(struct pip_args *it, struct pip_arg *a)
{
	const char *w = it->words[it->i];
	char c = w[it->pos];
	const struct pip_option *o = by_letter(c, it->command);

	snprintf(a->name, sizeof(a->name), "-%c", c);
	a->opt = o ? o->opt : PIP_OPT_UNKNOWN;
	it->pos++;
	if (o && o->value) {
		take_value(it, w + it->pos, a);
	} else if (!w[it->pos]) {
		it->pos = 0;
		it->i++;
	}
}

static void long_option(struct pip_args *it, struct pip_arg *a)
{
	const char *w = it->words[it->i] + 2, *eq = strchr(w, '=');
	size_t n = eq ? (size_t)(eq - w) : strlen(w);
	const struct pip_option *o = by_long(w, n);

	snprintf(a->name, sizeof(a->name), "--%.*s", (int)n, w);
	a->opt = o ? o->opt : PIP_OPT_UNKNOWN;
	if (eq) {
		a->value = eq + 1;
		it->i++;
	} else if (o && o->value) {
		take_value(it, "", a);
	} else {
		it->i++;
	}
}

bool pip_args_next(struct pip_args *it, struct pip_arg *a)
{
	const char *w;

	memset(a, 0, sizeof(*a));
	if (!it->words || !(w = it->words[it->i]))
		return false;
	if (it->pos) {
		a->kind = PIP_ARG_OPTION;
		short_option(it, a);
		return true;
	}
	if (!strcmp(w, "--")) {
		it->words = NULL;   /* what follows is not pip's options */
		return false;
	}
	if (w[0] == '-' && w[1] == '-') {
		a->kind = PIP_ARG_OPTION;
		long_option(it, a);
	} else if (w[0] == '-' && w[1]) {
		a->kind = PIP_ARG_OPTION;
		it->pos = 1;
		short_option(it, a);
	} else {
		a->kind = it->command_seen ? PIP_ARG_REQUIREMENT : PIP_ARG_COMMAND;
		a->value = w;
		if (!it->command_seen)
			it->command = w;
		it->command_seen = true;
		it->i++;
	}
	return true;
}

enum pip_opt pip_option_by_name(const char *name)
{
	char k[64];
	size_t i;
	const struct pip_option *o;

	while (*name == '-')
		name++;
	for (i = 0; name[i] && i + 1 < sizeof(k); i++)
		k[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	k[i] = '\0';
	if (name[i])
		return PIP_OPT_UNKNOWN;
	for (size_t j = 0; j < ARRAY_SIZE(options); j++) {
		o = &options[j];
		if (!strcmp(o->name, k))
			return o->opt;
	}
	return PIP_OPT_UNKNOWN;
}

const char *pip_option_name(enum pip_opt opt)
{
	for (size_t j = 0; j < ARRAY_SIZE(options); j++)
		if (options[j].opt == opt && opt != PIP_OPT_OTHER)
			return options[j].name;
	return "?";
}
