/* libFuzzer target for the trace reader: `pipjail trace-check` and
 * `pipjail replay` read traces that may come from anywhere (an analyst's
 * suspicious sample, a CI artifact).  The input is written to a memfd and
 * validated as a whole file, header to summary.
 *
 * Built and run by `make fuzz` (FUZZ_TIME seconds per target); crash
 * inputs go to tests/fuzz/corpus/trace/.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "observe/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd = memfd_create("fuzz-trace", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		trace_check_file(path, NULL, err, sizeof(err));
	}
	close(fd);
	return 0;
}
