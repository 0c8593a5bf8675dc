/* Building a struct jail_config, on the supervisor's side before the
 * clone: the invoking user, the host paths shown in the jail, a fresh
 * identity for the jail. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "jail/jail.h"

void jail_config_init(struct jail_config *cfg)
{
	cfg->limits = (struct jail_limits){
		.max_procs = 512, .max_mem_mb = 8192, .max_fsize_mb = 8192, .max_nofile = 4096,
	};
	cfg->notify_sock = -1;
	user_find_invoker(&cfg->user);
}

/* Whether real (resolved) may be shown at all: never /, /proc, /sys, /dev,
 * the home or what holds it, nor a place where the user keeps secrets. */
static int showable(const struct jail_config *cfg, const char *real, char *err, size_t errlen)
{
	const char *secret;

	if (strcmp(real, "/") == 0 || path_is_under(real, "/proc") || path_is_under(real, "/sys") ||
	    path_is_under(real, "/dev")) {
		set_err(err, errlen, "refusing to expose %s in the jail; name a project directory "
			"instead", real);
		return -1;
	}
	if (path_is_under(cfg->user.home, real)) {
		set_err(err, errlen, "refusing to expose your home directory (and its real secrets) in "
			"the jail; name a directory inside it instead");
		return -1;
	}
	if ((secret = decoys_secret_place(cfg->user.home, real))) {
		set_err(err, errlen, "%s lies in or holds %s, where secrets are kept: the jail never "
			"shows it", real, secret);
		return -1;
	}
	return 0;
}

static struct jail_bind *find_bind(const struct jail_config *cfg, const char *real)
{
	for (size_t i = 0; i < cfg->n_binds; i++)
		if (strcmp(cfg->binds[i].path, real) == 0)
			return &cfg->binds[i];
	return NULL;
}

static void add_bind(struct jail_config *cfg, const char *real, const struct stat *st,
		     enum jail_show how, const char *why)
{
	struct jail_bind *b = find_bind(cfg, real);

	if (!b) {
		cfg->binds = xrealloc(cfg->binds, (cfg->n_binds + 1) * sizeof(*cfg->binds));
		b = &cfg->binds[cfg->n_binds++];
		*b = (struct jail_bind){ .path = xstrdup(real), .is_dir = S_ISDIR(st->st_mode),
					 .why = why, .fd = -1 };
		b->pip_only = how == SHOW_PIP_OUTPUT;
	} else if (how != SHOW_PIP_OUTPUT) {
		b->pip_only = false;
	}
	/* the wider way of the two: writable > a throwaway layer > read-only */
	if (how == SHOW_RW || how == SHOW_PIP_OUTPUT) {
		b->writable = true;
		b->layer = false;
	} else if (how == SHOW_LAYER && !b->writable && b->is_dir) {
		b->layer = true;
	}
}

void jail_config_bind(struct jail_config *cfg, const char *opt, const char *path, bool writable)
{
	char real[PATH_MAX], err[PATH_MAX + 256];
	struct stat st;

	if (!realpath(path, real))
		die("%s %s: %s", opt, path, strerror(errno));
	if (stat(real, &st) < 0)
		die("%s %s: %s", opt, path, strerror(errno));
	if (showable(cfg, real, err, sizeof(err)) < 0)
		die("%s %s: %s", opt, path, err);
	add_bind(cfg, real, &st, writable ? SHOW_RW : SHOW_RO, opt);
}

int jail_config_show(struct jail_config *cfg, const char *path, enum jail_show how,
		     const char *why, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real) || stat(real, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (showable(cfg, real, err, errlen) < 0)
		return -1;
	add_bind(cfg, real, &st, how, why);
	debugx(1, "showing %s %s (%s)", real, how == SHOW_RO ? "read-only" : how == SHOW_LAYER ?
	       "read-only below a throwaway writable layer" : how == SHOW_RW ? "writable" :
	       "writable for pip", why);
	return 0;
}

const struct jail_bind *jail_config_shown(const struct jail_config *cfg, const char *path)
{
	const struct jail_bind *best = NULL;

	for (size_t i = 0; i < cfg->n_binds; i++)
		if (path_is_under(path, cfg->binds[i].path) &&
		    (!best || strlen(cfg->binds[i].path) > strlen(best->path)))
			best = &cfg->binds[i];
	return best;
}

void jail_config_scan_decoys(struct jail_config *cfg)
{
	for (size_t i = 0; i < cfg->n_binds; i++)
		if (cfg->binds[i].is_dir)
			decoys_scan_dir(&cfg->decoys, &cfg->user, cfg->binds[i].path, (int)i);
}

/* A hostname like ordinary machines have ("dev-3fa9", "build-07c2") and a
 * machine id, new each run. */
void jail_config_identity(struct jail_config *cfg)
{
	static const char *const words[] = { "dev", "build", "ws", "laptop", "desktop", "runner", "node" };
	unsigned char pick;
	char hex[5];

	random_bytes(&pick, 1);
	random_hex(hex, 4);
	snprintf(cfg->hostname, sizeof(cfg->hostname), "%s-%s", words[pick % ARRAY_SIZE(words)], hex);
	random_hex(cfg->machine_id, 32);
}

void jail_config_free(struct jail_config *cfg)
{
	for (size_t i = 0; cfg->env && cfg->env[i]; i++)
		free(cfg->env[i]);
	free(cfg->env);
	for (size_t i = 0; i < cfg->n_binds; i++) {
		free(cfg->binds[i].path);
		closep(&cfg->binds[i].fd);
	}
	free(cfg->binds);
	user_free(&cfg->user);
	free(cfg->cwd);
	free(cfg->pip_cache);
	free(cfg->stage_target);
	free(cfg->stage_upper);
	free(cfg->stage_work);
	free(cfg->fake_user);
	decoys_free(&cfg->decoys);
	jail_unix_trees_free(cfg);
	memset(cfg, 0, sizeof(*cfg));
}
