/* Issue 15, on a real overlayfs (run as root): nothing that runs later
 * slips through the staging check.  A .pth read as site.py reads it
 * (universal newlines, symlinks followed inside the stage, any name), the
 * ownership of the environment as it was before the run (a RECORD that
 * this run rewrote vouches for nothing another distribution owned), the
 * environment's own files and pip's configuration, bytecode held to the
 * check's verdicts, and the run's secrets in a staged file.  The fixtures
 * are tests/unit/stage/stage_fixture.h's. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stage/stage.h"
#include "base/base.h"
#include "../unit.h"
#include "stage_fixture.h"

#define MAXSEEN 32

struct seen {
	int n;
	char ev[MAXSEEN][1024];
	char rule[MAXSEEN][32];
	char pkg[MAXSEEN][64];
};

static void on_report(void *ctx, const struct stage_finding *v)
{
	struct seen *s = ctx;

	if (s->n < MAXSEEN) {
		snprintf(s->ev[s->n], sizeof(s->ev[0]), "%s", v->evidence);
		snprintf(s->rule[s->n], sizeof(s->rule[0]), "%s", v->rule);
		snprintf(s->pkg[s->n], sizeof(s->pkg[0]), "%s", v->package ? v->package : "");
	}
	s->n++;
}

/* Paths with "build" in them were written by a build's process (pid 4242). */
static uint32_t fake_writer(void *ctx, const char *abs)
{
	(void)ctx;
	return strstr(abs, "build") ? 4242 : 7;
}

static bool fake_installer(void *ctx, uint32_t hpid)
{
	(void)ctx;
	return hpid != 4242;
}

static const char *token = "PJDECOYTOKEN0123456789abcdef";

static bool fake_token(void *ctx, const unsigned char *data, size_t n, char *what, size_t len)
{
	(void)ctx;
	if (!mem_contains(data, n, token, false))
		return false;
	snprintf(what, len, "the decoy token of $GITHUB_TOKEN (as is)");
	return true;
}

/* Verdicts: a .pyc holding "good" is its source's bytecode, one holding
 * "evil" is not, anything else was not checked. */
static char *fake_pyc(void *ctx, const char *rel, const uint8_t *digest)
{
	uint8_t good[SHA256_DIGEST_LEN], evil[SHA256_DIGEST_LEN];

	(void)ctx;
	(void)rel;
	sha256("good", 4, good);
	sha256("evil", 4, evil);
	if (!memcmp(digest, good, sizeof(good)))
		return NULL;
	if (!memcmp(digest, evil, sizeof(evil)))
		return xstrdup("a .pyc that is not its source's bytecode");
	return xstrdup("a .pyc that was not checked");
}

static int check(struct stage *s, struct seen *seen, const struct stage_check_opts *o, bool with_pyc)
{
	char err[512];
	struct stage_hooks h = { .report = on_report, .writer_of = fake_writer, .is_installer = fake_installer,
				 .find_token = fake_token, .ctx = seen };

	if (with_pyc)
		h.pyc_check = fake_pyc;
	memset(seen, 0, sizeof(*seen));
	if (stage_scan(s, err, sizeof(err)) < 0) {
		CHECK(0, "stage_scan: %s", err);
		return -1;
	}
	return stage_check(s, o, &h);
}

/* The finding naming needle, or -1. */
static int find(const struct seen *s, const char *needle)
{
	for (int i = 0; i < s->n && i < MAXSEEN; i++)
		if (strstr(s->ev[i], needle))
			return i;
	return -1;
}

static void dump(const struct seen *s)
{
	for (int i = 0; i < s->n && i < MAXSEEN; i++)
		fprintf(stderr, "  %s: %s\n", s->rule[i], s->ev[i]);
}

#define CHECK_FINDING(seen, needle, want_rule)                                                  \
	do {                                                                                    \
		int k_ = find(seen, needle);                                                    \
		CHECK(k_ >= 0, "a finding names %s", needle);                                   \
		if (k_ >= 0)                                                                    \
			CHECK_STR_EQ((seen)->rule[k_], want_rule);                              \
	} while (0)

/* (1) .pth files as site.py reads them, whatever their name. */
static void test_pth(void)
{
	static const struct tfile pths[] = {
		{ "pthdist/__init__.py", "", 0 },
		/* a lone CR ends a line for site.py */
		{ "pthdist-cr.pth", "pthdist_extra\rimport os; os.system('id')\n", 0 },
		/* the name of an editable install allows nothing */
		{ "__editable__.pthdist-1.0.pth", "import os; os.system('id')\n", 0 },
		/* a tab after import counts, a comment and "importx" do not */
		{ "pthdist-tab.pth", "# import os\nimportx\nimport\tos\n", 0 },
		/* CRLF, a comment, a blank line and paths: nothing runs */
		{ "pthdist-crlf.pth", "# plugins\r\n\r\npthdist_extra\r\n../pthdist_more\r\n", 0 },
		{ "pthdist/boot.cfg", "import os; os.system('id')\n", 0 },
		{ "pthdist/paths.cfg", "pthdist_extra\n", 0 },
	};
	struct stage *s;
	struct seen seen;
	int n;

	fresh_venv();
	s = stage_up();
	{
		autofree char *sp = xasprintf("%s/%s", merged, SP);
		autofree char *l1 = xasprintf("%s/pthdist-link.pth", sp), *l2 = xasprintf("%s/pthdist-ok.pth", sp);
		autofree char *l3 = xasprintf("%s/pthdist-out.pth", sp), *l4 = xasprintf("%s/pthdist-none.pth", sp);
		autofree char *l5 = xasprintf("%s/pthdist-abs.pth", sp), *tgt = xasprintf("%s/%s/pthdist/boot.cfg", venv, SP);
		autofree char *l6 = xasprintf("%s/pthdist-dir.pth", sp), *d = xasprintf("%s/pthdir", sp);
		autofree char *l7 = xasprintf("%s/pthdist-up.pth", sp);
		/* the extra rows: the symlinks, listed the way RECORD lists them */
		const char *extra = "pthdist-link.pth,,\npthdist-ok.pth,,\npthdist-out.pth,,\npthdist-none.pth,,\n"
				    "pthdist-abs.pth,,\npthdist-dir.pth,,\npthdist-up.pth,,\n";

		install(merged, "pthdist", "1.0", pths, ARRAY_SIZE(pths), extra);
		CHECK(symlink("pthdist/boot.cfg", l1) == 0, "symlink");
		CHECK(symlink("pthdir/../pthdist/paths.cfg", l2) == 0, "symlink");
		CHECK(symlink("/etc/hostname", l3) == 0, "symlink");
		CHECK(symlink("pthdist/later.cfg", l4) == 0, "symlink");
		/* absolute, inside the environment: followed (the target is
		 * shown at its own path in the jail) */
		CHECK(symlink(tgt, l5) == 0, "symlink");
		/* a symlinked directory on the way, then ".." from where it led */
		CHECK(mkdir(d, 0755) == 0, "mkdir");
		CHECK(symlink("pthdir/x/../../pthdist/boot.cfg", l6) == 0, "symlink");
		CHECK(symlink("../../../../pthdist.pth", l7) == 0, "symlink");
	}
	stage_down();
	{
		/* pthdir/x: a symlink to ../pthdist, so pthdir/x/.. is the site
		 * directory and pthdir/x/../../pthdist/boot.cfg is
		 * lib/python3.11/pthdist/boot.cfg, which does not exist: the
		 * kernel's way, not the lexical one (site-packages/pthdist/boot.cfg,
		 * which runs code).  pthdir/x itself is in no RECORD. */
		autofree char *x = xasprintf("%s/%s/pthdir/x", stage_upper(s), SP);

		CHECK(symlink("../pthdist", x) == 0, "symlink in upper");
	}
	n = check(s, &seen, NULL, false);
	dump(&seen);
	CHECK_FINDING(&seen, "pthdist-cr.pth: .pth file (in RECORD of pthdist 1.0) runs code", "pth-code");
	CHECK(find(&seen, "import os; os.system('id')") >= 0, "the code line, after the CR, is in the evidence");
	CHECK_FINDING(&seen, "__editable__.pthdist-1.0.pth: .pth file (in RECORD", "pth-code");
	CHECK_FINDING(&seen, "pthdist-tab.pth: .pth file (in RECORD", "pth-code");
	CHECK(find(&seen, "import\tos") >= 0 && find(&seen, "importx") < 0, "only import + tab is code");
	CHECK(find(&seen, "pthdist-crlf.pth") < 0, "a CRLF .pth of paths runs nothing");
	CHECK_FINDING(&seen, "pthdist-link.pth: .pth file (in RECORD of pthdist 1.0) runs code", "pth-code");
	CHECK(find(&seen, "pthdist-ok.pth") < 0, "a symlink to a file of paths runs nothing");
	CHECK_FINDING(&seen, "pthdist-out.pth: .pth file (in RECORD of pthdist 1.0): it is a symlink that leads out",
		      "pth-code");
	CHECK_FINDING(&seen, "pthdist-none.pth: .pth file (in RECORD of pthdist 1.0): it is a symlink to nothing",
		      "pth-code");
	CHECK_FINDING(&seen, "pthdist-abs.pth: .pth file (in RECORD of pthdist 1.0) runs code", "pth-code");
	CHECK_FINDING(&seen, "pthdist-dir.pth: .pth file (in RECORD of pthdist 1.0)", "pth-code");
	CHECK(find(&seen, "pthdist-dir.pth: .pth file (in RECORD of pthdist 1.0): it is a symlink to nothing") >= 0,
	      "pthdir/x/../../pthdist/boot.cfg resolves as the kernel does");
	CHECK_FINDING(&seen, "pthdir/x: not in any RECORD", "undeclared-file");
	CHECK_FINDING(&seen, "pthdist-up.pth: .pth file (in RECORD of pthdist 1.0): it is a symlink that leads out",
		      "pth-code");
	CHECK_INT_EQ(n, 10);
	stage_discard(s);
}

/* (2) A wheel that ships another distribution's RECORD (setuptools' and
 * its _distutils_hack, as in tests/attacks/persist_distutils_hack) vouches
 * for nothing: the distribution that owned the files before still does.
 * A genuine reinstall of that distribution is clean. */
static const struct tfile tools1[] = {
	{ "_hack/__init__.py", "def add_shim():\n    pass\n", 0 },
	{ "tools/__init__.py", "", 0 },
};

static void test_forged_record(void)
{
	struct stage *s;
	struct seen seen;
	autofree char *rec = NULL, *rec_row = NULL, *hack_row = NULL, *forged = NULL;
	const char *evil_hack = "def add_shim():\n    import os; os.system('id')\n";
	int n;

	/* forged in a wheel: evil's RECORD lists tools' RECORD */
	fresh_venv();
	install(venv, "tools", "1.0", tools1, ARRAY_SIZE(tools1), NULL);
	s = stage_up();
	rec = xasprintf("%s/%s/tools-1.0.dist-info/RECORD", merged, SP);
	hack_row = record_line("_hack/__init__.py", evil_hack);
	forged = xasprintf("%stools/__init__.py,,\ntools-1.0.dist-info/RECORD,,\n", hack_row);
	rec_row = record_line("tools-1.0.dist-info/RECORD", forged);
	{
		autofree char *extra = xasprintf("%s%s", hack_row, rec_row);
		static const struct tfile evil[] = { { "evil/__init__.py", "", 0 } };

		install(merged, "evil", "1.0", evil, ARRAY_SIZE(evil), extra);
		writef(rec, forged, 0);
		{
			autofree char *h = xasprintf("%s/%s/_hack/__init__.py", merged, SP);

			writef(h, evil_hack, 0);
		}
	}
	stage_down();
	n = check(s, &seen, NULL, false);
	dump(&seen);
	CHECK_FINDING(&seen, "_hack/__init__.py: changes a file owned by distribution tools 1.0", "undeclared-file");
	CHECK_FINDING(&seen, "tools-1.0.dist-info/RECORD: changes a file owned by distribution tools 1.0",
		      "undeclared-file");
	CHECK_INT_EQ(n, 2);
	stage_discard(s);

	/* forged by a build: a RECORD its process wrote ("build" in the path:
	 * the fake writer says pid 4242, not pip) */
	fresh_venv();
	{
		static const struct tfile b1[] = { { "buildtool/__init__.py", "X = 1\n", 0 } };
		static const struct tfile b2[] = { { "buildtool/__init__.py", "import os; os.system('id')\n", 0 } };

		install(venv, "buildtool", "1.0", b1, ARRAY_SIZE(b1), NULL);
		s = stage_up();
		install(merged, "buildtool", "1.0", b2, ARRAY_SIZE(b2), NULL);
	}
	stage_down();
	n = check(s, &seen, NULL, false);
	dump(&seen);
	CHECK_FINDING(&seen, "buildtool/__init__.py: changes a file owned by distribution buildtool 1.0",
		      "undeclared-file");
	CHECK(n >= 2, "the RECORD and the module (got %d)", n);
	stage_discard(s);

	/* genuine: pip reinstalls tools 1.1 over tools 1.0 */
	fresh_venv();
	install(venv, "tools", "1.0", tools1, ARRAY_SIZE(tools1), NULL);
	s = stage_up();
	uninstall(merged, "tools", "1.0");
	{
		static const struct tfile tools2[] = {
			{ "_hack/__init__.py", "def add_shim():\n    return 2\n", 0 },
			{ "tools/__init__.py", "V = 2\n", 0 },
			{ "distutils-precedence.pth",
			  "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == "
			  "'local'; enabled and __import__('_distutils_hack').add_shim(); \n", 0 },
		};

		install(merged, "tools", "1.1", tools2, ARRAY_SIZE(tools2), NULL);
	}
	stage_down();
	n = check(s, &seen, NULL, false);
	dump(&seen);
	/* tools is not setuptools: its copy of setuptools' line is still code */
	CHECK_FINDING(&seen, "distutils-precedence.pth: .pth file (in RECORD of tools 1.1) runs code", "pth-code");
	CHECK_INT_EQ(n, 1);
	stage_discard(s);
}

/* (3) setuptools' own lines: distutils-precedence.pth in setuptools (which
 * declares _distutils_hack), the editable finder in an editable install. */
static void test_allowed_lines(void)
{
	static const struct tfile st[] = {
		{ "_distutils_hack/__init__.py", "def add_shim():\n    pass\n", 0 },
		{ "setuptools/__init__.py", "", 0 },
		{ "distutils-precedence.pth",
		  "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == "
		  "'local'; enabled and __import__('_distutils_hack').add_shim(); \n", 0 },
	};
	static const struct tfile ed[] = {
		{ "__editable___proj_0_1_finder.py", "def install():\n    pass\n", 0 },
		{ "__editable__.proj-0.1.pth", "import __editable___proj_0_1_finder; __editable___proj_0_1_finder.install()", 0 },
		{ "__editable__.other-0.1.pth", "import __editable___other_0_1_finder; __editable___other_0_1_finder.install()", 0 },
	};
	struct stage_check_opts editable = { .editable = true };
	struct stage *s;
	struct seen seen;
	int n;

	for (int pass = 0; pass < 2; pass++) {
		fresh_venv();
		s = stage_up();
		install(merged, "setuptools", "66.1.1", st, ARRAY_SIZE(st), NULL);
		install(merged, "proj", "0.1", ed, ARRAY_SIZE(ed), NULL);
		stage_down();
		n = check(s, &seen, pass ? &editable : NULL, false);
		dump(&seen);
		CHECK(find(&seen, "distutils-precedence.pth") < 0, "setuptools' own line in setuptools");
		CHECK_FINDING(&seen, "__editable__.other-0.1.pth", "pth-code"); /* its finder is not declared */
		if (pass) {
			CHECK(find(&seen, "__editable__.proj-0.1.pth") < 0, "the finder line of an editable install");
			CHECK_INT_EQ(n, 1);
		} else {
			CHECK_FINDING(&seen, "__editable__.proj-0.1.pth", "pth-code");
			CHECK_INT_EQ(n, 2);
		}
		stage_discard(s);
	}
}

/* (4) The environment's own files and pip's configuration, declared or not. */
static void test_env_files(void)
{
	static const struct tfile wheel[] = {
		{ "envdist/__init__.py", "", 0 },
		{ "../../../bin/activate", "# replaced\n", 0 },
		{ "../../../pip.conf", "[global]\nextra-index-url = http://127.0.0.1:9/\n", 0 },
		{ "../../../share/envdist/pip.ini", "[global]\n", 0 },
		{ "../../../bin/python3", "#!/bin/sh\n", 0755 },
		{ "../../../share/envdist/README", "fine\n", 0 },
	};
	struct stage *s;
	struct seen seen;
	int n;

	fresh_venv();
	{
		autofree char *act = xasprintf("%s/bin/activate", venv);

		writef(act, "# venv's activate\n", 0);
	}
	s = stage_up();
	install(merged, "envdist", "1.0", wheel, ARRAY_SIZE(wheel), NULL);
	{
		autofree char *cfg = xasprintf("%s/pyvenv.cfg", merged);

		writef(cfg, "home = /tmp/evil\n", 0);
	}
	stage_down();
	n = check(s, &seen, NULL, false);
	dump(&seen);
	CHECK_FINDING(&seen, "bin/activate: changes a file of the environment itself", "env-file");
	CHECK(find(&seen, "declared by envdist 1.0") >= 0, "says the RECORD that declared it");
	CHECK_FINDING(&seen, "/pip.conf: a pip configuration file", "pip-config");
	CHECK_FINDING(&seen, "share/envdist/pip.ini: a pip configuration file", "pip-config");
	CHECK_FINDING(&seen, "bin/python3: a file of the environment itself", "env-file");
	CHECK_FINDING(&seen, "pyvenv.cfg: changes a file of the environment itself", "env-file");
	CHECK(find(&seen, "README") < 0, "an ordinary data file is fine");
	CHECK_INT_EQ(n, 5);
	stage_discard(s);
}

/* (5) Bytecode held to the check's verdicts, and the run's secrets. */
static void test_pyc_and_tokens(void)
{
	autofree char *leak = xasprintf("BUILD = '%s'\n", token);
	const struct tfile files[] = {
		{ "pycdist/__init__.py", "", 0 },
		{ "pycdist/a.py", "A = 1\n", 0 },
		{ "pycdist/b.py", "B = 1\n", 0 },
		{ "pycdist/c.py", "C = 1\n", 0 },
		{ "pycdist/_build_info.py", leak, 0 },
	};
	struct stage *s;
	struct seen seen;
	int n;

	fresh_venv();
	{
		/* a .pyc that no distribution owned (an import without
		 * PYTHONDONTWRITEBYTECODE), recompiled by this run's install */
		autofree char *p = xasprintf("%s/%s/alpha/__pycache__/__init__.cpython-311.pyc", venv, SP);

		writef(p, "old", 0);
	}
	s = stage_up();
	install(merged, "pycdist", "1.0", files, ARRAY_SIZE(files), NULL);
	{
		const char *const pycs[][2] = {
			{ "pycdist/__pycache__/a.cpython-311.pyc", "good" },
			{ "pycdist/__pycache__/b.cpython-311.pyc", "evil" },
			{ "pycdist/__pycache__/c.cpython-311.opt-1.pyc", "unchecked" },
			{ "alpha/__pycache__/__init__.cpython-311.pyc", "good" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(pycs); i++) {
			autofree char *p = xasprintf("%s/%s/%s", merged, SP, pycs[i][0]);

			writef(p, pycs[i][1], 0);
		}
	}
	stage_down();
	n = check(s, &seen, NULL, true);
	dump(&seen);
	CHECK(find(&seen, "a.cpython-311.pyc") < 0, "a checked .pyc of a declared source");
	CHECK_FINDING(&seen, "b.cpython-311.pyc: a .pyc that is not its source's bytecode", "pyc-mismatch");
	CHECK_FINDING(&seen, "c.cpython-311.opt-1.pyc: a .pyc that was not checked", "pyc-mismatch");
	CHECK_FINDING(&seen, "alpha/__pycache__/__init__.cpython-311.pyc: changes a file of the environment itself",
		      "env-file");
	CHECK_FINDING(&seen, "_build_info.py: holds the decoy token of $GITHUB_TOKEN", "token-in-file");
	{
		int k = find(&seen, "_build_info.py");

		CHECK(k >= 0 && !strcmp(seen.pkg[k], "pycdist"), "the token's file is pycdist's");
	}
	CHECK_INT_EQ(n, 4);
	stage_discard(s);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_persist: skipped (needs root for overlayfs)\n");
		return 0;
	}
	fixture_start();
	test_pth();
	test_forged_record();
	test_allowed_lines();
	test_env_files();
	test_pyc_and_tokens();
	fixture_end();
	return unit_summary("test_persist");
}
