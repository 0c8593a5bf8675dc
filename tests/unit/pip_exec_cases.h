/* The table of tests/unit/pip/pip_exec_cases.txt, read the same way for
 * the kernel's side (tests/unit/observe/test_pip_exec.c) and user space's
 * (tests/unit/pip/test_command.c), so that both run exactly the same
 * cases.  Header-only: each test includes it once. */
#ifndef PIPJAIL_TEST_PIP_EXEC_CASES_H
#define PIPJAIL_TEST_PIP_EXEC_CASES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXEC_CASE_WORDS 16
enum exec_file { EXEC_OTHER, EXEC_INTERP, EXEC_TOOL };

struct exec_case {
	int want;                         /* 1 pip, 0 not */
	enum exec_file file;
	char *argv[EXEC_CASE_WORDS + 1];  /* NULL-terminated, into text */
	size_t argc;
	size_t lineno;
};

struct exec_table {
	char *text;                       /* the file, cut in place */
	const char *entries[64];
	size_t n_entries;
	struct exec_case cases[256];
	size_t n_cases;
};

/* The file beside this header, found from a test binary three levels
 * below the repository (build/tests/test_x). */
static inline char *exec_cases_path(void)
{
	static char path[4096 + 64];
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (int i = 0; i < 3 && (slash = strrchr(exe, '/')); i++)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/tests/unit/pip/pip_exec_cases.txt", exe);
	return path;
}

/* Read the table; a line that is neither an entry nor a case is an error
 * (-1, with its number in *bad). */
static inline int exec_table_load(struct exec_table *t, size_t *bad)
{
	const char *path = exec_cases_path();
	FILE *f = path ? fopen(path, "re") : NULL;
	size_t cap = 1 << 16, len, lineno = 0;
	char *line, *next;

	memset(t, 0, sizeof(*t));
	if (!f || !(t->text = calloc(1, cap)))
		return -1;
	len = fread(t->text, 1, cap - 1, f);
	fclose(f);
	t->text[len] = '\0';
	for (line = t->text; line && *line; line = next) {
		struct exec_case *c = &t->cases[t->n_cases];
		char *w;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(line, "entry\t", 6) && t->n_entries < 64) {
			t->entries[t->n_entries++] = line + 6;
			continue;
		}
		*bad = lineno;
		if ((line[0] != '0' && line[0] != '1') || line[1] != '\t' || t->n_cases >= 256)
			return -1;
		memset(c, 0, sizeof(*c));
		c->want = line[0] - '0';
		c->lineno = lineno;
		line += 2;
		w = strsep(&line, "\t");
		if (!strcmp(w, "interp"))
			c->file = EXEC_INTERP;
		else if (!strcmp(w, "tool"))
			c->file = EXEC_TOOL;
		else if (!strcmp(w, "other"))
			c->file = EXEC_OTHER;
		else
			return -1;
		while (line && c->argc < EXEC_CASE_WORDS)
			c->argv[c->argc++] = strsep(&line, "\t");
		t->n_cases++;
	}
	*bad = 0;
	return 0;
}

#endif
