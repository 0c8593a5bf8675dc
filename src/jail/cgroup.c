#include "jail/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "base/base.h"

#define CG_PREFIX "pipjail."

static bool is_fs(const char *path, unsigned long magic)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == magic;
}

const char *cgroup_v2_root(void)
{
	if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
		return "/sys/fs/cgroup";
	if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
		return "/sys/fs/cgroup/unified";
	return NULL;
}

/* Is controller enabled for children of the v2 root? */
static bool v2_has_controller(const char *root, const char *name)
{
	autofree char *path = xasprintf("%s/cgroup.subtree_control", root);
	char buf[512] = "";
	autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || (n = read_all(fd, buf, sizeof(buf) - 1)) <= 0)
		return false;
	buf[n] = '\0';
	for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, name) == 0)
			return true;
	return false;
}

static char *v1_dir(const char *controller, const char *name)
{
	autofree char *root = xasprintf("/sys/fs/cgroup/%s", controller);

	if (!is_fs(root, CGROUP_SUPER_MAGIC))
		return NULL;
	return xasprintf("%s/%s", root, name);
}

static int set_knob(const char *dir, const char *knob, unsigned long long v,
		    char *err, size_t errlen)
{
	autofree char *path = xasprintf("%s/%s", dir, knob);
	char val[32];

	snprintf(val, sizeof(val), "%llu", v);
	if (write_file(path, val) < 0) {
		snprintf(err, errlen, "setting %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_dir(char **slot, char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) < 0) {
		snprintf(err, errlen, "creating cgroup %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	*slot = path;
	return 0;
}

static int create_v2(struct jail_cgroup *cg, const char *root, const char *name,
		     char *err, size_t errlen)
{
	struct stat st;

	if (make_dir(&cg->v2_path, xasprintf("%s/%s", root, name), err, errlen) < 0)
		return -1;
	cg->v2_fd = open(cg->v2_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->v2_fd < 0 || fstat(cg->v2_fd, &st) < 0) {
		snprintf(err, errlen, "opening cgroup %s: %s", cg->v2_path, strerror(errno));
		return -1;
	}
	/* On cgroup v2 the id bpf_get_current_cgroup_id() returns is the
	 * directory's inode number. */
	cg->id = st.st_ino;
	return 0;
}

static int create_limits(struct jail_cgroup *cg, const char *root, const char *name,
			 unsigned long long max_procs, unsigned long long mem_mb,
			 char *err, size_t errlen)
{
	unsigned long long mem = mem_mb * 1024 * 1024;

	if (v2_has_controller(root, "pids"))
		cg->pids_path = xstrdup(cg->v2_path);
	else if ((cg->pids_path = v1_dir("pids", name)) && mkdir(cg->pids_path, 0755) < 0) {
		snprintf(err, errlen, "creating cgroup %s: %s", cg->pids_path, strerror(errno));
		free(cg->pids_path);
		cg->pids_path = NULL;
		return -1;
	}
	if (cg->pids_path && set_knob(cg->pids_path, "pids.max", max_procs, err, errlen) < 0)
		return -1;

	if (v2_has_controller(root, "memory")) {
		cg->mem_path = xstrdup(cg->v2_path);
		return set_knob(cg->mem_path, "memory.max", mem, err, errlen);
	}
	if ((cg->mem_path = v1_dir("memory", name))) {
		cg->mem_v1 = true;
		if (mkdir(cg->mem_path, 0755) < 0) {
			snprintf(err, errlen, "creating cgroup %s: %s", cg->mem_path, strerror(errno));
			free(cg->mem_path);
			cg->mem_path = NULL;
			return -1;
		}
		return set_knob(cg->mem_path, "memory.limit_in_bytes", mem, err, errlen);
	}
	return 0;
}

int cgroup_create(struct jail_cgroup *cg, unsigned long long max_procs,
		  unsigned long long mem_mb, char *err, size_t errlen)
{
	const char *root = cgroup_v2_root();
	char rnd[9], name[64];

	memset(cg, 0, sizeof(*cg));
	cg->v2_fd = -1;
	if (!root) {
		snprintf(err, errlen, "no cgroup v2 hierarchy is mounted (at /sys/fs/cgroup or "
			 "/sys/fs/cgroup/unified): pipjail needs one to scope its monitor");
		return -1;
	}
	random_hex(rnd, 8);
	snprintf(name, sizeof(name), CG_PREFIX "%d.%s", (int)getpid(), rnd);
	if (create_v2(cg, root, name, err, errlen) < 0 ||
	    create_limits(cg, root, name, max_procs, mem_mb, err, errlen) < 0) {
		cgroup_destroy(cg);
		return -1;
	}
	return 0;
}

static int attach(const char *dir, pid_t pid, char *err, size_t errlen)
{
	autofree char *path = xasprintf("%s/cgroup.procs", dir);
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	if (write_file(path, val) < 0) {
		snprintf(err, errlen, "moving the jail into %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int cgroup_attach_v1(const struct jail_cgroup *cg, pid_t pid, char *err, size_t errlen)
{
	if (cg->pids_path && strcmp(cg->pids_path, cg->v2_path) != 0 &&
	    attach(cg->pids_path, pid, err, errlen) < 0)
		return -1;
	if (cg->mem_v1 && attach(cg->mem_path, pid, err, errlen) < 0)
		return -1;
	return 0;
}

unsigned long long cgroup_pids_max_hits(const struct jail_cgroup *cg)
{
	autofree char *path = NULL;
	char buf[128] = "";
	unsigned long long n = 0;
	ssize_t got;
	int fd;

	if (!cg->pids_path)
		return 0;
	path = xasprintf("%s/pids.events", cg->pids_path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	got = read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got > 0)
		sscanf(buf, "max %llu", &n);
	return n;
}

/* rmdir fails with EBUSY while exiting tasks still count as members. */
static void remove_dir(char **path)
{
	struct timespec pause = { 0, 2 * 1000 * 1000 };

	if (!*path)
		return;
	for (int i = 0; i < 500; i++) {
		if (rmdir(*path) == 0 || errno == ENOENT)
			break;
		if (errno != EBUSY) {
			warn_errno("removing cgroup %s", *path);
			break;
		}
		nanosleep(&pause, NULL);
	}
	free(*path);
	*path = NULL;
}

void cgroup_destroy(struct jail_cgroup *cg)
{
	if (cg->v2_fd >= 0)
		close(cg->v2_fd);
	cg->v2_fd = -1;
	if (cg->pids_path && cg->v2_path && strcmp(cg->pids_path, cg->v2_path) == 0) {
		free(cg->pids_path);
		cg->pids_path = NULL;
	}
	if (cg->mem_path && !cg->mem_v1) {
		free(cg->mem_path);
		cg->mem_path = NULL;
	}
	remove_dir(&cg->pids_path);
	remove_dir(&cg->mem_path);
	remove_dir(&cg->v2_path);
}

static void reap_in(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int pid;
		char proc[64];

		if (strncmp(e->d_name, CG_PREFIX, strlen(CG_PREFIX)) != 0 ||
		    sscanf(e->d_name + strlen(CG_PREFIX), "%d.", &pid) != 1)
			continue;
		snprintf(proc, sizeof(proc), "/proc/%d", pid);
		if (access(proc, F_OK) == 0)
			continue; /* its pipjail still runs */
		/* Empty ones go; ones with tasks fail with EBUSY and stay. */
		if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0)
			debugx(1, "removed stale cgroup %s/%s", root, e->d_name);
	}
	closedir(d);
}

void cgroup_reap_stale(void)
{
	const char *root = cgroup_v2_root();

	if (root)
		reap_in(root);
	reap_in("/sys/fs/cgroup/pids");
	reap_in("/sys/fs/cgroup/memory");
}
