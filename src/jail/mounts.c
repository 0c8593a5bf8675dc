/* The jail's filesystem view, built in the jail's own mount namespace by its
 * init (root in the initial user namespace, before it drops everything):
 *
 *   /            the host root, bound recursively, read-only, nosuid, nodev
 *   /proc        a new proc of the jail's pid namespace; knobs read-only
 *   /sys         a new sysfs (the jail's net namespace), read-only
 *   /dev         tmpfs: null zero full random urandom tty, pts, shm
 *   /tmp, /run   fresh tmpfs (host sockets in /run are not reachable)
 *   /home, /root fresh tmpfs; the user's home holds only decoy secrets
 *   /etc/shadow… masked by an empty file
 *   binds        --rw/--ro paths, the target environment, the current
 *                directory, what pip's command line names, the interpreter's
 *                installation and the toolchains PATH points into, at their
 *                own paths, from fds opened before any mount changed (so a
 *                symlink swapped later cannot redirect); read-only, writable,
 *                or read-only below a throwaway writable layer (an overlay
 *                whose upper layer is a tmpfs of the jail)
 *   decoys       over the secret-looking files at the top of each directory
 *                shown (src/jail/decoys.c)
 *   /dev/.uN     mirrors of the jail's own trees for the unix-socket guard,
 *                or more hidden socket directories without it (sockview.c)
 *
 * Nothing here is visible to the host: the namespace is made private first
 * (where "/" is no mount of its own, a private copy of it is entered
 * first), and it dies with the jail, so no mount can be left behind. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "jail/jail.h"
#include "base/base.h"

#define BASE    "/tmp"
#define NEWROOT BASE "/root"

/* Files whose content is a secret of the host even to a read-only root. */
static const char *const masked_files[] = {
	"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
	"/etc/sudoers", "/etc/security/opasswd",
	"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key",
	"/etc/ssh/ssh_host_dsa_key",
};
/* Directories replaced by an empty tmpfs: other users' data, host sockets,
 * spools. */
static const char *const hidden_dirs[] = {
	"/home", "/root", "/run", "/var/run", "/var/spool", "/var/mail", "/var/tmp",
	"/etc/sudoers.d", "/var/lib/sudo",
};
/* Of them, the ones every user may write (as on the host). */
static const char *const sticky_dirs[] = { "/var/tmp" };
const char *const *mounts_hidden_dirs(size_t *n)
{
	*n = ARRAY_SIZE(hidden_dirs);
	return hidden_dirs;
}

/* /proc entries that are writable knobs of the host kernel. */
static const char *const proc_readonly[] = {
	"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
};
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

bool jail_path_hidden(const struct jail_config *cfg, const char *path)
{
	if (path_is_under(path, "/tmp") || path_is_under(path, cfg->user.home))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(hidden_dirs); i++)
		if (path_is_under(path, hidden_dirs[i]))
			return true;
	return false;
}

struct mctx {
	char *err;
	size_t errlen;
	/* O_PATH fds of the overlay layers, opened before the scratch tmpfs
	 * covers /tmp (a target under /tmp would be out of reach after). */
	int lower, upper, work, cache;
};

static int fail(struct mctx *m, const char *what, const char *path)
{
	snprintf(m->err, m->errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int setattr(const char *path, uint64_t set, uint64_t clr)
{
	struct mount_attr a = { .attr_set = set, .attr_clr = clr };

	return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW,
			    &a, sizeof(a));
}

static char *in_root(const char *path)
{
	return xasprintf(NEWROOT "%s", path);
}

static bool is_real_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int mount_tmpfs(struct mctx *m, const char *path, const char *opts, unsigned long flags)
{
	if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | flags, opts) < 0)
		return fail(m, "mounting a tmpfs on", path);
	return 0;
}

/* Bind src (in this namespace) onto dst, which must exist; then set its flags. */
static int bind(struct mctx *m, const char *src, const char *dst, bool writable)
{
	uint64_t set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY);

	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(m, "binding", dst);
	if (setattr(dst, set, writable ? MOUNT_ATTR_RDONLY : 0) < 0)
		return fail(m, "setting mount flags of", dst);
	return 0;
}

/* A mount point below "/" of this namespace (a directory), from
 * /proc/self/mountinfo, into mp; false when there is none. */
static bool some_mount_point(char *mp, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		char point[4096];

		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 || !strcmp(point, "/") ||
		    point[0] != '/' || strchr(point, '\\') || !is_real_dir(point))
			continue;
		snprintf(mp, len, "%s", point);
		found = true;
	}
	if (f)
		fclose(f);
	return found;
}

/* "/" is a directory of a bigger mount (a chroot, some build containers):
 * it cannot be made private, and its mount may share what is mounted on
 * it with the namespace pipjail was started from.  Take a private copy of
 * the tree at "/" (open_tree), attach it on a mount point below "/" whose
 * copy in this namespace was made private first (so nothing propagates),
 * and enter it: "/" is a mount of its own from then on. */
static int private_root(struct mctx *m)
{
	struct mount_attr a = { .propagation = MS_PRIVATE };
	char mp[4096];
	autoclose int tree = -1;

	if (!some_mount_point(mp, sizeof(mp))) {
		errno = EINVAL;
		return fail(m, "making private", "/ (it is no mount point, and no mount point below "
			    "it can hold a private copy of it; run pipjail in a mount namespace of its "
			    "own, e.g. unshare -m --propagation private, or make / a mount point)");
	}
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			    AT_RECURSIVE);
	if (tree < 0)
		return fail(m, "copying the mount tree of", "/");
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return fail(m, "making private the copy of", "/");
	if (mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
		return fail(m, "making private", mp);
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, mp, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return fail(m, "attaching the copy of / at", mp);
	if (chdir(mp) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return fail(m, "entering the copy of / at", mp);
	debugx(2, "/ is no mount point: entered a private copy of it (attached at %s)", mp);
	return 0;
}

static int host_root(struct mctx *m)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		if (errno != EINVAL)
			return fail(m, "making private", "/");
		if (private_root(m) < 0)
			return -1;
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			return fail(m, "making private", "/");
	}
	/* A scratch tmpfs over /tmp of this namespace only; the host's /tmp
	 * is untouched, and binds below come from fds opened before this. */
	if (mount_tmpfs(m, BASE, "mode=0700", 0) < 0)
		return -1;
	if (mkdir(NEWROOT, 0755) < 0)
		return fail(m, "creating", NEWROOT);
	if (mount("/", NEWROOT, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(m, "binding the host root at", NEWROOT);
	if (setattr(NEWROOT, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) < 0)
		return fail(m, "making read-only", NEWROOT);
	return 0;
}

static int proc_and_sys(struct mctx *m)
{
	autofree char *proc = in_root("/proc");
	autofree char *sys = in_root("/sys");

	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail(m, "mounting proc on", proc);
	for (size_t i = 0; i < ARRAY_SIZE(proc_readonly); i++) {
		autofree char *p = in_root(proc_readonly[i]);

		if (access(p, F_OK) == 0 && bind(m, p, p, false) < 0)
			return -1;
	}
	if (mount("sysfs", sys, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0)
		return fail(m, "mounting sysfs on", sys);
	return 0;
}

static int make_file(struct mctx *m, const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0)
		return fail(m, "creating", path);
	close(fd);
	return 0;
}

static int dev(struct mctx *m)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	autofree char *d = in_root("/dev");

	/* No nodev here: this is the one tmpfs whose nodes must work. */
	if (mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
		return fail(m, "mounting a tmpfs on", d);
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		autofree char *src = xasprintf("/dev/%s", dev_nodes[i]);
		autofree char *dst = xasprintf("%s/%s", d, dev_nodes[i]);

		if (make_file(m, dst, 0666) < 0)
			return -1;
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return fail(m, "binding", dst);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		autofree char *dst = xasprintf("%s/%s", d, links[i][1]);

		if (symlink(links[i][0], dst) < 0)
			return fail(m, "creating", dst);
	}
	{
		autofree char *pts = xasprintf("%s/pts", d);
		autofree char *shm = xasprintf("%s/shm", d);

		if (mkdir(pts, 0755) < 0 || mkdir(shm, 01777) < 0)
			return fail(m, "creating", pts);
		if (mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
			  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
			return fail(m, "mounting devpts on", pts);
		if (mount_tmpfs(m, shm, "mode=1777", MS_NOEXEC) < 0)
			return -1;
	}
	return 0;
}

/* A machine id of this run over the host's (both places systemd and
 * dbus keep it): one more fixed name a package could recognise. */
static int machine_id(struct mctx *m, const struct jail_config *cfg)
{
	static const char *const places[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };
	autofree char *content = xasprintf("%s\n", cfg->machine_id);

	if (write_file(BASE "/machine-id", content) < 0)
		return fail(m, "creating", BASE "/machine-id");
	for (size_t i = 0; i < ARRAY_SIZE(places); i++) {
		autofree char *p = in_root(places[i]);
		struct stat st;

		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && bind(m, BASE "/machine-id", p, false) < 0)
			return -1;
	}
	return 0;
}

/* One line of /etc/passwd or /etc/group with the invoker's name replaced
 * by the jail's (pipjail analyze): in passwd the user's own entry (name,
 * empty GECOS, the jail's home); in group a group of that name and the
 * member lists. */
static void rewrite_user_line(FILE *out, char *line, const struct jail_config *cfg, bool passwd)
{
	const char *real = cfg->user.name, *fake = cfg->fake_user;
	char *f[7] = { 0 };
	size_t n = 0;
	char *p = line;

	line[strcspn(line, "\n")] = '\0';
	while (n < 7) {
		f[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (passwd && n == 7 && strcmp(f[0], real) == 0) {
		fprintf(out, "%s:%s:%s:%s::%s:%s\n", fake, f[1], f[2], f[3], cfg->user.home, f[6]);
		return;
	}
	if (!passwd && n == 4) {
		char *save = NULL;
		bool first = true;

		fprintf(out, "%s:%s:%s:", strcmp(f[0], real) == 0 ? fake : f[0], f[1], f[2]);
		for (char *u = strtok_r(f[3], ",", &save); u; u = strtok_r(NULL, ",", &save)) {
			fprintf(out, "%s%s", first ? "" : ",", strcmp(u, real) == 0 ? fake : u);
			first = false;
		}
		fputc('\n', out);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ":" : "", f[i]);
	fputc('\n', out);
}

static int fake_user_file(struct mctx *m, const struct jail_config *cfg, const char *path,
			  const char *copy, bool passwd)
{
	autofree char *src = in_root(path);
	char line[4096];
	FILE *in = fopen(src, "re"), *out;

	if (!in)
		return errno == ENOENT ? 0 : fail(m, "reading", src);
	out = fopen(copy, "wex");
	if (!out) {
		fclose(in);
		return fail(m, "creating", copy);
	}
	while (fgets(line, sizeof(line), in))
		rewrite_user_line(out, line, cfg, passwd);
	fclose(in);
	if (fchmod(fileno(out), 0644) < 0 || fclose(out) != 0)
		return fail(m, "writing", copy);
	return bind(m, copy, src, false);
}

static int fake_user(struct mctx *m, const struct jail_config *cfg)
{
	if (!cfg->fake_user)
		return 0;
	if (fake_user_file(m, cfg, "/etc/passwd", BASE "/passwd", true) < 0 ||
	    fake_user_file(m, cfg, "/etc/group", BASE "/group", false) < 0)
		return -1;
	return 0;
}

static int hide(struct mctx *m, const struct jail_config *cfg)
{
	autofree char *tmp = in_root("/tmp");
	autofree char *empty = xstrdup(BASE "/empty");

	if (mount_tmpfs(m, tmp, "mode=1777", 0) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(hidden_dirs); i++) {
		autofree char *p = in_root(hidden_dirs[i]);
		bool sticky = false;

		for (size_t k = 0; k < ARRAY_SIZE(sticky_dirs); k++)
			sticky |= !strcmp(hidden_dirs[i], sticky_dirs[k]);
		if (is_real_dir(p) && mount_tmpfs(m, p, sticky ? "mode=1777" : "mode=0755", 0) < 0)
			return -1;
	}
	if (make_file(m, empty, 0444) < 0)
		return -1;
	if (machine_id(m, cfg) < 0 || fake_user(m, cfg) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(masked_files); i++) {
		autofree char *p = in_root(masked_files[i]);
		struct stat st;

		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && bind(m, empty, p, false) < 0)
			return -1;
	}
	return 0;
}

/* The user's home: a fresh tmpfs (unless /home or /root already made one)
 * with the decoy secrets, owned by the user. */
static int home(struct mctx *m, const struct jail_config *cfg)
{
	const struct jail_user *u = &cfg->user;
	autofree char *h = in_root(u->home);
	bool covered = false;

	for (size_t i = 0; i < ARRAY_SIZE(hidden_dirs); i++)
		covered |= path_is_under(u->home, hidden_dirs[i]);
	if (!covered && is_real_dir(h) && mount_tmpfs(m, h, "mode=0755", 0) < 0)
		return -1;
	if (!is_real_dir(h)) {
		if (!covered) /* outside every tmpfs: cannot create it on the read-only root */
			return 0;
		if (mkdir_p(h, 0755) < 0)
			return fail(m, "creating the home directory", h);
	}
	if (chown(h, u->uid, u->gid) < 0 || chmod(h, 0700) < 0)
		return fail(m, "setting the owner of", h);
	return decoys_write_home(&cfg->decoys, h, u->uid, u->gid, m->err, m->errlen);
}

/* Where a bind lands may not exist: its parents sit in a fresh tmpfs (a
 * project under $HOME, a temp dir under /tmp).  Create them, as root, 0755. */
static int make_mountpoint(struct mctx *m, const char *dst, bool is_dir)
{
	autofree char *parent = xstrdup(dst);
	char *slash = strrchr(parent, '/');
	struct stat st;

	if (lstat(dst, &st) == 0)
		return 0;
	*slash = '\0';
	if (mkdir_p(parent, 0755) < 0)
		return fail(m, "creating", parent);
	if (is_dir)
		return mkdir(dst, 0755) < 0 ? fail(m, "creating", dst) : 0;
	return make_file(m, dst, 0644);
}

/* Create the missing directories of rel under top, each with the owner and
 * mode of the same directory under like (a layer's upper directory takes
 * the place of the lower one in the merged view). */
static int mkdirs_like(struct mctx *m, const char *top, const char *like, const char *rel)
{
	autofree char *parts = xstrdup(rel);

	for (char *slash = strchr(parts, '/'); slash; slash = strchr(slash + 1, '/')) {
		autofree char *dir = NULL, *model = NULL;
		struct stat st;

		*slash = '\0';
		dir = xasprintf("%s/%s", top, parts);
		model = xasprintf("%s/%s", like, parts);
		*slash = '/';
		if (is_real_dir(dir))
			continue;
		if (stat(model, &st) < 0)
			st = (struct stat){ .st_mode = 0755 };
		if (mkdir(dir, st.st_mode & 07777) < 0 || chown(dir, st.st_uid, st.st_gid) < 0 ||
		    chmod(dir, st.st_mode & 07777) < 0)
			return fail(m, "creating", dir);
	}
	return 0;
}

static int write_owned(struct mctx *m, const char *path, const char *content, uid_t uid, gid_t gid)
{
	autoclose int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || (content && write_all(fd, content, strlen(content)) < 0) ||
	    fchown(fd, uid, gid) < 0)
		return fail(m, "writing the decoy", path);
	return 0;
}

/* The decoys of bind i (src/jail/decoys.c): each file written at its place
 * under top (a layer's upper directory, its directories made like those
 * of like), or, top NULL, bound over the file in the jail. */
static int bind_decoys(struct mctx *m, const struct jail_config *cfg, size_t i, const char *top,
		       const char *like)
{
	const struct jail_bind *b = &cfg->binds[i];
	const struct decoys *d = &cfg->decoys;
	size_t n = d->n + d->n_masked;

	for (size_t k = 0; k < n; k++) {
		const struct decoy *x = k < d->n ? &d->items[k] : NULL;
		const char *path = x ? x->path : d->masked[k - d->n].path;
		const char *content = x ? x->content : NULL;
		const char *rel;

		if ((x ? x->bind : d->masked[k - d->n].bind) != (int)i || !path)
			continue;
		rel = path + strlen(b->path) + (strcmp(b->path, "/") != 0);
		if (top) {
			autofree char *dst = xasprintf("%s/%s", top, rel);

			if (mkdirs_like(m, top, like, rel) < 0 ||
			    write_owned(m, dst, content, cfg->user.uid, cfg->user.gid) < 0)
				return -1;
		} else {
			autofree char *src = xasprintf(BASE "/decoys/%zu", k);
			autofree char *dst = in_root(path);

			if (write_owned(m, src, content, cfg->user.uid, cfg->user.gid) < 0)
				return -1;
			if (mount(src, dst, NULL, MS_BIND, NULL) < 0 && errno != ENOENT)
				return fail(m, "binding a decoy over", dst);
		}
	}
	return 0;
}

/* A directory read-only below a throwaway writable layer: the tree (bind
 * i's detached copy) attached in the scratch space as the lower layer, an
 * upper layer on the layers' tmpfs, which dies with the jail.  The upper
 * directory takes the lower one's owner and mode (it is what the merged
 * view shows for the top). */
static int layer(struct mctx *m, const struct jail_config *cfg, size_t i, const char *dst)
{
	const struct jail_bind *b = &cfg->binds[i];
	autofree char *dir = xasprintf(BASE "/layers/%zu", i);
	autofree char *lower = xasprintf("%s/lower", dir), *upper = xasprintf("%s/upper", dir);
	autofree char *work = xasprintf("%s/work", dir), *opts = NULL;
	struct stat st;

	if (mkdir(dir, 0700) < 0 || mkdir(lower, 0755) < 0 || mkdir(upper, 0755) < 0 ||
	    mkdir(work, 0700) < 0)
		return fail(m, "creating", dir);
	if (syscall(SYS_move_mount, b->fd, "", AT_FDCWD, lower, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return fail(m, "attaching the lower layer of", b->path);
	if (stat(lower, &st) < 0 || chown(upper, st.st_uid, st.st_gid) < 0 ||
	    chmod(upper, st.st_mode & 07777) < 0)
		return fail(m, "preparing the layer over", b->path);
	if (bind_decoys(m, cfg, i, upper, lower) < 0)
		return -1;
	opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,metacopy=off,"
			 "index=off", lower, upper, work);
	if (mount("overlay", dst, "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
		return fail(m, "mounting the throwaway layer over", b->path);
	return 0;
}

static int binds(struct mctx *m, const struct jail_config *cfg)
{
	bool layers = false, decoys = cfg->decoys.n_dir || cfg->decoys.n_masked;

	for (size_t i = 0; i < cfg->n_binds; i++)
		layers |= cfg->binds[i].layer;
	if (layers && (mkdir(BASE "/layers", 0700) < 0 ||
		       mount_tmpfs(m, BASE "/layers", "mode=0700", 0) < 0))
		return fail(m, "preparing the throwaway layers in", BASE "/layers");
	if (decoys && mkdir(BASE "/decoys", 0700) < 0)
		return fail(m, "creating", BASE "/decoys");
	/* Parents before children: shorter paths first. */
	for (size_t len = 1; len < 4096; len++) {
		for (size_t i = 0; i < cfg->n_binds; i++) {
			const struct jail_bind *b = &cfg->binds[i];
			autofree char *dst = NULL;

			if (strlen(b->path) != len)
				continue;
			dst = in_root(b->path);
			if (make_mountpoint(m, dst, b->is_dir) < 0)
				return -1;
			if (b->layer) {
				if (layer(m, cfg, i, dst) < 0)
					return -1;
				continue;
			}
			if (syscall(SYS_move_mount, b->fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
				return fail(m, "attaching", dst);
			if (setattr(dst, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				    (b->writable ? 0 : MOUNT_ATTR_RDONLY),
				    b->writable ? MOUNT_ATTR_RDONLY : 0) < 0)
				return fail(m, "setting mount flags of", dst);
			if (b->is_dir && bind_decoys(m, cfg, i, NULL, NULL) < 0)
				return -1;
		}
	}
	return 0;
}

static int open_layers(struct mctx *m, const struct jail_config *cfg)
{
	m->lower = m->upper = m->work = m->cache = -1;
	if (cfg->stage_target) {
		m->lower = open(cfg->stage_target, O_PATH | O_DIRECTORY | O_CLOEXEC);
		m->upper = open(cfg->stage_upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
		m->work = open(cfg->stage_work, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (m->lower < 0 || m->upper < 0 || m->work < 0)
			return fail(m, "opening the staging layers of", cfg->stage_target);
	}
	if (cfg->pip_cache)
		m->cache = open(cfg->pip_cache, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

static int overlay(struct mctx *m, const char *dst, int lower, const char *upper, const char *work)
{
	/* No metacopy or redirects: every changed file is whole in the upper
	 * layer, which is what the staging check reads and commit moves. */
	autofree char *opts = xasprintf("lowerdir=/proc/self/fd/%d,upperdir=%s,workdir=%s,"
					"redirect_dir=off,metacopy=off,index=off", lower, upper, work);

	if (make_mountpoint(m, dst, true) < 0)
		return -1;
	if (mount("overlay", dst, "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
		return fail(m, "mounting the staging overlay on", dst);
	return 0;
}

/* The target environment: the real one below, the staging dir above. */
static int staged_target(struct mctx *m, const struct jail_config *cfg)
{
	autofree char *dst = NULL, *up = NULL, *wk = NULL;

	if (!cfg->stage_target)
		return 0;
	dst = in_root(cfg->stage_target);
	up = xasprintf("/proc/self/fd/%d", m->upper);
	wk = xasprintf("/proc/self/fd/%d", m->work);
	return overlay(m, dst, m->lower, up, wk);
}

/* The pip cache: read what earlier installs cached, keep nothing written. */
static int pip_cache(struct mctx *m, const struct jail_config *cfg)
{
	autofree char *dst = in_root(JAIL_PIP_CACHE);

	/* Outside the home, whose every tree a build may write: pip alone
	 * writes here (the preload library's layer leaves it out), so no
	 * build can plant a wheel that pip would take from its cache. */
	if (mkdir(dst, 0700) < 0 || chown(dst, cfg->user.uid, cfg->user.gid) < 0)
		return fail(m, "creating the pip cache directory", dst);
	if (m->cache < 0)
		return 0;
	if (mkdir(BASE "/cache", 0700) < 0 || mount_tmpfs(m, BASE "/cache", "mode=0755", 0) < 0 ||
	    mkdir(BASE "/cache/upper", 0755) < 0 || mkdir(BASE "/cache/work", 0755) < 0 ||
	    chown(BASE "/cache/upper", cfg->user.uid, cfg->user.gid) < 0)
		return fail(m, "preparing the pip cache layer in", BASE "/cache");
	return overlay(m, dst, m->cache, BASE "/cache/upper", BASE "/cache/work");
}

/* /run/pipjail: pipjail's own directory in the jail, on the jail's fresh
 * /run: root's, 0755, so the jail's processes (the user) can read but never
 * change what the supervisor writes there before the command starts (the
 * preload library and the anchors of trust, src/run/anchors.c); and pip's
 * temporary directory in it, the user's. */
static int own_dir(struct mctx *m, const struct jail_config *cfg)
{
	autofree char *d = in_root(JAIL_RUN_DIR);
	autofree char *tmp = in_root(JAIL_PIP_TMP);

	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		return fail(m, "creating", d);
	if (mkdir(tmp, 0700) < 0 || chown(tmp, cfg->user.uid, cfg->user.gid) < 0)
		return fail(m, "creating pip's temporary directory", tmp);
	return 0;
}

static void close_layers(struct mctx *m)
{
	closep(&m->lower);
	closep(&m->upper);
	closep(&m->work);
	closep(&m->cache);
}

static int pivot(struct mctx *m)
{
	if (chdir(NEWROOT) < 0)
		return fail(m, "entering", NEWROOT);
	/* pivot_root(".", ".") stacks the old root under the new one; the
	 * lazy unmount then drops it (and the scratch tmpfs) for good. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(m, "pivot_root to", NEWROOT);
	if (umount2(".", MNT_DETACH) < 0)
		return fail(m, "detaching", "the host root");
	if (chdir("/") < 0)
		return fail(m, "entering", "/");
	return 0;
}

int mounts_setup(const struct jail_config *cfg, char *err, size_t errlen)
{
	struct mctx m = { err, errlen, -1, -1, -1, -1 };
	int ret = -1;

	if (open_layers(&m, cfg) < 0)
		goto out;
	if (host_root(&m) < 0 || proc_and_sys(&m) < 0 || dev(&m) < 0 || hide(&m, cfg) < 0 ||
	    home(&m, cfg) < 0 || binds(&m, cfg) < 0 || staged_target(&m, cfg) < 0 ||
	    own_dir(&m, cfg) < 0 || pip_cache(&m, cfg) < 0 || sockview_mount(cfg, NEWROOT, err, errlen) < 0 ||
	    pivot(&m) < 0)
		goto out;
	ret = 0;
out:
	close_layers(&m);
	return ret;
}
