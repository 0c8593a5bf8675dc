// SPDX-License-Identifier: GPL-2.0
/* The kernel's half of the one rule of trust alone, for
 * tests/unit/observe/test_pip_exec.c: the monitor's own pj_exec_is_pip
 * (bpf/helpers/trust.bpf.h) in a syscall program that BPF_PROG_TEST_RUN
 * starts on demand.  The test registers the anchors in the monitor's maps
 * (pip_interp, pip_tool, pip_entry, as monitor_set_anchors does), writes an
 * argv (NUL-separated bytes, as an exec record carries them) and the file
 * run (dev, ino); this program places them in the per-CPU record as pj_exec
 * leaves it and stores the answer in test_answer. */
#include "helpers/trust.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Written by the test before each run. */
__u8 test_argv[EV_ARGV_MAX];
__u32 test_len;   /* bytes of test_argv (<= EV_ARGV_MAX) */
__u32 test_off;   /* where the argv starts in the record's data (<= EV_PATH_MAX) */
__u64 test_dev, test_ino;
/* Read by the test after each run: 1 pip, 0 not pip, -1 not run. */
int test_answer = -1;

SEC("syscall")
int run_exec_is_pip(void *ctx)
{
	struct rec_buf *rb = rec_get();
	struct ev_record *r;
	__u32 off = test_off, len = test_len;

	test_answer = -1;
	if (!rb || off > EV_PATH_MAX || len > EV_ARGV_MAX)
		return 1;
	r = rec_of(rb);
	r->flags = EVF_FILE_VALID;
	r->dev = test_dev;
	r->ino = test_ino;
	bpf_probe_read_kernel(&r->data[off], EV_ARGV_MAX, test_argv);
	test_answer = pj_exec_is_pip(off, len);
	return 0;
}
