/* Files and directories: removing a tree without following a symlink,
 * replacing a file atomically. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

static int rmtree_depth(int dirfd, const char *name, int depth)
{
	autoclose int fd = -1;
	struct stat st;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	if (depth > 4096) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* overlayfs leaves work/work with mode 0: make it readable. */
		if (errno != EACCES || fchmodat(dirfd, name, 0700, 0) < 0)
			return -1;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -1;
	}
	d = fdopendir(dup(fd));
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rmtree_depth(fd, de->d_name, depth + 1) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	if (ret == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

int rmtree_at(int dirfd, const char *name)
{
	return rmtree_depth(dirfd, name, 0);
}

int write_atomic_at(int dirfd, const char *name, const void *buf, size_t len)
{
	autofree char *tmp = xasprintf(".%s.tmp.%d", name, (int)getpid());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	int err;

	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = err;
		return -1;
	}
	if (close(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		err = errno;
		unlinkat(dirfd, tmp, 0);
		errno = err;
		return -1;
	}
	return fsync(dirfd);
}
