/* Pathname unix sockets in the jail's view.  Which trees of the view are
 * the jail's own (every tmpfs its init mounts, --rw binds) and which are
 * not (the host root, read-only binds, the staging overlays), as the
 * unix-socket guard's table (src/observe/unixguard.h); then, in the jail's
 * init before the pivot, either
 *   - the guard will run: a mirror of each tree of its own at /dev/.uN, a
 *     bind of that one mount (no submounts), read-only and nosymfollow:
 *     the guard sends every socket name below a tree of the jail's own
 *     there, so the kernel follows no symlink a package planted, and
 *     refuses every other name (bpf/helpers/unixpath.bpf.h);
 *   - it will not (a kernel before 6.7): known socket directories are
 *     hidden under an empty tmpfs and the sockets found in the read-only
 *     binds (the current directory) are covered by /dev/null; the monitor
 *     still reports a connect elsewhere, but only after the fact. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail/jail.h"

#define MIRROR_ROOT "/dev/.u"
#define TREE_PATH_MAX 255     /* observe/unixguard.h: UNIXGUARD_MAX_PATH */
#define TREES_MAX 64          /* UNIXGUARD_MAX_TREES */

/* Without the guard: directories where host services keep their sockets,
 * beyond what the jail hides anyway (/run, /var/run, /tmp, homes). */
static const char *const socket_dirs[] = {
	"/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet", "/var/lib/lxd",
	"/var/lib/incus", "/var/lib/libvirt", "/var/lib/mysql", "/var/lib/postgresql",
	"/var/snap", "/mnt/wslg", "/mnt/wsl",
};

static bool is_real_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void add(struct jail_config *cfg, const char *path, const char *mirror, bool alias)
{
	struct jail_unix_tree *t = NULL;

	if (strlen(path) > TREE_PATH_MAX || strlen(path) < 2) {
		debugx(1, "unix sockets: %s is too long for the guard's table: its sockets are refused", path);
		return;
	}
	for (size_t i = 0; i < cfg->n_unix_trees; i++)
		if (!strcmp(cfg->unix_trees[i].path, path))
			t = &cfg->unix_trees[i];  /* a bind over a tmpfs: the bind is what is seen */
	if (!t) {
		if (cfg->n_unix_trees == TREES_MAX)
			return;  /* the names below it go by a shorter tree, or are refused */
		cfg->unix_trees = xrealloc(cfg->unix_trees, (cfg->n_unix_trees + 1) * sizeof(*t));
		t = &cfg->unix_trees[cfg->n_unix_trees++];
		t->path = xstrdup(path);
	} else {
		free(t->mirror);
	}
	t->mirror = mirror ? xstrdup(mirror) : NULL;
	t->alias = alias;
}

static void add_own(struct jail_config *cfg, const char *path, unsigned *mirrors)
{
	char m[16];

	snprintf(m, sizeof(m), MIRROR_ROOT "%u", (*mirrors)++);
	add(cfg, path, m, false);
}

/* A host symlink to a tree of the jail's own (/var/run -> /run) names the
 * same place: below the same mirror. */
static void add_alias(struct jail_config *cfg, const char *link)
{
	char real[PATH_MAX], m[32];
	const struct jail_unix_tree *best = NULL;
	struct stat st;

	if (lstat(link, &st) < 0 || !S_ISLNK(st.st_mode) || !realpath(link, real))
		return;
	for (size_t i = 0; i < cfg->n_unix_trees; i++) {
		const struct jail_unix_tree *t = &cfg->unix_trees[i];

		if (t->mirror && !t->alias && path_is_under(real, t->path) &&
		    (!best || strlen(t->path) > strlen(best->path)))
			best = t;
	}
	if (best && snprintf(m, sizeof(m), "%s%s", best->mirror, real + strlen(best->path)) < 16)
		add(cfg, link, m, true);
}

void jail_unix_trees(struct jail_config *cfg)
{
	size_t n_hidden;
	const char *const *hidden = mounts_hidden_dirs(&n_hidden);
	const char *home = cfg->user.home;
	unsigned mirrors = 0;
	bool covered = false;

	/* the tmpfs mounts of mounts.c, in its order */
	add_own(cfg, "/dev", &mirrors);
	add_own(cfg, "/dev/shm", &mirrors);
	add_own(cfg, "/tmp", &mirrors);
	for (size_t i = 0; i < n_hidden; i++) {
		covered |= home && path_is_under(home, hidden[i]);
		if (is_real_dir(hidden[i]))
			add_own(cfg, hidden[i], &mirrors);
	}
	if (home && !covered && is_real_dir(home))
		add_own(cfg, home, &mirrors);
	for (size_t i = 0; i < cfg->n_binds; i++) {
		if (cfg->binds[i].writable)
			add_own(cfg, cfg->binds[i].path, &mirrors);
		else
			add(cfg, cfg->binds[i].path, NULL, false);
	}
	if (cfg->stage_target)
		add(cfg, cfg->stage_target, NULL, false);
	if (cfg->pip_cache)
		add(cfg, cfg->pip_cache, NULL, false);
	for (size_t i = 0; i < n_hidden; i++)
		add_alias(cfg, hidden[i]);
}

void jail_unix_trees_free(struct jail_config *cfg)
{
	for (size_t i = 0; i < cfg->n_unix_trees; i++) {
		free(cfg->unix_trees[i].path);
		free(cfg->unix_trees[i].mirror);
	}
	free(cfg->unix_trees);
	cfg->unix_trees = NULL;
	cfg->n_unix_trees = 0;
}

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

/* The guard will run: one mirror per tree of the jail's own. */
static int mirrors(const struct jail_config *cfg, const char *root, char *err, size_t errlen)
{
	struct mount_attr a = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};

	for (size_t i = 0; i < cfg->n_unix_trees; i++) {
		const struct jail_unix_tree *t = &cfg->unix_trees[i];
		autofree char *src = NULL, *dst = NULL;

		if (!t->mirror || t->alias)
			continue;
		src = xasprintf("%s%s", root, t->path);
		dst = xasprintf("%s%s", root, t->mirror);
		if (mkdir(dst, 0555) < 0)
			return fail(err, errlen, "creating the socket mirror", dst);
		/* not MS_REC: the mirror holds this one mount, none below it */
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return fail(err, errlen, "mirroring for the unix-socket guard", src);
		if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_SYMLINK_NOFOLLOW, &a, sizeof(a)) < 0)
			return fail(err, errlen, "making read-only and nosymfollow", dst);
	}
	return 0;
}

/* Without the guard: the sockets in the read-only binds (the current
 * directory), a few levels deep and at most so many entries (a best
 * effort: the guard is the wall). */
static char **found;
static size_t n_found, n_seen;

static int find_socket(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)type;
	if (++n_seen > 50000)
		return FTW_STOP;
	if (S_ISSOCK(st->st_mode) && n_found < 256) {
		found = xrealloc(found, (n_found + 1) * sizeof(*found));
		found[n_found++] = xstrdup(path);
	}
	return f->level > 4 ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
}

static int hide(const struct jail_config *cfg, const char *root, char *err, size_t errlen)
{
	autofree char *null = xasprintf("%s/dev/null", root);
	int rc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(socket_dirs); i++) {
		autofree char *p = xasprintf("%s%s", root, socket_dirs[i]);

		if (is_real_dir(p) && mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
					    "mode=0755,size=4k") < 0)
			return fail(err, errlen, "hiding the socket directory", socket_dirs[i]);
	}
	for (size_t i = 0; i < cfg->n_binds; i++) {
		autofree char *p = xasprintf("%s%s", root, cfg->binds[i].path);

		n_seen = 0;
		if (!cfg->binds[i].writable && cfg->binds[i].is_dir)
			nftw(p, find_socket, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
	}
	for (size_t i = 0; i < n_found; i++) {
		if (!rc && mount(null, found[i], NULL, MS_BIND, NULL) < 0)
			rc = fail(err, errlen, "covering the socket", found[i]);
		free(found[i]);
	}
	free(found);
	found = NULL;
	n_found = 0;
	return rc;
}

int sockview_mount(const struct jail_config *cfg, const char *root, char *err, size_t errlen)
{
	return cfg->unix_guard ? mirrors(cfg, root, err, errlen) : hide(cfg, root, err, errlen);
}
