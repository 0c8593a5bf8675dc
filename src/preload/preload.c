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
 *     jail's /tmp, /var/tmp, /dev/shm, the decoy home, --rw binds; and in
 *     pip's own temporary directory only the process's own build tree (its
 *     current directory there) and, for a PEP 517 hook, the directories
 *     pip told it to write its results into), so the target environment,
 *     pip's cache, pip's build environments, downloads and other packages'
 *     trees, anything pip trusts later, stay out of its reach, whatever
 *     name it uses; its TMPDIR becomes /tmp.  The layer is inherited by
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

/* The writable trees of this process's layer: the anchors' and its own. */
#define MAX_RW (PIP_ANCHOR_RW + 8)
static const char *rw[MAX_RW];
static size_t n_rw;
static char own[6][4096];
static size_t n_own;

static bool in_pip_tmp(const char *p)
{
	size_t n = strlen(JAIL_PIP_TMP);

	return !strncmp(p, JAIL_PIP_TMP, n) && p[n] == '/' && !strstr(p + n, "/..");
}

/* A tree of pip's temporary directory that this process may write. */
static void grant_own(const char *path, size_t len)
{
	if (n_own >= 6 || len == 0 || len >= sizeof(own[0]))
		return;
	memcpy(own[n_own], path, len);
	own[n_own][len] = '\0';
	if (in_pip_tmp(own[n_own]) && n_rw < MAX_RW)
		rw[n_rw++] = own[n_own++];
}

/* The output directories pip names in a PEP 517 hook's input.json (plain
 * JSON strings; one with an escape is left out: no grant, fail closed). */
static void grant_hook_outputs(const char *control_dir)
{
	static const char *const keys[] = {
		"\"metadata_directory\"", "\"wheel_directory\"", "\"sdist_directory\"",
	};
	static char json[16 << 10];
	char path[4096 + 16];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/input.json", control_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	n = read(fd, json, sizeof(json) - 1);
	close(fd);
	if (n <= 0)
		return;
	json[n] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *k = strstr(json, keys[i]), *v, *end;

		if (!k || !(v = strchr(k + strlen(keys[i]), '"')))
			continue;
		v++;
		end = strchr(v, '"');
		if (end && !memchr(v, '\\', (size_t)(end - v)))
			grant_own(v, (size_t)(end - v));
	}
}

/* What this process may write in pip's temporary directory: its current
 * directory there (a build's own unpacked tree), and for pip's PEP 517 hook
 * runner (`python .../_in_process.py HOOK CONTROL_DIR`) its control
 * directory and the output directories of input.json.  These grants only
 * ever matter for a process pip started itself: any other one already
 * carries its parent's layer, which no later layer can widen. */
static void grant_build_trees(char **argv)
{
	char cwd[4096];
	size_t n;

	if (getcwd(cwd, sizeof(cwd)))
		grant_own(cwd, strlen(cwd));
	if (!argv || !argv[0] || !argv[1] || !argv[2] || !argv[3])
		return;
	n = strlen(argv[1]);
	if (n < 14 || strcmp(argv[1] + n - 14, "_in_process.py"))
		return;
	grant_own(argv[3], strlen(argv[3]));
	if (in_pip_tmp(argv[3]))
		grant_hook_outputs(argv[3]);
}

/* PEP 517 builds must hand pip a wheel (PIP_USE_PEP517=1, see
 * src/jail/init.c); setuptools' backend needs the `wheel` package for it.
 * When the environment has none, the supervisor names Debian's wheel
 * wheel (a zip Python imports from; why it is trusted: src/run/anchors.c,
 * add_build_wheel) in the anchors, and the hook runner finds it after
 * whatever PYTHONPATH pip gave it (the user's, or an isolated build
 * environment's, which then still wins).  Only the hook runner: pip itself
 * must not see it (it would take `wheel` for installed), nor the import
 * check (it would import this wheel instead of the one installed). */
static void build_pythonpath(char **argv)
{
	static char buf[16384];
	const char *old = getenv("PYTHONPATH");
	size_t n;
	int len;

	if (!anchors.build_path || !argv || !argv[0] || !argv[1])
		return;
	n = strlen(argv[1]);
	if (n < 14 || strcmp(argv[1] + n - 14, "_in_process.py"))
		return;
	if (old && *old)
		len = snprintf(buf, sizeof(buf), "%s:%s", old, anchors.build_path);
	else
		len = snprintf(buf, sizeof(buf), "%s", anchors.build_path);
	if (len > 0 && (size_t)len < sizeof(buf))
		setenv("PYTHONPATH", buf, 1);
}

/* Temporary files of a process that is not pip go to the jail's /tmp. */
static void own_tmpdir(void)
{
	setenv("TMPDIR", "/tmp", 1);
	setenv("TMP", "/tmp", 1);
	setenv("TEMP", "/tmp", 1);
}

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
	if (have && anchors.n_rw) {
		for (size_t i = 0; i < anchors.n_rw && n_rw < MAX_RW; i++)
			rw[n_rw++] = anchors.rw[i];
	} else {
		for (size_t i = 0; i < sizeof(fallback_rw) / sizeof(fallback_rw[0]); i++)
			rw[n_rw++] = fallback_rw[i];
	}
	grant_build_trees(argv);
	restrict_writes(rw, n_rw);
	own_tmpdir();
	if (have)
		build_pythonpath(argv);
	forget_self();
}
