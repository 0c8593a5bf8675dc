/* pipjail recover [--rollback] [TARGET|STAGE_DIR]: finish (or undo) a commit
 * that a crash, a kill or a power cut interrupted, and remove stages that
 * runs left behind.  Stages live next to their target
 * (<parent>/.pipjail-stage.<name>.<random>) or in /var/tmp/pipjail-stage.*. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "stage/stage.h"
#include "base/base.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pipjail recover [--rollback] [TARGET | STAGE_DIR]\n"
		"\n"
		"Finish a staged install whose commit was interrupted (Ctrl-C, kill, power cut),\n"
		"and remove stages left by runs that ended without committing.  TARGET is the\n"
		"environment (a venv root or a --target/--prefix directory); without it, the\n"
		"environment in $VIRTUAL_ENV and the stages in /var/tmp are looked at.\n"
		"\n"
		"  --rollback   undo an interrupted commit instead: the environment as it was\n"
		"               before the install\n");
}

/* The target a stage was made for, from its meta file; NULL if unreadable. */
static char *stage_meta_target(const char *dir)
{
	autofree char *path = xasprintf("%s/meta", dir);
	autoclose int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[PATH_MAX * 3 + 64], *line, *save = NULL;
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read_all(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "target ", 7) == 0)
			return path_unescape(line + 7);
	return NULL;
}

static int recover_one(const char *dir, bool rollback, int *failures)
{
	char err[1024] = "";
	int r = stage_recover_dir(dir, rollback, stdout, err, sizeof(err));

	if (r < 0) {
		warnx_("recover %s: %s", dir, err);
		(*failures)++;
	}
	return r;
}

/* Recover every stage in dir whose name starts with prefix and, when
 * target is set, that belongs to target. */
static int scan_dir(const char *dir, const char *prefix, const char *target, bool rollback,
		    int *failures)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		autofree char *path = NULL, *t = NULL;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		path = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", de->d_name);
		t = stage_meta_target(path);
		if (target && (!t || strcmp(t, target) != 0))
			continue;
		found++;
		recover_one(path, rollback, failures);
	}
	closedir(d);
	return found;
}

static int recover_target(const char *arg, bool rollback, int *failures)
{
	autofree char *target = realpath(arg, NULL);
	autofree char *parent = NULL, *prefix = NULL;
	const char *base;
	int found = 0;

	if (!target) {
		warn_errno("recover: %s", arg);
		(*failures)++;
		return 0;
	}
	base = strrchr(target, '/') + 1;
	/* A stage directory named directly. */
	if (strncmp(base, ".pipjail-stage.", 15) == 0 || strncmp(base, "pipjail-stage.", 14) == 0) {
		recover_one(target, rollback, failures);
		return 1;
	}
	parent = base - 1 == target ? xstrdup("/") : xasprintf("%.*s", (int)(base - 1 - target), target);
	prefix = xasprintf(".pipjail-stage.%s.", base);
	found += scan_dir(parent, prefix, target, rollback, failures);
	found += scan_dir("/var/tmp", "pipjail-stage.", target, rollback, failures);
	return found;
}

int cmd_recover(int argc, char **argv)
{
	bool rollback = false;
	const char *target = NULL;
	int failures = 0, found = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--rollback")) {
			rollback = true;
		} else if (argv[i][0] == '-' || target) {
			usage(stderr);
			return EXIT_PIPJAIL_ERROR;
		} else {
			target = argv[i];
		}
	}
	if (target) {
		found = recover_target(target, rollback, &failures);
	} else {
		const char *venv = getenv("VIRTUAL_ENV");

		if (venv && venv[0] == '/')
			found += recover_target(venv, rollback, &failures);
		found += scan_dir("/var/tmp", "pipjail-stage.", NULL, rollback, &failures);
	}
	if (!found && !failures)
		printf("nothing to recover%s%s\n", target ? " for " : "", target ? target : "");
	return failures ? EXIT_PIPJAIL_ERROR : 0;
}
