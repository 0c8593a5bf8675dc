#!/bin/sh
# Egress proxy benchmark (issue 6): throughput through the proxy against
# direct on loopback for a large download, and the added latency per
# request (medians).  Usage: scripts/bench_proxy.sh [MB [RUNS [REQUESTS [PIPE_KIB]]]]
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
mkdir -p build/bench
$CC -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wshadow -D_GNU_SOURCE -Isrc -Iinclude \
	-o build/bench/bench_proxy tests/bench/bench_proxy.c src/proxy.c src/hostrule.c src/util.c -lcjson
exec build/bench/bench_proxy "$@"
