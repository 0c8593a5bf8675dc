/* The kernel's half of the one is-pip rule: every case of
 * tests/unit/pip/is_pip_cases.txt (the table user space's rule runs too)
 * through the BPF program's own pj_argv_is_pip (bpf/helpers/argv.bpf.h),
 * built into a tiny syscall program (is_pip.bpf.c) and run with
 * BPF_PROG_TEST_RUN.  Each case runs with the argv at three places of the
 * record (right at the start, after a short filename, after the longest
 * one): the answer must not depend on where the argv lies.  Needs root.
 *
 *   test_is_pip [CASES_FILE]   (default: the table, found from this binary) */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "tests/is_pip.skel.h"
#include "../unit.h"
#include "base/base.h"

/* The table, from build/tests/test_is_pip or build-san/tests/test_is_pip. */
static char *cases_path(void)
{
	char exe[PATH_MAX];

	if (!realpath("/proc/self/exe", exe))
		die_errno("/proc/self/exe");
	return xasprintf("%s/../../tests/unit/pip/is_pip_cases.txt", dirname(exe));
}

/* One line of the table: the argv as an exec record carries it (each word
 * followed by its NUL) into buf; the expected answer, or -1 for a line
 * that is no case (comment, blank). */
static int parse_case(char *line, unsigned char *buf, size_t cap, size_t *len)
{
	char *tab;
	int want;

	line[strcspn(line, "\n")] = 0;
	if (!line[0] || line[0] == '#')
		return -1;
	if (!strcmp(line, "0")) {
		*len = 0;               /* an empty argv */
		return 0;
	}
	tab = strchr(line, '\t');
	if (!tab || tab != line + 1 || (line[0] != '0' && line[0] != '1'))
		die("is_pip_cases.txt: a case is 0 or 1, a TAB, then the argv words: \"%s\"", line);
	want = line[0] - '0';
	*len = strlen(tab + 1) + 1;
	if (*len > cap)
		die("is_pip_cases.txt: argv longer than %zu bytes: \"%s\"", cap, line);
	memcpy(buf, tab + 1, *len);
	for (size_t i = 0; i < *len; i++)
		if (buf[i] == '\t')
			buf[i] = 0;
	return want;
}

/* pj_argv_is_pip on len bytes of argv placed at off in the record. */
static int kernel_is_pip(struct is_pip_bpf *skel, const unsigned char *argv, size_t len, __u32 off)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	memset(skel->bss->test_argv, 0, sizeof(skel->bss->test_argv));
	memcpy(skel->bss->test_argv, argv, len);
	skel->bss->test_len = len;
	skel->bss->test_off = off;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.run_argv_is_pip), &run) < 0 ||
	    run.retval != 0)
		return -1;
	return skel->data->test_answer;
}

/* Only the record buffer (map recs) is used: the monitor's other maps (a
 * 16 MiB ring buffer, task storage) are not created. */
static struct is_pip_bpf *load(void)
{
	struct is_pip_bpf *skel = is_pip_bpf__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj)
		if (!bpf_map__is_internal(map) && map != skel->maps.recs)
			bpf_map__set_autocreate(map, false);
	if (is_pip_bpf__load(skel)) {
		is_pip_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

int main(int argc, char **argv)
{
	static const __u32 offs[] = { 0, sizeof("/usr/bin/pip3"), EV_PATH_MAX };
	char *path = argc > 1 ? xstrdup(argv[1]) : cases_path(), *line = NULL;
	unsigned char buf[EV_ARGV_MAX];
	struct is_pip_bpf *skel;
	size_t cap = 0, len;
	int n = 0, lineno = 0;
	FILE *f;

	if (geteuid() != 0) {
		printf("test_is_pip: SKIPPED (needs root)\n");
		return 0;
	}
	f = fopen(path, "re");
	if (!f)
		die_errno("%s", path);
	skel = load();
	CHECK(skel != NULL, "cannot load is_pip.bpf.o: %s", strerror(errno));
	while (skel && getline(&line, &cap, f) >= 0) {
		int want = parse_case(line, buf, sizeof(buf), &len);

		lineno++;
		if (want < 0)
			continue;
		n++;
		for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
			int got = kernel_is_pip(skel, buf, len, offs[i]);

			CHECK(got == want, "%s:%d (argv at %u): the kernel says %d, the table %d: %s", path,
			      lineno, offs[i], got, want, line + 2);
		}
	}
	CHECK(n >= 20, "only %d cases in %s", n, path);
	printf("test_is_pip: %d cases of %s\n", n, path);
	fclose(f);
	free(line);
	free(path);
	if (skel)
		is_pip_bpf__destroy(skel);
	return unit_summary("test_is_pip");
}
