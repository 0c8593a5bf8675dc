/* The path glob matcher: what profile authors rely on (docs/profiles.md). */
#include <stdlib.h>
#include <string.h>

#include "decide/glob.h"
#include "../unit.h"

#define M(p, s) CHECK(glob_match(p, s), "\"%s\" should match \"%s\"", p, s)
#define N(p, s) CHECK(!glob_match(p, s), "\"%s\" should not match \"%s\"", p, s)

static void bad(const char *pattern, const char *why)
{
	char err[256] = "";

	CHECK(glob_check(pattern, err, sizeof(err)) < 0, "\"%s\" should be refused", pattern);
	CHECK(strstr(err, why) != NULL, "the error for \"%s\" is \"%s\", expected it to say \"%s\"",
	      pattern, err, why);
}

int main(void)
{
	char err[256];

	/* literals */
	M("/etc/passwd", "/etc/passwd");
	N("/etc/passwd", "/etc/passwd2");
	N("/etc/passwd", "/etc/passw");

	/* * stays within a segment */
	M("/tmp/pip-*", "/tmp/pip-install-abc");
	N("/tmp/pip-*", "/tmp/pip-install-abc/demo");
	M("/usr/bin/python3*", "/usr/bin/python3.11");
	M("/usr/bin/python3*", "/usr/bin/python3");
	M("*.h", "stdio.h");
	N("*.h", "sys/stat.h");
	M("/a/*/c", "/a/b/c");
	N("/a/*/c", "/a/b/x/c");
	M("/home/*/.ssh/id_*", "/home/u/.ssh/id_rsa");
	M("/a/.*", "/a/.hidden");
	M("/a/*", "/a/.hidden");  /* no dotfile exception: deny lists stay tight */

	/* ** across segments */
	M("/usr/**", "/usr/lib/x86_64-linux-gnu/libc.so.6");
	M("/usr/**", "/usr");  /* the directory itself */
	M("/usr/**", "/usr/");
	N("/usr/**", "/usrlocal/x");
	N("/usr/**", "/us");
	M("/a/**/b", "/a/b");
	M("/a/**/b", "/a/x/b");
	M("/a/**/b", "/a/x/y/z/b");
	N("/a/**/b", "/a/x/yb");
	M("/a/**/*.pth", "/a/lib/python3.11/site-packages/evil.pth");
	M("**/setup.py", "/tmp/x/setup.py");
	M("**/setup.py", "setup.py");
	N("**/x", "ab/cx");
	N("/a/**/b", "/a/xb");
	M("/a/**/**/b", "/a/b");
	M("**", "/anything/at/all");
	M("/tmp/pip-*/**", "/tmp/pip-install-1/demo_abc/PKG-INFO");
	N("/tmp/pip-*/**", "/tmp/other/x");

	/* ? and [...] */
	M("/dev/tty?", "/dev/tty1");
	N("/dev/tty?", "/dev/tty");
	N("/a?b", "/a/b");
	M("/proc/[0-9]*/stat", "/proc/42/stat");
	N("/proc/[0-9]*/stat", "/proc/self/stat");
	M("/x/[!a]", "/x/b");
	N("/x/[!a]", "/x/a");
	M("/x/[^a]", "/x/b");
	M("/x/[]a]", "/x/]");
	M("/x/[a-c]", "/x/b");
	N("/x/[a-c]", "/x/d");
	N("/x[!a]y", "/x/y");  /* a set never matches the separator */

	/* escapes */
	M("/a/\\*", "/a/*");
	N("/a/\\*", "/a/b");
	M("/x/\\[1\\]", "/x/[1]");
	{
		char esc[64];

		CHECK(glob_escape("/p[1]/*?", esc, sizeof(esc)), "escape fits");
		M(esc, "/p[1]/*?");
		N(esc, "/p1/ab");
		CHECK(!glob_escape("/long/path", esc, 5), "escape into a small buffer fails");
	}

	/* malformed patterns */
	bad("/a/[bc", "unterminated '['");
	bad("/a/b**", "not a whole path segment");
	bad("/a/**b", "not a whole path segment");
	bad("/a\\", "ends the pattern");
	bad("", "empty");
	bad("/x/[z-a]", "reversed range");
	CHECK(glob_check("/a/**/b", err, sizeof(err)) == 0, "/a/**/b is fine: %s", err);
	N("/a/[bc", "/a/[bc");  /* a malformed pattern matches nothing */

	/* literal prefix */
	CHECK_INT_EQ(glob_literal_prefix("/usr/lib/*.so"), 9);
	CHECK_INT_EQ(glob_literal_prefix("*"), 0);

	/* adversarial: many stars against a long path, no exponential blowup */
	{
		char pat[2048] = "", path[4096];
		size_t o = 0;

		for (int i = 0; i < 200; i++)
			o += (size_t)snprintf(pat + o, sizeof(pat) - o, "*a");
		snprintf(pat + o, sizeof(pat) - o, "*b");
		memset(path, 'a', sizeof(path) - 1);
		path[sizeof(path) - 1] = '\0';
		N(pat, path);
		o = 0;
		for (int i = 0; i < 100; i++)
			o += (size_t)snprintf(pat + o, sizeof(pat) - o, "/**");
		snprintf(pat + o, sizeof(pat) - o, "/x");
		for (size_t i = 0; i + 2 < sizeof(path); i += 2) {
			path[i] = '/';
			path[i + 1] = 'a';
		}
		path[sizeof(path) - 2] = '\0';
		N(pat, path);
	}
	return unit_summary("test_glob");
}
