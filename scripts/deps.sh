#!/bin/sh
# Install the Debian packages pipjail needs to build and test, only those
# missing.  Run as root: `make deps` (the README gives `make deps check` and
# `make deps demo`).
set -eu

BUILD="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libseccomp-dev
       libcap-dev libcjson-dev pkg-config"
TEST="python3 python3-venv python3-pip-whl python3-setuptools-whl python3-wheel-whl
      python3-pytest python3-jsonschema libcap2-bin util-linux passwd procps strace gnuplot-nox
      python3-dev python3-setuptools python3-wheel python3-hatchling flit python3-poetry-core
      python3-mesonpy meson ninja-build cmake cython3 python3-cffi python3-pybind11
      pybind11-dev python3-setuptools-scm git g++ chromium curl binutils
      libyaml-dev libffi-dev libpq-dev python3-hatch-vcs python3-skbuild
      python3-setuptools-rust cargo rustc lsb-release slurm-wlm munge"
# The real-world corpus (../shared/realworld/README.md, last column) needs
# libyaml-dev (PyYAML), libffi-dev (bcrypt's cffi), libpq-dev (psycopg2's
# pg_config) and python3-hatch-vcs (filelock); the set-up tests
# (tests/test_realworld_setups.py) cargo, rustc and python3-setuptools-rust
# (a Rust extension), python3-skbuild (scikit-build), lsb-release (what pip
# runs on a stock Debian); the attack tests curl; test_benign objcopy;
# tests/test_slurm.py a one-node Slurm (slurm-wlm, munge).

missing=""
for p in $BUILD $TEST; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "pipjail: these Debian packages are missing:$missing" >&2
	echo "pipjail: run 'sudo make deps' (installing them needs root)" >&2
	exit 1
fi
echo "pipjail: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
