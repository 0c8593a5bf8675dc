"""Fixtures for pipjail's test suite.  Run it with `sudo make check` (or
`sudo /usr/bin/python3 tests/run.py`); the integration tests need root.

The integration tests run once per pipjail binary: PIPJAIL_BINS (colon
separated, set by tests/run.py to ./pipjail and ./pipjail-san when built),
else PIPJAIL_BIN, else <repo>/pipjail.
"""
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import pj as pjlib  # noqa: E402
from lib.bases import make_attack_bases  # noqa: E402

TEST_USER = os.environ.get("PIPJAIL_TEST_USER", "pjtest")

# Real-looking secrets planted in the test user's real home: the jail must
# show decoys at these paths, never these files.
SECRET_FILES = [
    ".ssh/id_rsa",
    ".aws/credentials",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    ".docker/config.json",
    ".kube/config",
    ".config/gh/hosts.yml",
]


def _binaries():
    if os.environ.get("PIPJAIL_BINS"):
        return [b for b in os.environ["PIPJAIL_BINS"].split(":") if b]
    return [os.environ.get("PIPJAIL_BIN", os.path.join(pjlib.REPO, "pipjail"))]


@pytest.fixture(scope="session")
def test_user():
    """The unprivileged user on whose behalf pipjail runs (SUDO_UID).
    Created when missing and removed afterwards; an existing user is kept."""
    if os.geteuid() != 0:
        pytest.fail("the integration tests need root: run `sudo make check`")
    created = False
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-U", "-s", "/bin/sh", TEST_USER], check=True)
        created = True
        pw = pwd.getpwnam(TEST_USER)
    yield pjlib.User(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)
    if created and not os.environ.get("PIPJAIL_TEST_KEEP_USER"):
        subprocess.run(["userdel", "-r", "-f", TEST_USER], capture_output=True)


@pytest.fixture(scope="session")
def planted_secrets(test_user):
    """Plant a unique fake secret at each SECRET_FILES path of the test
    user's real home; returns {relative path: content}.  Restores whatever
    was there before."""
    saved = {}
    planted = {}
    made_dirs = []
    for rel in SECRET_FILES:
        path = os.path.join(test_user.home, rel)
        parent = os.path.dirname(path)
        missing = []
        d = parent
        while not os.path.exists(d):
            missing.append(d)
            d = os.path.dirname(d)
        for d in reversed(missing):
            os.mkdir(d, 0o700)
            os.chown(d, test_user.uid, test_user.gid)
            made_dirs.append(d)
        if os.path.lexists(path):
            backup = path + ".pjtest-backup"
            os.rename(path, backup)
            saved[path] = backup
        content = f"PLANTED-REAL-SECRET-{secrets.token_hex(16)}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, content.encode())
        os.close(fd)
        os.chown(path, test_user.uid, test_user.gid)
        planted[rel] = content.strip()
    yield planted
    for rel in SECRET_FILES:
        path = os.path.join(test_user.home, rel)
        os.unlink(path)
        if path in saved:
            os.rename(saved[path], path)
    for d in reversed(made_dirs):
        try:
            os.rmdir(d)
        except OSError:
            pass


@pytest.fixture(scope="session", params=_binaries(), ids=os.path.basename)
def pj(request, test_user):
    """A pipjail binary under test, run as root for the test user."""
    binary = request.param
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is missing or not executable: run `make` first")
    return pjlib.Pipjail(binary, test_user)


@pytest.fixture(scope="session")
def session_dir():
    """A host directory that the jail shows read-only and every user can
    traverse.  Not under /tmp, /var/tmp, /home or /root: the jail hides
    those behind empty tmpfs."""
    base = os.environ.get("PIPJAIL_TEST_DIR", "/var/lib")
    d = tempfile.mkdtemp(prefix="pipjail-tests.", dir=base)
    os.chmod(d, 0o755)
    os.mkdir(os.path.join(d, "bin"), 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def workdir(session_dir, test_user, request):
    """A fresh directory owned by the test user (the user's own project dir)."""
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")[:80]
    d = tempfile.mkdtemp(prefix=name + ".", dir=session_dir)
    os.chmod(d, 0o755)
    os.chown(d, test_user.uid, test_user.gid)
    return d


@pytest.fixture(scope="session")
def attack_bases(session_dir, test_user):
    """Base venvs made once per session, copied for each case of the
    corpora (tests/lib/bases.py)."""
    return make_attack_bases(session_dir, test_user)


@pytest.fixture(scope="session")
def probe(session_dir):
    return pjlib.helper("probe", os.path.join(session_dir, "bin"))


@pytest.fixture(scope="session")
def escape(session_dir):
    return pjlib.helper("escape", os.path.join(session_dir, "bin"))


@pytest.fixture
def host_listener():
    """A TCP listener on the host's 127.0.0.1 (non-blocking): the jail's
    loopback is its own, so it must never see a connection from inside."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.setblocking(False)
    yield s
    s.close()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "corpus: the attack and benign corpora (many real pip installs); they run "
        "against the release build only, unless PIPJAIL_CORPUS_SAN=1")


def pytest_collection_modifyitems(config, items):
    """The corpora install dozens of packages each; under ASan/UBSan that
    would double the suite's time for code paths the other integration
    tests already run in the sanitizer build.  PIPJAIL_CORPUS_SAN=1 runs
    them there too."""
    if os.environ.get("PIPJAIL_CORPUS_SAN") == "1":
        return
    keep, drop = [], []
    for item in items:
        binary = getattr(getattr(item, "callspec", None), "params", {}).get("pj", "")
        if item.get_closest_marker("corpus") and str(binary).endswith("-san"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
