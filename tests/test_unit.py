"""The C unit tests (tests/unit/test_*.c, built into build/tests/): each
binary is one test that must exit 0."""
import glob
import os
import subprocess

import pytest

from lib.pj import REPO

SOURCES = sorted(glob.glob(os.path.join(REPO, "tests", "unit", "*", "test_*.c")))
BUILT = os.path.join(REPO, "build", "tests")


def _name(src):
    return os.path.basename(src)[:-2]


def test_every_unit_test_is_built():
    missing = [_name(s) for s in SOURCES if not os.access(os.path.join(BUILT, _name(s)), os.X_OK)]
    assert not missing, f"not built (run `make check`): {', '.join(missing)}"


@pytest.mark.parametrize("name", [_name(s) for s in SOURCES] or
                         [pytest.param("none", marks=pytest.mark.skip(reason="no tests/unit/test_*.c yet"))])
def test_unit(name):
    binary = os.path.join(BUILT, name)
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is not built")
    r = subprocess.run([binary], capture_output=True, text=True, errors="replace",
                       timeout=300, cwd=REPO)
    assert r.returncode == 0, f"{name} exited {r.returncode}\n{r.stdout}{r.stderr}"
