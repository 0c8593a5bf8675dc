/* The stage fixtures of the unit tests (tests/unit/stage/test_stage.c,
 * tests/unit/run/test_install.c): a fake venv under a temporary root, what
 * pip writes into it (a wheel with a RECORD of real hashes, an uninstall, a
 * legacy `setup.py install`), the stage over it as a real overlayfs (run
 * as root), and snapshots of whole trees to compare.  Include it once, in
 * the test's .c file, after its system headers; call fixture_start() first
 * and fixture_end() last. */
#ifndef PIPJAIL_STAGE_FIXTURE_H
#define PIPJAIL_STAGE_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/base.h"
#include "pip/pip.h"
#include "stage/stage.h"

/* Every fixture is static; a test that does not use one is not warned. */
#define FIXTURE static __attribute__((unused))

#define SP "lib/python3.11/site-packages"

static char root[] = "/tmp/test-stage-XXXXXX";
static char venv[256], merged[256];
static struct jail_user me;

struct tfile {
	const char *path;     /* relative to site-packages ("../../../bin/x" for scripts) */
	const char *content;
	mode_t mode;
};

FIXTURE void writef(const char *path, const char *content, mode_t mode)
{
	autofree char *dir = xstrdup(path);
	int fd;

	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0)
		die_errno("mkdir_p %s", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode ? mode : 0644);
	if (fd < 0 || write_all(fd, content, strlen(content)) < 0)
		die_errno("write %s", path);
	if (mode)
		fchmod(fd, mode);
	close(fd);
}

FIXTURE char *record_line(const char *rel, const char *content)
{
	uint8_t d[32];
	char b64[64];

	sha256(content, strlen(content), d);
	b64url_encode(d, 32, b64);
	return xasprintf("%s,sha256=%s,%zu\n", rel, b64, strlen(content));
}

/* Install a wheel-like distribution into base (a venv root, real or merged)
 * as pip does: its files, then dist-info with INSTALLER, REQUESTED and a
 * RECORD listing every file with its hash.  extra_record: more RECORD rows. */
FIXTURE void install(const char *base, const char *name, const char *version,
		     const struct tfile *files, size_t n, const char *extra_record)
{
	autofree char *di = xasprintf("%s-%s.dist-info", name, version);
	autofree char *meta = xasprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version);
	const char *wheel = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
	char *rec = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		autofree char *p = xasprintf("%s/%s/%s", base, SP, files[i].path);
		autofree char *line = record_line(files[i].path, files[i].content);
		char *t;

		writef(p, files[i].content, files[i].mode);
		t = xasprintf("%s%s", rec, line);
		free(rec);
		rec = t;
	}
	{
		autofree char *p1 = xasprintf("%s/%s/%s/METADATA", base, SP, di);
		autofree char *p2 = xasprintf("%s/%s/%s/WHEEL", base, SP, di);
		autofree char *p3 = xasprintf("%s/%s/%s/INSTALLER", base, SP, di);
		autofree char *p4 = xasprintf("%s/%s/%s/REQUESTED", base, SP, di);
		autofree char *p5 = xasprintf("%s/%s/%s/RECORD", base, SP, di);
		autofree char *m1 = xasprintf("%s/METADATA", di), *m2 = xasprintf("%s/WHEEL", di);
		autofree char *m3 = xasprintf("%s/INSTALLER", di);
		autofree char *l1 = record_line(m1, meta), *l2 = record_line(m2, wheel);
		autofree char *l3 = record_line(m3, "pip\n");
		autofree char *all = xasprintf("%s%s%s%s%s%s/REQUESTED,,\n%s/RECORD,,\n", rec, l1, l2, l3,
					       extra_record ? extra_record : "", di, di);

		writef(p1, meta, 0);
		writef(p2, wheel, 0);
		writef(p3, "pip\n", 0);
		writef(p4, "", 0);
		writef(p5, all, 0);
	}
	free(rec);
}

/* pip uninstall: remove each RECORD file, then empty directories, then dist-info. */
FIXTURE void uninstall(const char *base, const char *name, const char *version)
{
	autofree char *di = xasprintf("%s/%s/%s-%s.dist-info", base, SP, name, version);
	autofree char *site = xasprintf("%s/%s", base, SP);
	struct record r;
	char err[256];
	int dfd = open(site, O_RDONLY | O_DIRECTORY);
	autofree char *rec = xasprintf("%s-%s.dist-info/RECORD", name, version);

	if (dfd < 0 || record_read_at(dfd, rec, &r, err, sizeof(err)) < 0)
		die("uninstall %s: %s", name, err);
	for (size_t i = 0; i < r.n; i++) {
		autofree char *p = xasprintf("%s/%s", site, r.e[i].path);
		char *slash;

		unlink(p);
		/* empty parents, up to site-packages */
		while ((slash = strrchr(p, '/')) && strlen(p) > strlen(site)) {
			*slash = '\0';
			if (strcmp(p, site) == 0 || rmdir(p) < 0)
				break;
		}
	}
	record_free(&r);
	close(dfd);
	rmtree_at(AT_FDCWD, di);
}

/* A line per entry: path, type, mode, owner, size, sha256 or link target,
 * and any overlay xattr (which must never reach the real tree). */
FIXTURE void snap_walk(int dfd, const char *rel, char **out, size_t *len, size_t *cap)
{
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (!d)
		die_errno("snapshot %s", rel);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];

				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++) {
		autofree char *p = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		autofree char *pp = xasprintf("/proc/self/fd/%d/%s", dfd, names[i]);
		char what[600] = "", line[4096], xl[1024] = "";
		struct stat st;
		ssize_t xn;

		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("stat %s", p);
		if (S_ISREG(st.st_mode)) {
			int fd = openat(dfd, names[i], O_RDONLY);
			uint8_t dg[32];
			char b[64];

			if (fd < 0 || sha256_fd(fd, dg, NULL) < 0)
				die_errno("hash %s", p);
			close(fd);
			b64url_encode(dg, 32, b);
			snprintf(what, sizeof(what), "%lld %s", (long long)st.st_size, b);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlinkat(dfd, names[i], what, sizeof(what) - 1);

			what[k > 0 ? k : 0] = '\0';
		} else if (S_ISCHR(st.st_mode)) {
			snprintf(what, sizeof(what), "chr %u", (unsigned)st.st_rdev);
		}
		xn = llistxattr(pp, xl, sizeof(xl) - 1);
		xl[xn > 0 ? xn : 0] = '\0';
		for (ssize_t k = 0; k < xn - 1; k++)
			if (xl[k] == '\0')
				xl[k] = ',';
		snprintf(line, sizeof(line), "%s %o %u:%u %s [%s]\n", p, st.st_mode, st.st_uid, st.st_gid,
			 what, xl);
		while (*len + strlen(line) + 1 > *cap) {
			*cap = *cap ? 2 * *cap : 4096;
			*out = xrealloc(*out, *cap);
		}
		memcpy(*out + *len, line, strlen(line) + 1);
		*len += strlen(line);
		if (S_ISDIR(st.st_mode)) {
			int c = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

			if (c < 0)
				die_errno("open %s", p);
			snap_walk(c, p, out, len, cap);
			close(c);
		}
		free(names[i]);
	}
	free(names);
}

FIXTURE char *snapshot(const char *dir)
{
	char *out = xstrdup("");
	size_t len = 0, cap = 1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		die_errno("open %s", dir);
	snap_walk(fd, "", &out, &len, &cap);
	close(fd);
	return out;
}

/* Leftover stage directories next to the venv or in /var/tmp for it. */
FIXTURE int count_stages(void)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, ".pipjail-stage.", 15) == 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

/* A fresh venv with alpha 1.0 and a console script, and helper 'shared'. */
FIXTURE const struct tfile alpha1[] = {
	{ "alpha/__init__.py", "VERSION = '1.0'\n", 0 },
	{ "alpha/core.py", "def f():\n    return 1\n", 0 },
	{ "alpha/old.py", "# gone in 2.0\n", 0 },
	{ "alpha/__pycache__/core.cpython-311.pyc", "pyc-core-1\n", 0 },
	{ "alpha/data/table.txt", "a table\n", 0 },
	{ "../../../bin/alpha", "#!/venv/bin/python\nimport alpha\n", 0755 },
};

FIXTURE void fresh_venv(void)
{
	autofree char *bin = xasprintf("%s/bin/python", venv);
	autofree char *cfg = xasprintf("%s/pyvenv.cfg", venv);

	rmtree_at(AT_FDCWD, venv);
	rmtree_at(AT_FDCWD, merged);
	if (mkdir(venv, 0755) < 0 || mkdir(merged, 0755) < 0)
		die_errno("mkdir %s", venv);
	writef(cfg, "home = /usr/bin\n", 0);
	writef(bin, "#!/bin/sh\n", 0755);
	install(venv, "alpha", "1.0", alpha1, ARRAY_SIZE(alpha1), NULL);
}

/* The stage of venv, mounted as the overlay merged/ the way the jail
 * mounts it; stage_down() unmounts it (the jail's end). */
FIXTURE struct stage *stage_up(void)
{
	struct stage *s = NULL;
	char err[512];
	autofree char *opts = NULL;

	if (stage_prepare(&s, venv, &me, err, sizeof(err)) < 0)
		die("stage_prepare: %s", err);
	opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,metacopy=off,index=off",
			 venv, stage_upper(s), stage_work(s));
	if (mount("overlay", merged, "overlay", 0, opts) < 0)
		die_errno("mount overlay (%s)", opts);
	return s;
}

FIXTURE void stage_down(void)
{
	if (umount2(merged, 0) < 0)
		die_errno("umount %s", merged);
}

/* A legacy `setup.py install` as pip 23.0 runs it (no `wheel`): the files,
 * then <egg>/ with setuptools' metadata, then pip's installed-files.txt
 * listing every file relative to <egg>/ (and the egg-info's own files,
 * never itself).  pkginfo: write a PKG-INFO naming the project; extra:
 * more lines for installed-files.txt. */
FIXTURE void legacy_install(const char *base, const char *egg, const char *pkginfo,
			    const struct tfile *files, size_t n, const char *extra)
{
	static const char *const meta[] = { "SOURCES.txt", "top_level.txt", "dependency_links.txt" };
	char *list = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		autofree char *p = xasprintf("%s/%s/%s", base, SP, files[i].path);
		char *t = xasprintf("%s../%s\n", list, files[i].path);

		writef(p, files[i].content, files[i].mode);
		free(list);
		list = t;
	}
	for (size_t i = 0; i < ARRAY_SIZE(meta) + 1; i++) {
		const char *name = i < ARRAY_SIZE(meta) ? meta[i] : "PKG-INFO";
		autofree char *p = xasprintf("%s/%s/%s/%s", base, SP, egg, name);
		char *t;

		if (i == ARRAY_SIZE(meta) && !pkginfo)
			break;
		writef(p, i == ARRAY_SIZE(meta) ? pkginfo : "x\n", 0);
		t = xasprintf("%s%s\n", list, name);
		free(list);
		list = t;
	}
	{
		autofree char *p = xasprintf("%s/%s/%s/installed-files.txt", base, SP, egg);
		autofree char *all = xasprintf("%s%s", list, extra ? extra : "");

		writef(p, all, 0);
	}
	free(list);
}

FIXTURE const struct tfile legacy1[] = {
	{ "legacy_demo.py", "def hello():\n    return 'hi'\n", 0 },
	{ "legacy_pkg/__init__.py", "", 0 },
	{ "legacy_pkg/__pycache__/__init__.cpython-311.pyc", "pyc\n", 0 },
	{ "../../../bin/legacy-tool", "#!/venv/bin/python\nimport legacy_demo\n", 0755 },
};

/* The temporary root with venv/ and merged/; stages are made as root. */
FIXTURE void fixture_start(void)
{
	if (!mkdtemp(root))
		die_errno("mkdtemp");
	snprintf(venv, sizeof(venv), "%s/venv", root);
	snprintf(merged, sizeof(merged), "%s/merged", root);
	me.uid = 0;
	me.gid = 0;
	me.name = "root";
}

FIXTURE void fixture_end(void)
{
	umount2(merged, MNT_DETACH);
	rmtree_at(AT_FDCWD, root);
}

#endif
