#!/bin/sh
# Egress proxy benchmark (issue 6): throughput through the proxy against
# direct on loopback for a large download, and the added latency per
# request (medians).  Usage: scripts/bench_proxy.sh [MB [RUNS [REQUESTS [PIPE_KIB]]]]
set -eu
cd "$(dirname "$0")/.."
# The Makefile links the proxy's layer (src/net/) and what it may call.
make -s build/bench/bench_proxy
exec build/bench/bench_proxy "$@"
