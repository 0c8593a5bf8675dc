#!/bin/sh
# make bench: what pipjail costs against plain pip, strace and unshare,
# measured in one run (paired, interleaved, medians).  Writes the table to
# stdout and to docs/benchmarks.md, the chart to docs/bench-overhead.svg.
# Needs root (the jail, the monitor).  Takes over an hour at the defaults:
# the real-world section alone installs 14 projects 3 ways for BENCH_ROUNDS
# (5) rounds, about 11 minutes a round on a loaded 2-CPU machine; lower the
# knobs (scripts/bench/bench.py) or pick BENCH_SECTIONS for a quicker run.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "pipjail: make bench needs root: run 'sudo make bench'" >&2
	exit 1
fi
for tool in strace gnuplot unshare setpriv ip cc; do
	command -v "$tool" >/dev/null || { echo "pipjail: bench: $tool is missing (sudo make deps)" >&2; exit 1; }
done
[ -x ./pipjail ] || { echo "pipjail: bench: ./pipjail is not built (make)" >&2; exit 1; }
# The storm helper: the Makefile builds it when it lives in tests/helpers/;
# otherwise bench.py compiles tests/bench/bench_storm.c itself.
if [ -f tests/helpers/storm.c ]; then
	${MAKE:-make} -s build/helpers/storm
fi
exec /usr/bin/python3 scripts/bench/bench.py "$@"
