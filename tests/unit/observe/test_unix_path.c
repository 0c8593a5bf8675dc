/* The unix-socket guard's path logic (bpf/helpers/unixpath.bpf.h), run by
 * the kernel: every case of tests/unit/observe/unix_path_cases.txt through
 * a syscall program built on the guard's own helpers (unix_path.bpf.c),
 * with the table filled and frozen by the code the supervisor uses
 * (unixguard_fill).  Needs root.
 *
 *   test_unix_path [CASES_FILE]   (default: the table, found from this binary) */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "unixguard_abi.h"
#include "tests/unix_path.skel.h"
#include "observe/monitor.h"
#include "../unit.h"
#include "base/base.h"

static char *cases_path(void)
{
	char exe[PATH_MAX];

	if (!realpath("/proc/self/exe", exe))
		die_errno("/proc/self/exe");
	return xasprintf("%s/../../tests/unit/observe/unix_path_cases.txt", dirname(exe));
}

/* "\0" in the table is a NUL byte; the length of the result. */
static size_t unescape(char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1] == '0') {
			s[o++] = 0;
			i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = 0;
	return o;
}

/* 1 and the name in out, 0 refused, -1 the run failed. */
static int kernel_where(struct unix_path_bpf *skel, const char *name, size_t len, char *out, size_t cap)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	memset(skel->bss->test_in, 0, sizeof(skel->bss->test_in));
	memcpy(skel->bss->test_in, name, len);
	skel->bss->test_len = (__u32)len;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.run_unix_path), &run) < 0 || run.retval != 0)
		return -1;
	snprintf(out, cap, "%.*s", (int)sizeof(skel->bss->test_out), skel->bss->test_out);
	return skel->data->test_answer;
}

int main(int argc, char **argv)
{
	char *path = argc > 1 ? xstrdup(argv[1]) : cases_path(), *line = NULL;
	struct unixguard_tree trees[UP_TREES];
	struct unix_path_bpf *skel = NULL;
	size_t cap = 0, n_trees = 0;
	int n = 0, lineno = 0;
	bool filled = false;
	char err[256];
	FILE *f;

	if (geteuid() != 0) {
		printf("test_unix_path: SKIPPED (needs root)\n");
		return 0;
	}
	f = fopen(path, "re");
	if (!f)
		die_errno("%s", path);
	skel = unix_path_bpf__open_and_load();
	CHECK(skel != NULL, "cannot load unix_path.bpf.o: %s", strerror(errno));
	while (skel && getline(&line, &cap, f) >= 0) {
		char *tab, got[UP_SUN + 1];
		size_t len;
		int answer;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(line, "tree\t", 5)) {
			char *p = line + 5, *m = strchr(p, '\t');

			if (!m || n_trees == UP_TREES)
				die("%s:%d: tree TAB PATH TAB MIRROR", path, lineno);
			*m++ = 0;
			trees[n_trees++] = (struct unixguard_tree){ xstrdup(p), strcmp(m, "-") ? xstrdup(m) : NULL };
			continue;
		}
		if (!filled) {
			filled = unixguard_fill(bpf_map__fd(skel->maps.up_trees), bpf_map__fd(skel->maps.up_index),
						trees, n_trees, err, sizeof(err)) == 0;
			CHECK(filled, "unixguard_fill: %s", err);
			if (!filled)
				break;
		}
		tab = strchr(line, '\t');
		if (!tab)
			die("%s:%d: NAME TAB WHERE", path, lineno);
		*tab++ = 0;
		len = unescape(line);
		answer = kernel_where(skel, line, len, got, sizeof(got));
		n++;
		if (!strcmp(tab, "-") || !strcmp(tab, "x"))
			CHECK(answer == 0, "%s:%d: %s is refused, not sent to %s (answer %d)", path, lineno, line,
			      got, answer);
		else
			CHECK(answer == 1 && !strcmp(got, tab), "%s:%d: %s goes to %s, not %s (answer %d)", path,
			      lineno, line, tab, answer == 1 ? got : "(refused)", answer);
	}
	/* the table is frozen: no one changes it while a jail runs */
	if (skel && filled) {
		struct up_tree v = { .len = 4, .mlen = 8, .path = "/etc", .mirror = "/dev/.u9" };
		__u32 k = (__u32)n_trees;

		CHECK(bpf_map_update_elem(bpf_map__fd(skel->maps.up_trees), &k, &v, BPF_ANY) < 0,
		      "the frozen table took a new entry");
	}
	/* what unixguard_fill refuses */
	if (skel) {
		struct unixguard_tree bad[] = { { "/tmp/../etc", "/dev/.u0" }, { "tmp", "/dev/.u0" },
						 { "/", "/dev/.u0" }, { "/tmp/", "/dev/.u0" },
						 { "/tmp", "/dev/.u0123456789abcdef" } };

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
			CHECK(unixguard_fill(bpf_map__fd(skel->maps.up_trees), bpf_map__fd(skel->maps.up_index),
					     &bad[i], 1, err, sizeof(err)) < 0 && strstr(err, "unix guard"),
			      "unixguard_fill took the tree %s -> %s", bad[i].path, bad[i].mirror);
	}
	CHECK(n >= 40, "only %d cases in %s", n, path);
	printf("test_unix_path: %d cases of %s\n", n, path);
	for (size_t i = 0; i < n_trees; i++) {
		free((char *)trees[i].path);
		free((char *)trees[i].mirror);
	}
	fclose(f);
	free(line);
	free(path);
	unix_path_bpf__destroy(skel);
	return unit_summary("test_unix_path");
}
