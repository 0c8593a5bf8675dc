/* Is this exec pip?  The user-space side of the one rule, run on every case
 * of is_pip_cases.txt (the kernel's side runs the same file), and where
 * pip's own arguments start in a command line. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pip/pip.h"
#include "../unit.h"
#include "../pip_exec_cases.h"
#include "base/base.h"

/* The cases file beside this test's source, found from the binary
 * (build/tests/test_command: three levels below the repository). */
static char *cases_path(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		die_errno("/proc/self/exe");
	exe[n] = '\0';
	for (int i = 0; i < 3 && (slash = strrchr(exe, '/')); i++)
		*slash = '\0';
	return xasprintf("%s/tests/unit/pip/is_pip_cases.txt", exe);
}

static void test_cases(void)
{
	autofree char *path = cases_path();
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0, cases = 0;
	ssize_t len;

	CHECK(f != NULL, "%s: %m", path);
	if (!f)
		return;
	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *words[64];
		size_t n = 0;
		char *save = line, *w;
		bool want;

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		want = line[0] == '1';
		CHECK((line[0] == '0' || line[0] == '1') && (line[1] == '\0' || line[1] == '\t'),
		      "%s:%zu: a case starts with 0 or 1 and a TAB", path, lineno);
		strsep(&save, "\t");
		while (save && n + 1 < ARRAY_SIZE(words) && (w = strsep(&save, "\t")))
			words[n++] = w;
		words[n] = NULL;
		CHECK(pip_argv_is_pip(words) == want, "%s:%zu: %s is %spip", path, lineno,
		      n ? words[0] : "(empty argv)", want ? "" : "not ");
		cases++;
	}
	free(line);
	fclose(f);
	CHECK(cases >= 50, "%zu cases read from %s", cases, path);
}

static void test_names(void)
{
	CHECK(pip_name_is_pip("/a/b/pip3.11"), "pip3.11");
	CHECK(!pip_name_is_pip("/a/pip/x"), "a directory named pip is not the word");
	CHECK(!pip_name_is_pip(""), "empty");
}

static void test_start(void)
{
	static const struct { const char *argv[8]; size_t start; } cases[] = {
		{ { "pip", "install", "x" }, 1 },
		{ { "/venv/bin/python3", "/venv/bin/pip", "install" }, 2 },
		{ { "python3", "-m", "pip", "install" }, 3 },
		{ { "python3", "-I", "-m", "pip", "install" }, 4 },
		{ { "python3", "/x/pip/__pip-runner__.py", "install" }, 2 },
		{ { "/bin/rm", "-r", "requirements.txt" }, 0 },
		{ { "pipx", "install", "pip" }, 3 },
		{ { NULL }, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_INT_EQ(pip_argv_start(cases[i].argv), cases[i].start);
	CHECK_INT_EQ(pip_argv_start(NULL), 0);
}

/* The rule of trust (pip/anchor.c) on every case of pip_exec_cases.txt,
 * which the kernel's side (tests/unit/observe/test_pip_exec.c) runs too;
 * and the anchors' text, written and read back. */
static void test_exec_cases(void)
{
	static struct exec_table t;
	static const struct pip_file file_of[] = {
		[EXEC_OTHER] = { 1, 3 }, [EXEC_INTERP] = { 1, 1 }, [EXEC_TOOL] = { 1, 2 },
	};
	struct pip_anchors a = { .interps = { file_of[EXEC_INTERP] }, .n_interps = 1,
				 .tools = { file_of[EXEC_TOOL] }, .n_tools = 1 };
	static struct pip_anchors back;
	char *text = NULL;
	size_t bad = 0, len = 0;
	FILE *f;

	CHECK(exec_table_load(&t, &bad) == 0, "pip_exec_cases.txt: line %zu is neither an entry nor a "
	      "case", bad);
	for (size_t i = 0; i < t.n_entries; i++)
		a.entries[a.n_entries++] = t.entries[i];
	a.rw[a.n_rw++] = "/tmp";
	a.build_path = "/usr/share/python-wheels/wheel-0.38.4-py3-none-any.whl";
	for (size_t i = 0; i < t.n_cases; i++) {
		const struct exec_case *c = &t.cases[i];
		bool got = pip_exec_is_pip(&a, file_of[c->file].dev, file_of[c->file].ino, c->argv);

		CHECK(got == (bool)c->want, "pip_exec_cases.txt:%zu: user space says %d, the table %d: %s %s",
		      c->lineno, got, c->want, c->argv[0], c->argc > 1 ? c->argv[1] : "");
	}
	CHECK(t.n_cases >= 30, "only %zu cases", t.n_cases);
	/* what the preload library reads is what the supervisor wrote */
	f = open_memstream(&text, &len);
	CHECK(f && pip_anchors_write(&a, f) == 0 && fclose(f) == 0, "anchors written");
	CHECK(text && pip_anchors_parse(text, &back) == 0, "anchors read back");
	CHECK_INT_EQ(back.n_interps, 1);
	CHECK_INT_EQ(back.n_tools, 1);
	CHECK_INT_EQ(back.n_entries, a.n_entries);
	CHECK_INT_EQ(back.n_rw, 1);
	CHECK(back.n_entries && !strcmp(back.entries[0], a.entries[0]), "the first entry");
	CHECK(back.build_path && !strcmp(back.build_path, a.build_path), "the builds' wheel");
	{
		char none[] = "interp 1 1\n";
		char relative[] = "buildpath wheel.whl\n";

		CHECK(pip_anchors_parse(none, &back) == 0 && !back.build_path, "no builds' wheel");
		CHECK(pip_anchors_parse(relative, &back) < 0, "a relative builds' wheel is refused");
	}
	{
		char junk[] = "interp 1 1\nentry relative/path\n";

		CHECK(pip_anchors_parse(junk, &back) < 0, "a relative entry is refused");
	}
	free(text);
	free(t.text);
}

int main(void)
{
	test_cases();
	test_exec_cases();
	test_names();
	test_start();
	return unit_summary("test_command");
}
