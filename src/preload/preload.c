/* The jail's preload library: the first wall of the environment guard.
 *
 * pipjail puts LD_PRELOAD=/run/pipjail/preload.so into the command's
 * environment.  The dynamic loader runs this library's constructor in the
 * new process before any of the program's own code (before Python reads a
 * single .pth), in the jail, as the user, after no_new_privs was set.  The
 * constructor decides whether the process is pip, by the same rule and the
 * same anchors as the kernel (src/pip/anchor.c; the anchors are written by
 * the supervisor into /run/pipjail/anchors, a root-owned directory of a
 * tmpfs that only the jail's init could write, before the command starts):
 *   - the jailed command itself (init marks it PIPJAIL_TOP, which the
 *     constructor takes out of the environment at once) and pip's own
 *     execs stay as they are;
 *   - every other process gets a Landlock layer that refuses every write
 *     outside the trees a build may write (the anchors' "rw" lines: the
 *     jail's /tmp, /var/tmp, /dev/shm, the decoy home, --rw binds), so the
 *     target environment, pip's cache and anything pip trusts later stay
 *     out of its reach, whatever name it uses.  The layer is inherited by
 *     every descendant and cannot be removed, so the process then takes
 *     this library out of its environment: its children need not load it.
 * Why nothing here can be forged by package code: package code runs only
 * after the constructor, and only in processes that are not pip; those are
 * already restricted when it runs, and can neither loosen their layer nor
 * write the anchors.  A process that never loads this library (a static
 * binary started by pip) meets the kernel's second wall instead
 * (bpf/helpers/rules.bpf.h, rule_env_write).
 *
 * Plain libc only: this runs inside every program pip starts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail/jail.h"
#include "pip/pip.h"

#define ANCHORS "/run/pipjail/anchors"
#define SELF    "/run/pipjail/preload.so"

/* Writable trees when the anchors cannot be read: the jail's own scratch
 * space only.  Failing closed costs a build its home; failing open would
 * give it the environment. */
static const char *const fallback_rw[] = { "/tmp", "/var/tmp", "/dev/shm" };

static char text[64 << 10];
static struct pip_anchors anchors;

static int read_anchors(void)
{
	int fd = open(ANCHORS, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	if (n < 0 || (size_t)n == sizeof(text) - 1)
		return -1;
	text[n] = '\0';
	return pip_anchors_parse(text, &anchors);
}

/* The layer: every write right the kernel knows is handled; granted only
 * beneath rw.  0, or -1 (no Landlock, or it failed). */
static int restrict_writes(const char *const *rw, size_t n)
{
	struct pj_landlock_ruleset_attr attr = { 0 };
	int abi = landlock_abi(), fd, rc;
	uint64_t write = 0;

	if (abi < 2)   /* ABI 1 cannot allow renames across directories at all */
		return -1;
	write = landlock_fs_rights(abi) & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
					   LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_IOCTL_DEV);
	attr.handled_access_fs = write;
	fd = landlock_create_ruleset(&attr, offsetof(struct pj_landlock_ruleset_attr,
						    handled_access_net));
	if (fd < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		landlock_allow_beneath(fd, rw[i], write);   /* a missing tree: no rule */
	/* /dev's nodes (null, tty, ...) are written by everything; creating or
	 * removing there is still refused. */
	landlock_allow_beneath(fd, "/dev", LANDLOCK_ACCESS_FS_WRITE_FILE |
				   (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0));
	rc = (int)syscall(__NR_landlock_restrict_self, fd, 0U);
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* Take SELF out of LD_PRELOAD (pipjail sets it to SELF alone). */
static void forget_self(void)
{
	const char *v = getenv("LD_PRELOAD");

	if (v && !strcmp(v, SELF))
		unsetenv("LD_PRELOAD");
}

__attribute__((constructor)) static void pipjail_preload(int argc, char **argv, char **envp)
{
	struct stat exe;
	bool have;

	(void)argc;
	(void)envp;
	if (getenv("PIPJAIL_TOP")) {
		unsetenv("PIPJAIL_TOP");
		return;
	}
	have = read_anchors() == 0;
	if (have && stat("/proc/self/exe", &exe) == 0 &&
	    pip_exec_is_pip(&anchors, exe.st_dev, exe.st_ino, argv))
		return;
	if (have && anchors.n_rw)
		restrict_writes(anchors.rw, anchors.n_rw);
	else
		restrict_writes(fallback_rw, sizeof(fallback_rw) / sizeof(fallback_rw[0]));
	forget_self();
}
