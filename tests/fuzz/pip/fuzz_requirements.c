/* libFuzzer target for the requirements-file reader (src/pip/requirements.c):
 * the files come from the project being installed.  The input is the text
 * of one file; nested -r/-c files are "opened" as the same input again
 * (a loop the reader must end), ${VAR} is expanded from a small
 * environment.  Checks the invariants callers rely on: a line number
 * within the file, NUL-terminated words, a requirement never empty.
 *
 *   make fuzz FUZZ_TIME=60   (corpus and crash inputs: tests/fuzz/corpus/requirements/)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pip/pip.h"

static const uint8_t *input;
static size_t input_len;
static unsigned max_line;

/* Every nested file is the input again, through a memfd (a regular file). */
static int open_input(const char *path, void *ctx)
{
	int fd = memfd_create("req", MFD_CLOEXEC);

	(void)path;
	(void)ctx;
	if (fd < 0)
		return -1;
	if (write(fd, input, input_len) != (ssize_t)input_len || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int on_line(void *ctx, const struct pip_req_line *l)
{
	(void)ctx;
	if (!l->file || !l->words || l->line == 0 || l->line > max_line)
		abort();
	if (l->requirement && !l->requirement[0])
		abort();
	for (size_t i = 0; l->words[i]; i++)
		if (strlen(l->words[i]) > input_len + 64)
			abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *envp[] = { "A=1", "TOKEN=${TOKEN}${TOKEN}", "EMPTY=", NULL };
	struct pip_req_reader r = { .open_file = open_input, .envp = envp, .on_line = on_line };

	if (size > 16384)
		return 0;
	input = data;
	input_len = size;
	/* physical lines: at most one per byte, and one more */
	max_line = (unsigned)size + 1;
	pip_requirements_parse(&r, "/p/requirements.txt", (const char *)data, size, false);
	pip_requirements_done(&r);
	pip_requirements_read(&r, "requirements.txt", "/p", true);
	pip_requirements_done(&r);
	return 0;
}
