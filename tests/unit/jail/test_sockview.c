/* Pathname unix sockets in the jail's view (jail/sockview.c), as root, in a
 * child with a mount namespace of its own and a tmpfs as the new root:
 *   - with the guard: each tree of the jail's own gets its mirror at
 *     /dev/.uN: its sockets are reached through it, a symlink in it is not
 *     followed (ELOOP), it is read-only, and a mount below the tree is not
 *     in it;
 *   - without: the known socket directories are emptied and a socket in a
 *     read-only bind (the current directory) is covered;
 *   - the table (jail_unix_trees): the tmpfs mounts and --rw binds are the
 *     jail's own with a mirror each, read-only binds and overlays are not,
 *     a host symlink to one of them (/var/run) is an alias. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "jail/jail.h"
#include "../unit.h"
#include "base/base.h"

static char root[] = "/tmp/pipjail-test-sockview-XXXXXX";

static char *at(const char *rel)
{
	return xasprintf("%s%s", root, rel);
}

/* A listening socket at root + rel; -1 on failure. */
static int listen_at(const char *rel, int type)
{
	autofree char *p = at(rel);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", p);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) < 0)) {
		CHECK(0, "bind %s: %s", p, strerror(errno));
		return -1;
	}
	return fd;
}

/* connect to root + rel: 0 or the errno. */
static int connect_at(const char *rel)
{
	autofree char *p = at(rel);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e = 0;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", p);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		e = errno;
	close(fd);
	return e;
}

static void mkdirs(const char *const *rels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		autofree char *p = at(rels[i]);

		CHECK(mkdir_p(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
	}
}

static bool private_root(const char *what, void *arg)
{
	(void)what;
	(void)arg;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", root, "tmpfs", 0, "mode=0755") < 0) {
		CHECK(0, "a mount namespace and a tmpfs at %s: %s", root, strerror(errno));
		return false;
	}
	return true;
}

static void with_guard(void)
{
	static const char *const dirs[] = { "/dev", "/tmp/real", "/srv/rw", "/tmp/sub" };
	struct jail_unix_tree trees[] = {
		{ "/dev", "/dev/.u0", false }, { "/tmp", "/dev/.u1", false },
		{ "/srv/rw", "/dev/.u2", false }, { "/var/run", "/dev/.u1", true },
	};
	struct jail_config cfg = { .unix_guard = true, .unix_trees = trees, .n_unix_trees = 4 };
	autofree char *link = at("/tmp/link"), *sub = at("/tmp/sub"), *f = at("/dev/.u1/new");
	char err[256] = "";
	struct stat st;
	int own, rw;

	mkdirs(dirs, ARRAY_SIZE(dirs));
	own = listen_at("/tmp/real/s", SOCK_STREAM);
	rw = listen_at("/srv/rw/s", SOCK_STREAM);
	CHECK(symlink("real", link) == 0, "symlink: %s", strerror(errno));
	CHECK(mount("tmpfs", sub, "tmpfs", 0, NULL) == 0, "a mount below /tmp: %s", strerror(errno));
	close(open(sub, O_RDONLY));
	{
		autofree char *x = at("/tmp/sub/x");

		close(open(x, O_CREAT | O_WRONLY, 0644));
	}
	CHECK(sockview_mount(&cfg, root, err, sizeof(err)) == 0, "sockview_mount: %s", err);
	CHECK_INT_EQ(connect_at("/dev/.u1/real/s"), 0);
	CHECK_INT_EQ(connect_at("/dev/.u2/s"), 0);
	CHECK_INT_EQ(connect_at("/dev/.u1/link/s"), ELOOP);   /* no symlink followed */
	CHECK_INT_EQ(connect_at("/tmp/link/s"), 0);           /* the tree itself is unchanged */
	CHECK(open(f, O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS, "the mirror is read-only");
	{
		autofree char *x = at("/dev/.u1/sub/x");

		CHECK(stat(x, &st) < 0 && errno == ENOENT, "a mount below the tree is not in its mirror");
	}
	{
		autofree char *alias = at("/dev/.u3");

		CHECK(stat(alias, &st) < 0, "an alias gets no mirror of its own");
	}
	close(own);
	close(rw);
}

static void without_guard(void)
{
	static const char *const dirs[] = { "/dev", "/var/lib/docker", "/work/proj/a/b", "/var/lib/other" };
	struct jail_bind binds[] = { { .path = "/work/proj", .is_dir = true, .fd = -1 } };
	struct jail_config cfg = { .unix_guard = false, .binds = binds, .n_binds = 1 };
	autofree char *null = at("/dev/null"), *docker = at("/var/lib/docker/docker.sock");
	char err[256] = "";
	struct stat st;
	int fds[4];

	mkdirs(dirs, ARRAY_SIZE(dirs));
	close(open(null, O_CREAT | O_WRONLY, 0644));
	fds[0] = listen_at("/var/lib/docker/docker.sock", SOCK_STREAM);
	fds[1] = listen_at("/work/proj/agent.sock", SOCK_STREAM);
	fds[2] = listen_at("/work/proj/a/b/deep.sock", SOCK_STREAM);
	fds[3] = listen_at("/var/lib/other/other.sock", SOCK_STREAM);
	CHECK(sockview_mount(&cfg, root, err, sizeof(err)) == 0, "sockview_mount: %s", err);
	CHECK(stat(docker, &st) < 0 && errno == ENOENT, "a known socket directory is emptied");
	CHECK_INT_EQ(connect_at("/work/proj/agent.sock"), ECONNREFUSED);   /* covered */
	CHECK_INT_EQ(connect_at("/work/proj/a/b/deep.sock"), ECONNREFUSED);
	/* what hiding cannot do: the guard's part */
	CHECK_INT_EQ(connect_at("/var/lib/other/other.sock"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close(fds[i]);
}

static void table(void)
{
	struct jail_bind binds[] = { { .path = "/srv/proj", .is_dir = true, .fd = -1 },
				     { .path = "/srv/out", .writable = true, .is_dir = true, .fd = -1 } };
	struct jail_config cfg = { .binds = binds, .n_binds = 2, .stage_target = "/srv/venv" };
	const struct jail_unix_tree *t;
	struct stat st;

	cfg.user.home = "/home/u";
	jail_unix_trees(&cfg);
	for (size_t i = 0; i < cfg.n_unix_trees; i++) {
		t = &cfg.unix_trees[i];
		CHECK(t->path[0] == '/' && (!t->mirror || !strncmp(t->mirror, "/dev/.u", 7)), "%s -> %s", t->path,
		      t->mirror ? t->mirror : "-");
	}
#define FIND(p) ({ const struct jail_unix_tree *f_ = NULL; \
	for (size_t i_ = 0; i_ < cfg.n_unix_trees; i_++) \
		if (!strcmp(cfg.unix_trees[i_].path, p)) f_ = &cfg.unix_trees[i_]; f_; })
	CHECK((t = FIND("/tmp")) && t->mirror && !t->alias, "/tmp is the jail's own");
	CHECK((t = FIND("/dev")) && t->mirror, "/dev is the jail's own");
	CHECK((t = FIND("/dev/shm")) && t->mirror, "/dev/shm is the jail's own");
	CHECK((t = FIND("/srv/out")) && t->mirror, "a --rw bind is the jail's own");
	CHECK((t = FIND("/srv/proj")) && !t->mirror, "a read-only bind is not");
	CHECK((t = FIND("/srv/venv")) && !t->mirror, "the staged environment is not");
	if (lstat("/var/run", &st) == 0 && S_ISLNK(st.st_mode))
		CHECK((t = FIND("/var/run")) && t->alias && t->mirror && FIND("/run") &&
		      !strcmp(t->mirror, FIND("/run")->mirror), "/var/run (a symlink to /run) is an alias");
	for (size_t i = 0; i < cfg.n_unix_trees; i++)
		for (size_t j = i + 1; j < cfg.n_unix_trees; j++)
			CHECK(strcmp(cfg.unix_trees[i].path, cfg.unix_trees[j].path) != 0, "%s twice",
			      cfg.unix_trees[i].path);
#undef FIND
	jail_unix_trees_free(&cfg);
}

static void run(const char *what, void (*fn)(void))
{
	bool reported;
	int status = unit_in_child(what, private_root, NULL, fn, &reported);

	CHECK(reported && WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the child failed (0x%x)", what,
	      status);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_sockview: SKIPPED (needs root)\n");
		return 0;
	}
	if (!mkdtemp(root))
		die_errno("mkdtemp");
	run("with the guard", with_guard);
	run("without it", without_guard);
	table();
	rmdir(root);
	return unit_summary("test_sockview");
}
