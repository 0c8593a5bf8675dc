/* The Landlock system calls and rights, in plain libc: shared by the
 * jail's own layer (landlock.c, applied by init to the command) and the
 * preload library's layer for every process that is not pip
 * (src/preload/preload.c), which runs before that process's own code and
 * so cannot use pipjail's helpers. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail/compat.h"
#include "jail/sandbox.h"

/* Rights that make sense on a file (not a directory) in a path_beneath rule;
 * the kernel refuses directory-only rights on a file. */
#define FS_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
			LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
			LANDLOCK_ACCESS_FS_IOCTL_DEV)

int landlock_abi(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	/* ENOSYS: not built in; EOPNOTSUPP: built in but disabled at boot. */
	return abi < 0 ? 0 : (int)abi;
}

uint64_t landlock_fs_rights(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;   /* ABI 1: bits 0-12 */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

int landlock_create_ruleset(const struct pj_landlock_ruleset_attr *attr, size_t size)
{
	return (int)syscall(__NR_landlock_create_ruleset, attr, size, 0U);
}

int landlock_allow_beneath(int ruleset_fd, const char *path, uint64_t access)
{
	struct pj_landlock_path_beneath_attr rule;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), rc = -1, e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			access &= FS_FILE_RIGHTS;
		memset(&rule, 0, sizeof(rule));
		rule.allowed_access = access;
		rule.parent_fd = fd;
		rc = (int)syscall(__NR_landlock_add_rule, ruleset_fd, PJ_LANDLOCK_RULE_PATH_BENEATH, &rule,
				  0U);
	}
	e = errno;
	close(fd);
	errno = e;
	return rc;
}
