#!/usr/bin/python3
"""Run pipjail's whole test suite: `sudo make check` calls this.

One pytest session over tests/: the C unit tests (test_unit.py) once, the
integration tests (test_jail.py, test_cli.py) once per pipjail binary:
./pipjail, and ./pipjail-san (ASan/UBSan, `make SANITIZE=1`) when it is
built.  Extra arguments go to pytest (e.g. `-k decoy`, `-x`).

The last line is pytest's summary; the exit status is pytest's, except
that "no tests collected" counts as a failure.
"""
import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
PYTHON = "/usr/bin/python3"


def binaries():
    if os.environ.get("PIPJAIL_BINS"):
        return [os.path.abspath(b) for b in os.environ["PIPJAIL_BINS"].split(":") if b]
    if os.environ.get("PIPJAIL_BIN"):
        return [os.path.abspath(os.environ["PIPJAIL_BIN"])]
    found = [os.path.join(REPO, "pipjail")]  # required: missing is a test failure
    san = os.path.join(REPO, "pipjail-san")
    if os.access(san, os.X_OK):
        found.append(san)
    return found


def main():
    if os.geteuid() != 0:
        print("tests/run.py: the tests run jails and need root: sudo make check", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env["PIPJAIL_BINS"] = ":".join(binaries())
    env["PYTHONDONTWRITEBYTECODE"] = "1"   # keep the tree clean
    extra = sys.argv[1:]
    # Paths given on the command line replace the default (all of tests/).
    where = [] if any(os.path.exists(a.split("::")[0]) for a in extra) else [TESTS]
    cmd = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", TESTS,
           "-q", "-rfEs", "--tb=short", "--strict-markers"] + where + extra
    print("tests/run.py: binaries under test: " + ", ".join(env["PIPJAIL_BINS"].split(":")),
          flush=True)
    rc = subprocess.run(cmd, cwd=REPO, env=env).returncode
    if rc == 5:  # pytest: no tests collected
        print("tests/run.py: no tests were collected", file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
