/* /proc/<pid>/net/tcp lists the sockets of that process's net namespace
 * with their inode; /proc/<pid>/fd/N of the holder reads "socket:[inode]".
 * The jail's processes are exactly the members of its cgroup, so the search
 * never looks at a host process.  Connections are few (pip's downloads), so
 * a scan per accept costs nothing that matters. */
#include "observe/sockowner.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static unsigned long inode_of_port(pid_t netns_pid, const char *table, uint16_t port)
{
	char path[64], line[512];
	unsigned long ino = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)netns_pid, table);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!ino && fgets(line, sizeof(line), f)) {
		char local[128];
		unsigned int lport, state;
		unsigned long inode;

		/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*d: %127[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu",
			   local, &lport, &state, &inode) == 4 && lport == port && inode)
			ino = inode;
	}
	fclose(f);
	return ino;
}

static bool pid_holds(const char *pid, unsigned long ino)
{
	char dir[64], want[48];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char link[64];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

int sock_owner(pid_t netns_pid, const char *cgroup_dir, uint16_t port, uint32_t *hpid)
{
	autofree char *procs = xasprintf("%s/cgroup.procs", cgroup_dir);
	unsigned long ino = inode_of_port(netns_pid, "tcp", port);
	char pid[32];
	int ret = -1;
	FILE *f;

	if (!ino)
		ino = inode_of_port(netns_pid, "tcp6", port);
	if (!ino || !(f = fopen(procs, "re")))
		return -1;
	while (ret < 0 && fscanf(f, "%31s", pid) == 1) {
		if (pid_holds(pid, ino)) {
			*hpid = (uint32_t)strtoul(pid, NULL, 10);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}
