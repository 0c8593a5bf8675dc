/* Project names: PEP 503 normalisation, the cleaning of names and versions
 * a package chooses, and the project a requirement or an archive names. */
#include <stdio.h>
#include <string.h>

#include "pip/pip.h"
#include "../unit.h"
#include "base/base.h"

static void test_normalize(void)
{
	static const char *const cases[][2] = {
		{ "Evil.Pkg", "evil-pkg" }, { "evil_pkg", "evil-pkg" }, { "EVIL--PKG", "evil-pkg" },
		{ "a._-b", "a-b" }, { "requests", "requests" }, { "Zope.Interface", "zope-interface" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		autofree char *n = pip_normalize_name(cases[i][0]);

		CHECK_STR_EQ(n, cases[i][1]);
	}
}

static void test_value(void)
{
	char v[9];
	static const char *const cases[][2] = {
		{ "  demo-pkg \r", "demo-pkg" }, { "\"quoted\"", "quoted" }, { "'1.0'", "1.0" },
		{ "a\"b\\c", "a" }, { "two words", "two" }, { "x\x1b[31m", "x" }, { "ünï", "" },
		{ "toolongname", "toolongn" }, { "", "" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		pip_meta_value(v, sizeof(v), cases[i][0], strlen(cases[i][0]));
		CHECK_STR_EQ(v, cases[i][1]);
	}
}

static void expect_req(const char *req, const char *name, const char *version)
{
	struct pip_meta m;
	bool ok = pip_requirement_meta(req, &m);

	if (!name) {
		CHECK(!ok, "%s names no project (got %s)", req, m.name);
		return;
	}
	CHECK(ok && !strcmp(m.name, name) && !strcmp(m.version, version),
	      "%s -> %s %s (got %s %s)", req, name, version, m.name, m.version);
}

static void test_requirements(void)
{
	expect_req("requests==2.31.0", "requests", "2.31.0");
	expect_req("Evil.Pkg[extra] >= 1.0 ; python_version > '3'", "Evil.Pkg", "");
	expect_req("Foo[bar] == 1.0", "Foo", "1.0");
	expect_req("foo===1.0", "foo", "");
	expect_req("numpy     ==1.26    ", "numpy", "1.26");
	expect_req("other @ https://127.0.0.1/other-1.0.tar.gz", "other", "");
	expect_req("./dist/Local_Thing-0.3.tar.gz", "Local_Thing", "0.3");
	expect_req("https://127.0.0.1/files/wheelie-1.0-py3-none-any.whl", "wheelie", "1.0");
	expect_req("https://127.0.0.1/x/demo-2.0.zip#sha256=00", "demo", "2.0");
	expect_req("git+https://127.0.0.1/x.git#egg=From_Egg", "From_Egg", "");
	expect_req("git+https://127.0.0.1/y.git", NULL, NULL);
	expect_req("./editable", NULL, NULL);
	expect_req("-r x", NULL, NULL);
}

static void test_archives(void)
{
	struct pip_meta m;

	CHECK(pip_archive_meta("/w/demo_pkg-1.0.post1.tar.gz", &m) && !strcmp(m.name, "demo_pkg") &&
	      !strcmp(m.version, "1.0.post1"), "an sdist: %s %s", m.name, m.version);
	CHECK(pip_archive_meta("a-b-2.0-cp311-cp311-manylinux_x86_64.whl", &m) && !strcmp(m.name, "a") &&
	      !strcmp(m.version, "b"), "a wheel's name stops at its first dash: %s %s", m.name, m.version);
	CHECK(!pip_archive_meta("/w/demo.tar.gz", &m), "no version: not an sdist name");
	CHECK(!pip_archive_meta("/w/-1.0.tar.gz", &m), "no name");
	CHECK(!pip_archive_meta("/w/demo-1.0", &m), "a directory");
}

/* The local path a requirement names (src/cmd/show.c shows it in the
 * jail), as pip tells one: NULL for a project name or a remote URL. */
static void test_requirement_paths(void)
{
	static const char *const cases[][2] = {
		{ ".", "." }, { "./proj", "./proj" }, { "../x/y", "../x/y" },
		{ "/var/tmp/x-1.0.tar.gz", "/var/tmp/x-1.0.tar.gz" },
		{ "x-1.0.tar.gz", "x-1.0.tar.gz" }, { "x-1.0-py3-none-any.whl", "x-1.0-py3-none-any.whl" },
		{ "  /w/p[extra] ; python_version > '3'", "/w/p" },
		{ "file:///var/tmp/a%20b.tar.gz#sha256=00", "/var/tmp/a b.tar.gz" },
		{ "file://localhost/w/p", "/w/p" }, { "file:/w/p", "/w/p" },
		{ "pkg @ file:///w/pkg", "/w/pkg" },
		{ "requests", NULL }, { "requests>=2", NULL }, { "pkg @ https://h/x.tar.gz", NULL },
		{ "https://h/x-1.0.tar.gz", NULL }, { "https://u@h/x-1.0.tar.gz", NULL },
		{ "git+https://u@h/r.git#egg=r", NULL }, { "file://otherhost/w/p", NULL }, { "", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		autofree char *got = pip_requirement_path(cases[i][0]);

		if (cases[i][1])
			CHECK_STR_EQ(got, cases[i][1]);
		else
			CHECK(!got, "pip_requirement_path(\"%s\") is \"%s\", expected NULL", cases[i][0],
			      got);
	}
}

int main(void)
{
	test_normalize();
	test_value();
	test_requirements();
	test_archives();
	test_requirement_paths();
	return unit_summary("test_names");
}
