// SPDX-License-Identifier: GPL-2.0
/* The kernel's is-pip decision alone, for tests/unit/observe/test_is_pip.c:
 * the same helper the monitor runs at every exec (bpf/helpers/argv.bpf.h,
 * pj_argv_is_pip), in a syscall program that BPF_PROG_TEST_RUN starts on
 * demand.  The test writes an argv (NUL-separated bytes, as an exec record
 * carries them) into test_argv, this program copies it into the per-CPU
 * record at test_off, as pj_exec leaves it after the filename, and stores
 * the answer in test_answer. */
#include "helpers/argv.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Written by the test before each run. */
__u8 test_argv[EV_ARGV_MAX];
__u32 test_len;   /* bytes of test_argv (<= EV_ARGV_MAX) */
__u32 test_off;   /* where the argv starts in the record's data (<= EV_PATH_MAX) */
/* Read by the test after each run: 1 pip, 0 not pip, -1 not run. */
int test_answer = -1;

SEC("syscall")
int run_argv_is_pip(void *ctx)
{
	struct rec_buf *rb = rec_get();
	__u32 off = test_off, len = test_len;

	test_answer = -1;
	if (!rb || off > EV_PATH_MAX || len > EV_ARGV_MAX)
		return 1;
	bpf_probe_read_kernel(&rec_of(rb)->data[off], EV_ARGV_MAX, test_argv);
	test_answer = pj_argv_is_pip(off, len);
	return 0;
}
