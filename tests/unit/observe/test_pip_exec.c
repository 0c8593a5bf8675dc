/* The kernel's half of the one rule of trust: every case of
 * tests/unit/pip/pip_exec_cases.txt (the table user space's rule runs too,
 * tests/unit/pip/test_command.c) through the BPF program's own
 * pj_exec_is_pip (bpf/helpers/trust.bpf.h), built into a tiny syscall
 * program (pip_exec.bpf.c) and run with BPF_PROG_TEST_RUN.  Each case runs
 * with the argv at three places of the record (right at the start, after a
 * short filename, after the longest one): the answer must not depend on
 * where the argv lies.  Needs root. */
#include <errno.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "tests/pip_exec.skel.h"
#include "../unit.h"
#include "../pip_exec_cases.h"
#include "base/base.h"

/* The files of the table, as (dev, ino) pairs the kernel compares. */
static const struct pj_inode file_of[] = {
	[EXEC_OTHER] = { 1, 3 }, [EXEC_INTERP] = { 1, 1 }, [EXEC_TOOL] = { 1, 2 },
};

static int register_anchors(struct pip_exec_bpf *skel, const struct exec_table *t)
{
	__u32 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.pip_interp), &file_of[EXEC_INTERP], &one, 0) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.pip_tool), &file_of[EXEC_TOOL], &one, 0))
		return -1;
	skel->bss->n_pip_interp = 1;
	skel->bss->n_pip_tool = 1;
	for (size_t i = 0; i < t->n_entries; i++) {
		struct pj_entry k = { 0 };

		snprintf(k.path, sizeof(k.path), "%s", t->entries[i]);
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.pip_entry), &k, &one, 0))
			return -1;
	}
	return 0;
}

/* pj_exec_is_pip on a case, its argv placed at off in the record. */
static int kernel_answer(struct pip_exec_bpf *skel, const struct exec_case *c, __u32 off)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	size_t len = 0;

	memset(skel->bss->test_argv, 0, sizeof(skel->bss->test_argv));
	for (size_t i = 0; i < c->argc; i++) {
		size_t n = strlen(c->argv[i]) + 1;

		memcpy(skel->bss->test_argv + len, c->argv[i], n);
		len += n;
	}
	skel->bss->test_len = (__u32)len;
	skel->bss->test_off = off;
	skel->bss->test_dev = file_of[c->file].dev;
	skel->bss->test_ino = file_of[c->file].ino;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.run_exec_is_pip), &run) < 0 ||
	    run.retval != 0)
		return -1;
	return skel->data->test_answer;
}

/* The maps the rule reads, and the record buffer; not the monitor's
 * others (a 16 MiB ring buffer, task storage). */
static struct pip_exec_bpf *load(void)
{
	static const char *const used[] = { "recs", "pip_interp", "pip_tool", "pip_entry", "entry_key" };
	struct pip_exec_bpf *skel = pip_exec_bpf__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj) {
		bool keep = bpf_map__is_internal(map);

		for (size_t i = 0; i < ARRAY_SIZE(used); i++)
			keep |= !strcmp(bpf_map__name(map), used[i]);
		if (!keep)
			bpf_map__set_autocreate(map, false);
	}
	if (pip_exec_bpf__load(skel)) {
		pip_exec_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

int main(void)
{
	static const __u32 offs[] = { 0, sizeof("/usr/bin/python3"), EV_PATH_MAX };
	static struct exec_table t;
	struct pip_exec_bpf *skel;
	size_t bad = 0;

	if (geteuid() != 0) {
		printf("test_pip_exec: SKIPPED (needs root)\n");
		return 0;
	}
	CHECK(exec_table_load(&t, &bad) == 0, "pip_exec_cases.txt: line %zu is neither an entry nor a case",
	      bad);
	skel = load();
	CHECK(skel != NULL, "cannot load pip_exec.bpf.o: %s", strerror(errno));
	CHECK(skel && register_anchors(skel, &t) == 0, "registering the anchors: %s", strerror(errno));
	for (size_t i = 0; skel && i < t.n_cases; i++) {
		const struct exec_case *c = &t.cases[i];

		for (size_t k = 0; k < ARRAY_SIZE(offs); k++) {
			int got = kernel_answer(skel, c, offs[k]);

			CHECK(got == c->want, "pip_exec_cases.txt:%zu (argv at %u): the kernel says %d, the "
			      "table %d: %s %s", c->lineno, offs[k], got, c->want, c->argv[0],
			      c->argc > 1 ? c->argv[1] : "");
		}
	}
	CHECK(t.n_cases >= 30, "only %zu cases", t.n_cases);
	printf("test_pip_exec: %zu cases, %zu entry points\n", t.n_cases, t.n_entries);
	free(t.text);
	if (skel)
		pip_exec_bpf__destroy(skel);
	return unit_summary("test_pip_exec");
}
