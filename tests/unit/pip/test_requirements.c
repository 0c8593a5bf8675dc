/* Requirements and constraints files read as pip reads them: line breaks,
 * continuations, comments, ${VAR}, the requirement and the options of a
 * line, nested -r/-c relative to their file, loops and limits, and files
 * that must not be read (a FIFO, a URL). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pip/pip.h"
#include "../unit.h"
#include "base/base.h"

static char tmpdir[] = "/tmp/pipjail-test-requirements-XXXXXX";

/* What the reader hands on, one line of text per file and per line:
 *   F file [c]
 *   L line: requirement|- [e] [c] | words */
struct seen {
	char *text;
};

static void add(struct seen *s, char *line)
{
	char *n = xasprintf("%s%s\n", s->text ? s->text : "", line);

	free(s->text);
	free(line);
	s->text = n;
}

static const char *rel(const char *path)
{
	size_t n = strlen(tmpdir);

	return !strncmp(path, tmpdir, n) && path[n] == '/' ? path + n + 1 : path;
}

static int on_file(void *ctx, const char *file, bool constraint)
{
	add(ctx, xasprintf("F %s%s", rel(file), constraint ? " c" : ""));
	return 0;
}

static int on_line(void *ctx, const struct pip_req_line *l)
{
	char *w = xstrdup("");

	for (size_t i = 0; l->words[i]; i++) {
		char *n = xasprintf("%s %s", w, l->words[i]);

		free(w);
		w = n;
	}
	add(ctx, xasprintf("L%s %u: %s%s%s |%s", l->constraint ? "c" : "", l->line,
			   l->requirement ? l->requirement : "-", l->editable ? " [e]" : "",
			   "", w));
	free(w);
	return 0;
}

static char *parse(const char *text, char *const *envp)
{
	struct seen s = { 0 };
	struct pip_req_reader r = { .envp = envp, .on_file = on_file, .on_line = on_line, .ctx = &s };

	pip_requirements_parse(&r, "r.txt", text, strlen(text), false);
	pip_requirements_done(&r);
	return s.text ? s.text : xstrdup("");
}

static void expect_parse(const char *text, char *const *envp, const char *want)
{
	autofree char *got = parse(text, envp);

	CHECK(!strcmp(got, want), "\n--- text\n%s\n--- got\n%s--- want\n%s", text, got, want);
}

static void test_lines(void)
{
	char *env[] = { "TOKEN=s3cret", "EMPTY=", "lower=no", NULL };

	expect_parse("a\nb\r\nc\rd", NULL, "L 1: a |\nL 2: b |\nL 3: c |\nL 4: d |\n");
	/* a continuation takes the first line's number; a comment line ends it */
	expect_parse("numpy \\\n    ==1.26 \\\n    --hash=sha256:00\nnext\n", NULL,
		     "L 1: numpy     ==1.26 | --hash=sha256:00\nL 4: next |\n");
	expect_parse("--extra-index-url http://127.0.0.9:6/ \\\n   # continued\n-i X\n", NULL,
		     "L 1: - | --extra-index-url http://127.0.0.9:6/\nL 3: - | -i X\n");
	expect_parse("# a comment \\\nkept\n", NULL, "L 2: kept |\n");
	expect_parse("last \\", NULL, "L 1: last |\n");
	/* comments: at the start or after a blank */
	expect_parse("req # why\nurl#frag\n  # only\n", NULL, "L 1: req |\nL 2: url#frag |\n");
	/* ${NAME}: upper case, digits, '_'; set and not empty */
	expect_parse("-i https://${TOKEN}@h/ ${EMPTY} ${UNSET} ${lower} $TOKEN\n", env,
		     "L 1: - | -i https://s3cret@h/ ${EMPTY} ${UNSET} ${lower} $TOKEN\n");
	expect_parse("x ${TOKEN}\n", NULL, "L 1: x ${TOKEN} |\n");
	/* the requirement is the words before the first option; options split as a shell would */
	expect_parse("foo >= 1 ; python_version > '3' --hash 'sha256:a b' \"q\\\"x\" --x=-y\n", NULL,
		     "L 1: foo >= 1 ; python_version > '3' | --hash sha256:a b q\"x --x=-y\n");
	expect_parse("-e ./src --pre\n-e git+https://h/x.git#egg=X\n", NULL,
		     "L 1: ./src [e] | -e ./src --pre\nL 2: git+https://h/x.git#egg=X [e] | -e git+https://h/x.git#egg=X\n");
	expect_parse("\n\n   \n", NULL, "");
}

static void put(const char *rel_path, const char *text)
{
	autofree char *p = xasprintf("%s/%s", tmpdir, rel_path);
	autofree char *d = xstrdup(p);

	*strrchr(d, '/') = '\0';
	CHECK(mkdir_p(d, 0755) == 0 && write_file(p, text) == 0, "writing %s", p);
}

static char *read_top(const char *path, bool constraint)
{
	struct seen s = { 0 };
	struct pip_req_reader r = { .on_file = on_file, .on_line = on_line, .ctx = &s };

	pip_requirements_read(&r, path, tmpdir, constraint);
	pip_requirements_done(&r);
	return s.text ? s.text : xstrdup("");
}

static void expect_read(const char *path, bool constraint, const char *want)
{
	autofree char *got = read_top(path, constraint);

	CHECK(!strcmp(got, want), "reading %s\n--- got\n%s--- want\n%s", path, got, want);
}

static void test_files(void)
{
	put("requirements.txt", "alpha\n-r sub/base.txt\n-c cons.txt\n-r https://h/remote.txt\n"
				"-rmissing.txt\nbeta\n");
	put("sub/base.txt", "gamma\n--requirement=../sub/./loop.txt -i ignored\n");
	put("sub/loop.txt", "-r base.txt\ndelta\n");
	put("cons.txt", "pinned==1\n-r more.txt\n");
	put("more.txt", "epsilon\n");
	expect_read("requirements.txt", false,
		    "F requirements.txt\nL 1: alpha |\nF sub/base.txt\nL 1: gamma |\n"
		    "F sub/loop.txt\nL 2: delta |\nF cons.txt c\nLc 1: pinned==1 |\n"
		    "F more.txt\nL 1: epsilon |\nL 6: beta |\n");
	/* a FIFO is not read, and does not hang the reader */
	{
		autofree char *fifo = xasprintf("%s/fifo.txt", tmpdir);

		CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
		expect_read("fifo.txt", false, "");
	}
	expect_read("file:///etc/passwd", false, "");
	expect_read("nope.txt", false, "");
	/* a long chain of -r ends: at most PIP_REQ_MAX_FILES files */
	for (int i = 0; i < PIP_REQ_MAX_FILES + 5; i++) {
		autofree char *name = xasprintf("chain/%d.txt", i);
		autofree char *text = xasprintf("-r %d.txt\n", i + 1);

		put(name, text);
	}
	{
		autofree char *got = read_top("chain/0.txt", false);
		size_t files = 0;

		for (const char *p = got; (p = strstr(p, "F ")); p++)
			files++;
		CHECK(files <= PIP_REQ_MAX_DEPTH + 1 && files >= 5, "a chain stops (%zu files)", files);
	}
}

/* A callback that stops the reading. */
static int stop_at_two(void *ctx, const struct pip_req_line *l)
{
	(void)ctx;
	return l->line == 2 ? 7 : 0;
}

static void test_stop(void)
{
	struct pip_req_reader r = { .on_line = stop_at_two };

	CHECK_INT_EQ(pip_requirements_parse(&r, "x", "a\nb\nc\n", 6, false), 7);
	pip_requirements_done(&r);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die_errno("mkdtemp");
	test_lines();
	test_files();
	test_stop();
	{
		autofree char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd) != 0)
			warnx_("could not remove %s", tmpdir);
	}
	return unit_summary("test_requirements");
}
