/* pip's command line as pip's option parser reads it: values in the same
 * word or the next, bundled short options, abbreviations, "--", the
 * command; and the install target it names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pip/pip.h"
#include "../unit.h"
#include "base/base.h"

/* "K:name=value" per argument, joined with spaces (K: C command, O
 * option, R requirement). */
static char *walk(const char *const *words, bool command_seen)
{
	struct pip_args it;
	struct pip_arg a;
	char *out = xstrdup("");

	pip_args_init(&it, words, command_seen);
	while (pip_args_next(&it, &a)) {
		char *next;

		if (a.kind == PIP_ARG_OPTION)
			next = xasprintf("%s%sO:%s=%s/%d", out, *out ? " " : "", a.name,
					 a.value ? a.value : "-", (int)a.opt);
		else
			next = xasprintf("%s%s%c:%s", out, *out ? " " : "",
					 a.kind == PIP_ARG_COMMAND ? 'C' : 'R', a.value);
		free(out);
		out = next;
	}
	return out;
}

static void expect_walk(const char *const *words, bool command_seen, const char *want)
{
	autofree char *got = walk(words, command_seen);

	CHECK(!strcmp(got, want), "\n   got  %s\n   want %s", got, want);
}

static void test_scanner(void)
{
	char want[512];

	{
		const char *w[] = { "-q", "install", "-iURL", "--extra-index-url=E", "-f", "F",
				    "--no-index", "pkg", "-r", "req.txt", NULL };

		snprintf(want, sizeof(want),
			 "O:-q=-/%d C:install O:-i=URL/%d O:--extra-index-url=E/%d O:-f=F/%d "
			 "O:--no-index=-/%d R:pkg O:-r=req.txt/%d",
			 PIP_OPT_OTHER, PIP_OPT_INDEX_URL, PIP_OPT_EXTRA_INDEX_URL, PIP_OPT_FIND_LINKS,
			 PIP_OPT_NO_INDEX, PIP_OPT_REQUIREMENT);
		expect_walk(w, false, want);
	}
	/* a bundle: flags, then an option that takes the rest or the next word */
	{
		const char *w[] = { "install", "-qqr", "r.txt", "-Uqc", "c.txt", "-qtDIR", NULL };

		snprintf(want, sizeof(want),
			 "C:install O:-q=-/%d O:-q=-/%d O:-r=r.txt/%d O:-U=-/%d O:-q=-/%d O:-c=c.txt/%d "
			 "O:-q=-/%d O:-t=DIR/%d",
			 PIP_OPT_OTHER, PIP_OPT_OTHER, PIP_OPT_REQUIREMENT, PIP_OPT_OTHER, PIP_OPT_OTHER,
			 PIP_OPT_CONSTRAINT, PIP_OPT_OTHER, PIP_OPT_TARGET);
		expect_walk(w, false, want);
	}
	/* a value never counts as a requirement; unknown options are flags */
	{
		const char *w[] = { "install", "--platform", "linux_x86_64", "--frobnicate", "x",
				    "--root", "/r", "--user", NULL };

		snprintf(want, sizeof(want),
			 "C:install O:--platform=linux_x86_64/%d O:--frobnicate=-/%d R:x O:--root=/r/%d "
			 "O:--user=-/%d",
			 PIP_OPT_OTHER, PIP_OPT_UNKNOWN, PIP_OPT_ROOT, PIP_OPT_USER);
		expect_walk(w, false, want);
	}
	/* optparse takes a unique abbreviation; an ambiguous one is pip's error */
	{
		const char *w[] = { "install", "--extra", "E", "--ind", "I", "--req", "x", NULL };

		snprintf(want, sizeof(want), "C:install O:--extra=E/%d O:--ind=I/%d O:--req=-/%d R:x",
			 PIP_OPT_EXTRA_INDEX_URL, PIP_OPT_INDEX_URL, PIP_OPT_UNKNOWN);
		expect_walk(w, false, want);
	}
	/* "--" ends what is read; a value missing at the end is NULL */
	{
		const char *w[] = { "install", "a", "--", "-i", "X", NULL };
		const char *end[] = { "install", "-i", NULL };

		expect_walk(w, false, "C:install R:a");
		snprintf(want, sizeof(want), "C:install O:-i=-/%d", PIP_OPT_INDEX_URL);
		expect_walk(end, false, want);
	}
	/* the short letter of another command's flag: "pip show -f", "pip list -e" */
	{
		const char *show[] = { "show", "-f", "pkg", NULL };
		const char *list[] = { "list", "-e", NULL };

		snprintf(want, sizeof(want), "C:show O:-f=-/%d R:pkg", PIP_OPT_UNKNOWN);
		expect_walk(show, false, want);
		snprintf(want, sizeof(want), "C:list O:-e=-/%d", PIP_OPT_UNKNOWN);
		expect_walk(list, false, want);
	}
	/* a requirements file line: no command */
	{
		const char *w[] = { "-e", "./src", "--hash=sha256:00", NULL };

		snprintf(want, sizeof(want), "O:-e=./src/%d O:--hash=sha256:00/%d", PIP_OPT_EDITABLE,
			 PIP_OPT_OTHER);
		expect_walk(w, true, want);
	}
	expect_walk(NULL, false, "");
}

static void test_option_names(void)
{
	CHECK_INT_EQ(pip_option_by_name("index-url"), PIP_OPT_INDEX_URL);
	CHECK_INT_EQ(pip_option_by_name("Index_URL"), PIP_OPT_INDEX_URL);
	CHECK_INT_EQ(pip_option_by_name("--extra-index-url"), PIP_OPT_EXTRA_INDEX_URL);
	CHECK_INT_EQ(pip_option_by_name("find_links"), PIP_OPT_FIND_LINKS);
	CHECK_INT_EQ(pip_option_by_name("no-index"), PIP_OPT_NO_INDEX);
	CHECK_INT_EQ(pip_option_by_name("i"), PIP_OPT_UNKNOWN);
	CHECK_INT_EQ(pip_option_by_name("index"), PIP_OPT_UNKNOWN);
	CHECK_STR_EQ(pip_option_name(PIP_OPT_FIND_LINKS), "find-links");
}

static void test_target(void)
{
	char dir[] = "/tmp/pipjail-test-argv-XXXXXX";
	const char *home = "/home/u";

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	{
		const char *a[] = { "pip", "install", "--target", dir, "x", NULL };
		autofree char *t = pip_target_option(a, home);

		CHECK_STR_EQ(t, dir);
	}
	{
		autofree char *opt = xasprintf("--prefix=%s", dir);
		const char *a[] = { "python3", "-m", "pip", "install", opt, NULL };
		autofree char *t = pip_target_option(a, home);

		CHECK_STR_EQ(t, dir);
	}
	{
		autofree char *opt = xasprintf("-t%s", dir);
		const char *a[] = { "/v/bin/pip3", "install", "-q", opt, NULL };
		autofree char *t = pip_target_option(a, home);

		CHECK_STR_EQ(t, dir);
	}
	{
		const char *a[] = { "pip", "install", "--user", "x", NULL };
		autofree char *t = pip_target_option(a, home);

		CHECK_STR_EQ(t, "/home/u/.local");
	}
	{
		/* a value of another option is not a target; after "--" nothing counts */
		const char *a[] = { "pip", "install", "--platform", "--target", "x", "--", "--user", NULL };
		autofree char *t = pip_target_option(a, home);

		CHECK(t == NULL, "no target: %s", t ? t : "");
	}
	rmdir(dir);
}

int main(void)
{
	test_scanner();
	test_option_names();
	test_target();
	return unit_summary("test_argv");
}
