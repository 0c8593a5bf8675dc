// SPDX-License-Identifier: GPL-2.0
/* The unix-socket guard's path logic alone, for
 * tests/unit/observe/test_unix_path.c: the same helpers the guard runs on
 * every pathname connect and datagram (bpf/helpers/unixpath.bpf.h), in a
 * syscall program that BPF_PROG_TEST_RUN starts on demand.  The test fills
 * the table (up_trees, up_index) as the supervisor does, writes a name into
 * test_in; this program normalises it, finds its tree and rewrites it, and
 * leaves the name the kernel would look up in test_out (test_answer 1), or
 * test_answer 0 when the guard refuses it. */
#include "helpers/unixpath.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Written by the test before each run. */
__u8 test_in[UP_IN];
__u32 test_len;   /* bytes of test_in (< UP_IN) */
/* Read by the test after each run: 1 rewritten to test_out, 0 refused,
 * -1 not run. */
char test_out[UP_SUN];
int test_answer = -1;

SEC("syscall")
int run_unix_path(void *ctx)
{
	struct up_state *s = up_state();
	struct up_final f = {};
	struct up_tree *t;
	__u32 len = test_len;

	test_answer = -1;
	if (!s || len >= UP_IN)
		return 1;
	bpf_probe_read_kernel(s->in, UP_IN, test_in);
	s->in_len = len;
	test_answer = 0;
	if (!up_normalise(s))
		return 0;
	t = up_match(s);
	if (!t || !up_rewrite(s, t, &f))
		return 0;
	bpf_probe_read_kernel(test_out, UP_SUN, f.sun);
	test_answer = 1;
	return 0;
}
