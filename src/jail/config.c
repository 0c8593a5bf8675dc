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

void jail_config_bind(struct jail_config *cfg, const char *opt, const char *path, bool writable)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real))
		die("%s %s: %s", opt, path, strerror(errno));
	if (stat(real, &st) < 0)
		die("%s %s: %s", opt, path, strerror(errno));
	if (strcmp(real, "/") == 0 || path_is_under(real, "/proc") || path_is_under(real, "/sys") ||
	    path_is_under(real, "/dev"))
		die("%s %s: refusing to expose %s in the jail; name a project directory instead",
		    opt, path, real);
	if (path_is_under(cfg->user.home, real))
		die("%s %s: refusing to expose your home directory (and its real secrets) in the jail; "
		    "name a directory inside it instead", opt, path);
	for (size_t i = 0; i < cfg->n_binds; i++) {
		if (strcmp(cfg->binds[i].path, real) == 0) {
			cfg->binds[i].writable |= writable;
			return;
		}
	}
	cfg->binds = xrealloc(cfg->binds, (cfg->n_binds + 1) * sizeof(*cfg->binds));
	cfg->binds[cfg->n_binds++] = (struct jail_bind){
		.path = xstrdup(real), .writable = writable, .is_dir = S_ISDIR(st.st_mode), .fd = -1,
	};
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
	jail_unix_trees_free(cfg);
	memset(cfg, 0, sizeof(*cfg));
}
