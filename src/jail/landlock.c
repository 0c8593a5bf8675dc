/* Landlock: the second wall behind the mounts and the network namespace.
 *
 * The ruleset handles every access right the running kernel's ABI knows,
 * so anything not granted below is denied:
 *   - "/" : read files, list directories, execute (the mounts decide what
 *     is visible; the host root is read-only there anyway);
 *   - each rw_path: every file-system right (create, remove, rename across
 *     directories (REFER), truncate, device ioctls);
 *   - "/dev": write and device ioctls on the device files the jail mounts
 *     (null, zero, full, random, urandom, tty, the pts entries, ptmx): programs write
 *     to /dev/null and drive their terminal.  No creation or removal there;
 *   - "/dev/shm": full access (POSIX shared memory and semaphores, used by
 *     Python's multiprocessing);
 *   - TCP (ABI >= 4): bind never; connect only to tcp_connect_port;
 *   - scopes (ABI >= 6): abstract unix sockets and signals stay inside the
 *     domain: the command cannot reach a host daemon's abstract socket or
 *     signal a process that is not under the same restriction.
 *
 * ABI 1 cannot allow renames or links across directories at all (no REFER
 * right), which breaks pip's install step (os.replace into site-packages);
 * there Landlock is not used and the mounts remain the only file wall. */
#include "jail/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail/compat.h"
#include "base/base.h"

#define FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
		 LANDLOCK_ACCESS_FS_READ_DIR)

/* Allow `access` beneath path.  A missing path is skipped (returns 0): the
 * caller lists what the jail may have, not what it must have. */
static int allow_path(int ruleset_fd, const char *path, uint64_t access, char *err,
		      size_t errlen)
{
	if (landlock_allow_beneath(ruleset_fd, path, access) == 0)
		return 0;
	if (errno == ENOENT) {
		debugx(2, "landlock: %s does not exist, no rule for it", path);
		return 0;
	}
	snprintf(err, errlen, "landlock: cannot allow access beneath %s: %s", path, strerror(errno));
	return -1;
}

static int add_fs_rules(int ruleset_fd, int abi, const struct landlock_policy *p,
			char *err, size_t errlen)
{
	const uint64_t all = landlock_fs_rights(abi);
	uint64_t dev = FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE;
	unsigned int i;

	if (abi >= 3)
		dev |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		dev |= LANDLOCK_ACCESS_FS_IOCTL_DEV;

	if (allow_path(ruleset_fd, "/", FS_READ, err, errlen) < 0 ||
	    allow_path(ruleset_fd, "/dev", dev, err, errlen) < 0 ||
	    allow_path(ruleset_fd, "/dev/shm", all, err, errlen) < 0)
		return -1;
	for (i = 0; i < p->n_rw; i++) {
		if (!p->rw_paths[i] || p->rw_paths[i][0] != '/') {
			snprintf(err, errlen, "landlock: writable path '%s' is not absolute",
				 p->rw_paths[i] ? p->rw_paths[i] : "(null)");
			return -1;
		}
		if (allow_path(ruleset_fd, p->rw_paths[i], all, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int add_net_rules(int ruleset_fd, const struct landlock_policy *p, char *err,
			 size_t errlen)
{
	struct pj_landlock_net_port_attr rule;

	if (p->tcp_connect_port < 0)
		return 0;
	if (p->tcp_connect_port > 65535) {
		snprintf(err, errlen, "landlock: TCP port %d is out of range", p->tcp_connect_port);
		return -1;
	}
	memset(&rule, 0, sizeof(rule));
	rule.allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP;
	rule.port = (uint64_t)p->tcp_connect_port;
	if (syscall(__NR_landlock_add_rule, ruleset_fd, PJ_LANDLOCK_RULE_NET_PORT, &rule, 0U) < 0) {
		snprintf(err, errlen, "landlock: cannot allow TCP connect to port %d: %s",
			 p->tcp_connect_port, strerror(errno));
		return -1;
	}
	return 0;
}

int landlock_apply(const struct landlock_policy *p, char *err, size_t errlen)
{
	struct pj_landlock_ruleset_attr attr;
	autoclose int ruleset_fd = -1;
	size_t attr_size;
	int abi = landlock_abi();

	if (abi == 0) {
		debugx(1, "landlock: not available in this kernel; mounts and the network "
			  "namespace are the walls");
		return 0;
	}
	if (abi == 1) {
		debugx(1, "landlock: ABI 1 cannot allow cross-directory renames; not used");
		return 0;
	}

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = landlock_fs_rights(abi);
	attr_size = offsetof(struct pj_landlock_ruleset_attr, handled_access_net);
	if (abi >= 4 && !p->net_unrestricted) {
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
					  LANDLOCK_ACCESS_NET_CONNECT_TCP;
		attr_size = offsetof(struct pj_landlock_ruleset_attr, scoped);
	} else if (p->tcp_connect_port >= 0) {
		debugx(1, "landlock: ABI %d has no network rights; the network namespace "
			  "alone limits TCP", abi);
	}
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}

	ruleset_fd = (int)landlock_create_ruleset(&attr, attr_size);
	if (ruleset_fd < 0) {
		snprintf(err, errlen, "landlock: cannot create a ruleset (ABI %d): %s", abi,
			 strerror(errno));
		return -1;
	}
	if (add_fs_rules(ruleset_fd, abi, p, err, errlen) < 0)
		return -1;
	if (abi >= 4 && !p->net_unrestricted && add_net_rules(ruleset_fd, p, err, errlen) < 0)
		return -1;

	/* Required by landlock_restrict_self() without CAP_SYS_ADMIN; the jail
	 * sets it already, and setting it twice is harmless. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "landlock: cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (syscall(__NR_landlock_restrict_self, ruleset_fd, 0U) < 0) {
		snprintf(err, errlen, "landlock: cannot restrict the process: %s", strerror(errno));
		return -1;
	}
	debugx(1, "landlock: ABI %d applied (%u writable trees, TCP connect %s)", abi, p->n_rw,
	       abi < 4 ? "not limited by landlock" :
	       p->tcp_connect_port >= 0 ? "to one port" : "refused");
	return abi;
}
