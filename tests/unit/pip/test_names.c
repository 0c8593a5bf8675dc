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

int main(void)
{
	test_normalize();
	test_value();
	test_requirements();
	test_archives();
	return unit_summary("test_names");
}
