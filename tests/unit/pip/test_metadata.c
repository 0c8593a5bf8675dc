/* Package metadata: PKG-INFO headers (and only the headers), pyproject.toml,
 * setup.cfg, setup.py, pip's directory names, the metadata directory a
 * build writes, the command line's one requirement, and a METADATA file
 * read from an installed distribution. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pip/pip.h"
#include "../unit.h"
#include "base/base.h"

/* (moved from tests/unit/decide/test_engine.c: test_meta) */
static void test_meta(void)
{
	struct pip_meta m;

	CHECK(pip_meta_from_pkginfo("Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0.post1\n\nName: body\n", &m) == 0,
	      "PKG-INFO");
	CHECK_STR_EQ(m.name, "demo-pkg");
	CHECK_STR_EQ(m.version, "1.0.post1");
	CHECK(pip_meta_from_pyproject("[build-system]\nrequires = [\"x\"]\nname = \"wrong\"\n\n[project]\n"
				      "name = \"tomlpkg\"\nversion = '2.0'\n[tool.x]\nname = \"no\"\n", &m) == 0, "pyproject");
	CHECK_STR_EQ(m.name, "tomlpkg");
	CHECK_STR_EQ(m.version, "2.0");
	CHECK(pip_meta_from_setupcfg("[metadata]\nname = cfgpkg\nversion = attr: cfgpkg.__version__\n", &m) == 0,
	      "setup.cfg");
	CHECK_STR_EQ(m.name, "cfgpkg");
	CHECK_STR_EQ(m.version, "");
	CHECK(pip_meta_from_pyproject("[project]\ndynamic = [\"version\"]\n", &m) < 0, "no name: no package");
	CHECK(pip_meta_from_dirname("/tmp/pip-install-x/demo_0123456789abcdef0123456789abcdef", &m) == 0 &&
	      !strcmp(m.name, "demo"), "pip's name_hash dir");
	CHECK(pip_meta_from_dirname("/tmp/pip-req-build-abc", &m) < 0, "pip-req-build says nothing");
	CHECK(pip_meta_from_dirname("/src/foo-bar-1.2.3", &m) == 0 && !strcmp(m.name, "foo-bar") &&
	      !strcmp(m.version, "1.2.3"), "name-version dir");
	CHECK(pip_meta_from_pkginfo("Name: a\"b\\c\n", &m) == 0 && !strcmp(m.name, "a"),
	      "odd characters are cut: %s", m.name);
}

/* The headers end at the first empty line: a description that says
 * "Name: x" does not rename the package. */
static void test_pkginfo_headers(void)
{
	struct pip_meta m;

	CHECK(pip_meta_from_pkginfo("Metadata-Version: 2.1\r\nName: real\r\nVersion: 1\r\n\r\n"
				    "Name: fake\nVersion: 9\n", &m) == 0 &&
	      !strcmp(m.name, "real") && !strcmp(m.version, "1"), "CRLF headers: %s %s", m.name, m.version);
	CHECK(pip_meta_from_pkginfo("Metadata-Version: 2.1\n\nName: body\n", &m) < 0,
	      "a Name: in the description is not the name (%s)", m.name);
	CHECK(pip_meta_from_pkginfo("name: lower\nversion: 2\n", &m) == 0 && !strcmp(m.name, "lower"),
	      "header names are case-insensitive");
	CHECK(pip_meta_from_pkginfo("Name: first\nName: second\n", &m) == 0 && !strcmp(m.name, "first"),
	      "the first Name: counts");
	CHECK(pip_meta_from_pkginfo("Names: x\nName:\n", &m) < 0, "no name");
	CHECK_STR_EQ(m.source, "PKG-INFO");
}

static void test_setuppy(void)
{
	struct pip_meta m;

	CHECK(pip_meta_from_setuppy("from setuptools import setup\npackage_name = 'no'\n"
				    "setup(name = \"pyname\", version='0.9')\n", &m) == 0 &&
	      !strcmp(m.name, "pyname") && !strcmp(m.version, "0.9"), "setup.py: %s %s", m.name, m.version);
	CHECK(pip_meta_from_setuppy("setup(name=NAME)\n", &m) < 0, "not a literal");
}

static void test_written(void)
{
	struct pip_meta m;

	CHECK(pip_meta_from_written("/tmp/pip-wheel-x/demo.egg-info/PKG-INFO", &m) == 0 &&
	      !strcmp(m.name, "demo") && !m.version[0], "egg-info");
	CHECK(pip_meta_from_written("/tmp/x/demo_pkg-1.2.dist-info", &m) == 0 &&
	      !strcmp(m.name, "demo_pkg") && !strcmp(m.version, "1.2"), "dist-info");
	CHECK(pip_meta_from_written("/tmp/x/nodash.dist-info/x", &m) < 0, "a dist-info without a version");
	CHECK(pip_meta_from_written("/tmp/x/y", &m) < 0, "nothing");
}

static void expect_argv(const char *const *argv, const char *name, const char *version)
{
	struct pip_meta m;
	int r = pip_meta_from_argv(argv, &m);

	if (!name) {
		CHECK(r < 0, "%s %s: no one requirement (got %s)", argv[0], argv[1] ? argv[1] : "", m.name);
		return;
	}
	CHECK(r == 0 && !strcmp(m.name, name) && !strcmp(m.version, version) &&
	      !strcmp(m.source, "the command line"), "-> %s %s (got %s %s)", name, version, m.name,
	      m.version);
}

static void test_argv(void)
{
	const char *a1[] = { "/venv/bin/pip", "install", "--no-index", "./demo-1.0.tar.gz", NULL };
	const char *a2[] = { "pip", "install", "-q", "foo==2", NULL };
	const char *a3[] = { "python3", "-m", "pip", "wheel", "-w", "out", "../proj-0.3", NULL };
	const char *a4[] = { "pip", "install", "-e", "./src/thing", NULL };
	const char *a5[] = { "pip", "install", "-r", "req.txt", "x", NULL };
	const char *a6[] = { "pip", "install", "a", "b", NULL };
	const char *a7[] = { "pip", "uninstall", "x", NULL };
	const char *a8[] = { "pip", "install", "--platform", "linux", "demo", NULL };
	const char *a9[] = { "pip", "install", "./dist/demo-1.0-py3-none-any.whl", NULL };
	const char *a10[] = { "python3", "setup.py", "install", NULL };

	expect_argv(a1, "demo", "1.0");
	expect_argv(a2, "foo", "2");
	expect_argv(a3, "proj", "0.3");
	expect_argv(a4, "thing", "");
	expect_argv(a5, NULL, NULL);
	expect_argv(a6, NULL, NULL);
	expect_argv(a7, NULL, NULL);
	expect_argv(a8, "demo", "");
	expect_argv(a9, "demo", "1.0");
	expect_argv(a10, NULL, NULL);
}

/* METADATA of an installed distribution: a regular file only, no symlink. */
static void test_read_at(void)
{
	char dir[] = "/tmp/pipjail-test-metadata-XXXXXX";
	autofree char *meta = NULL, *link = NULL, *fifo = NULL;
	struct pip_meta m;
	int dfd;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	meta = xasprintf("%s/METADATA", dir);
	link = xasprintf("%s/LINK", dir);
	fifo = xasprintf("%s/FIFO", dir);
	CHECK(write_file(meta, "Metadata-Version: 2.1\nName: installed\nVersion: 3.0\n\nName: no\n") == 0,
	      "write");
	CHECK(symlink(meta, link) == 0 && mkfifo(fifo, 0600) == 0, "link and fifo");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(pip_meta_read_at(dfd, "METADATA", &m) == 0 && !strcmp(m.name, "installed") &&
	      !strcmp(m.version, "3.0"), "METADATA read: %s %s", m.name, m.version);
	CHECK(pip_meta_read_at(dfd, "LINK", &m) < 0, "a symlink is not followed");
	CHECK(pip_meta_read_at(dfd, "FIFO", &m) < 0, "a FIFO is not read (and does not hang)");
	CHECK(pip_meta_read_at(dfd, "MISSING", &m) < 0, "missing");
	close(dfd);
	unlink(meta);
	unlink(link);
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	test_meta();
	test_pkginfo_headers();
	test_setuppy();
	test_written();
	test_argv();
	test_read_at();
	return unit_summary("test_metadata");
}
