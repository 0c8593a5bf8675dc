"""The real-world corpus: release sources of real open-source projects
(../shared/realworld/, see its README.md) must install under pipjail's
default profile, in enforce mode, exactly as plain pip installs them.

Each archive is installed twice with the command of the corpus' README,

    VENV/bin/pip install --no-index --no-build-isolation --no-cache-dir \
        --find-links /usr/share/python-wheels ARCHIVE

run as the test user, from an empty directory of that user, into a venv
made by `/usr/bin/python3 -m venv --system-site-packages`: once with plain
pip, once under `pipjail --profile default` (no --audit, no --rw, no
--write-cwd: nothing a new user would not type).  Both venvs are at the
SAME path, so that the paths pip writes into the install (scripts'
shebangs, RECORD, direct_url.json) are the same: the venv is made at that
path once per session and kept aside as a pristine copy; each run starts
from `cp -a` of it at that path (the same bytes a fresh `python3 -m venv`
at that path would give, without ensurepip's 6 s per run), and each run's
result is snapshot before the next one replaces it.

What must hold for pipjail: exit 0, the last line of stderr is the clean
verdict, the JSON report says clean with no violation and names the
project's build, and the venv (and the working directory) are identical to
plain pip's, path by path: type, mode, owner, SHA-256 of the content,
symlink targets.  The comparison is test_benign's (snapshot/compare,
imported from there); what it normalizes is only what differs between two
plain pip runs too:

  * ELF objects (C, Cython, cffi, pybind11, CMake extensions): pip builds
    in a random /tmp/pip-req-build-*/ directory, which gcc writes into the
    DWARF data, and so into the GNU build-id: compared after
    `objcopy --strip-debug --remove-section=.note.gnu.build-id`;
  * the RECORD rows of those ELF files (their hash and size).

and what the environment of both runs fixes (both get the same):

  * PYTHONDONTWRITEBYTECODE=1: importing a module during the build or the
    test's own checks adds no .pyc; pip's own compilation still runs;
  * SOURCE_DATE_EPOCH: pip's .pyc files are then hash-based (PEP 552), so
    their bytes do not carry the time pip unpacked the source.

Nothing else is normalized: every other difference is a failure.

The pure-Python projects must also install clean under `--profile strict`.

Set PIPJAIL_REALWORLD to use another corpus directory (default:
<repo>/../shared/realworld); the tests are skipped only when the directory
is absent.  PIPJAIL_REALWORLD_KEEP=DIR keeps each pipjail run's report and
trace there; PIPJAIL_REALWORLD_TIMES=FILE appends one JSON line per run
(project, how, seconds).
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from lib import pj as pjlib
from test_benign import EPOCH, chown_tree, compare, snapshot

pytestmark = pytest.mark.corpus

REALWORLD = os.environ.get("PIPJAIL_REALWORLD",
                           os.path.join(os.path.dirname(pjlib.REPO), "shared", "realworld"))
PYTHON = "/usr/bin/python3"
SYSTEM_WHEELS = "/usr/share/python-wheels"
TIMEOUT = 900

# archive stem -> the distribution name its build must be reported under
PROJECTS = {
    "six-1.16.0": "six",
    "attrs-22.2.0": "attrs",
    "requests-2.28.2": "requests",
    "tomli-2.0.1": "tomli",
    "filelock-3.9.0": "filelock",
    "MarkupSafe-2.1.2": "MarkupSafe",
    "PyYAML-6.0": "PyYAML",
    "msgpack-1.0.4": "msgpack",
    "psutil-5.9.4": "psutil",
    "bcrypt-3.2.2": "bcrypt",
    "python_example-0.0.1": "python_example",
    "psycopg2-2.9.5": "psycopg2",
    "meson_python-0.12.0": "meson-python",
    "cmake_example-0.0.1": "cmake_example",
}
# What a user must set to build an archive at all, with plain pip as with
# pipjail (passed in pipjail's own environment, as a user would).  filelock
# takes its version from git through hatch-vcs; a `git archive` without
# .git_archival.txt has none, so setuptools-scm needs to be told (the
# documented way distributions build such archives).
PROJECT_ENV = {
    "filelock-3.9.0": {"SETUPTOOLS_SCM_PRETEND_VERSION": "3.9.0"},
}
PURE_PYTHON = ["six-1.16.0", "attrs-22.2.0", "requests-2.28.2", "tomli-2.0.1", "filelock-3.9.0"]


def archives():
    if not os.path.isdir(REALWORLD):
        return []
    return sorted(n[:-len(".tar.gz")] for n in os.listdir(REALWORLD) if n.endswith(".tar.gz"))


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def skip_without_corpus():
    if not os.path.isdir(REALWORLD):
        pytest.skip(f"no real-world corpus at {REALWORLD} (set PIPJAIL_REALWORLD to its "
                    "directory: ../shared/realworld beside the repository)")


class RealWorld:
    """The shared paths of every run: one venv path, one working directory."""

    def __init__(self, root, user):
        self.root = root
        self.user = user
        self.venv = os.path.join(root, "venv")
        self.cwd = os.path.join(root, "cwd")
        self.reports = os.path.join(root, "reports")
        self.pristine = None
        self.twins = {}

    def env(self):
        return {"PYTHONDONTWRITEBYTECODE": "1", "SOURCE_DATE_EPOCH": EPOCH}

    def base(self):
        """`python3 -m venv --system-site-packages` at self.venv, once, as
        the test user; then moved aside as the pristine copy."""
        if self.pristine:
            return self.pristine
        shutil.rmtree(self.venv, ignore_errors=True)
        r = pjlib.runuser(self.user, PYTHON, "-m", "venv", "--system-site-packages", self.venv,
                          timeout=300)
        assert r.returncode == 0, r
        self.pristine = os.path.join(self.root, "venv.pristine")
        os.rename(self.venv, self.pristine)
        return self.pristine

    def fresh(self):
        """A fresh venv and an empty working directory at the shared paths."""
        base = self.base()
        for path in (self.venv, self.cwd):
            shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["cp", "-a", base, self.venv], check=True)
        os.mkdir(self.cwd, 0o755)
        os.chown(self.cwd, self.user.uid, self.user.gid)

    def pip_args(self, archive):
        return [os.path.join(self.venv, "bin", "pip"), "install", "--no-index",
                "--no-build-isolation", "--no-cache-dir", "--find-links", SYSTEM_WHEELS,
                archive]

    def snapshot(self):
        return snapshot({"venv": self.venv, "cwd": self.cwd})

    def twin(self, name):
        """Plain pip, as the test user: the reference (once per session)."""
        if name in self.twins:
            return self.twins[name]
        self.fresh()
        r = pjlib.runuser(self.user, *self.pip_args(archive_path(name)),
                          env={**self.env(), **PROJECT_ENV.get(name, {})}, cwd=self.cwd,
                          timeout=TIMEOUT)
        log_time(name, "plain pip", r.elapsed)
        assert r.returncode == 0, \
            f"{name}: plain pip failed: a Debian package of the README is missing?\n{r}"
        self.twins[name] = self.snapshot()
        return self.twins[name]

    def jailed(self, pj, name, profile):
        """The same install under pipjail; returns (result, report dict)."""
        self.fresh()
        tag = f"{name}.{profile}.{pj.name}"
        report = os.path.join(self.reports, tag + ".json")
        trace = os.path.join(self.reports, tag + ".jsonl")
        for p in (report, trace):
            if os.path.exists(p):
                os.unlink(p)
        setenv = [a for k, v in self.env().items() for a in ("--setenv", f"{k}={v}")]
        r = pj.run("--profile", profile, "--report", report, "--trace", trace, *setenv, "--",
                   *self.pip_args(archive_path(name)), env=PROJECT_ENV.get(name),
                   cwd=self.cwd, timeout=TIMEOUT)
        log_time(name, f"pipjail {profile}", r.elapsed)
        keep = os.environ.get("PIPJAIL_REALWORLD_KEEP")
        if keep:
            os.makedirs(keep, exist_ok=True)
            for p in (report, trace):
                if os.path.exists(p):
                    shutil.copy(p, keep)
            with open(os.path.join(keep, tag + ".stderr"), "w") as f:
                f.write(str(r))
        rep = None
        if os.path.exists(report):
            with open(report) as f:
                rep = json.load(f)
        return r, rep


def archive_path(name):
    return os.path.join(REALWORLD, name + ".tar.gz")


def log_time(name, how, seconds):
    out = os.environ.get("PIPJAIL_REALWORLD_TIMES")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"project": name, "how": how, "seconds": round(seconds, 2)}) + "\n")


@pytest.fixture(scope="session")
def realworld(session_dir, test_user):
    skip_without_corpus()
    root = os.path.join(session_dir, "realworld")
    os.makedirs(os.path.join(root, "reports"), exist_ok=True)
    chown_tree(root, test_user)
    return RealWorld(root, test_user)


def assert_installed_like_plain_pip(rw, pj, name, profile):
    plain = rw.twin(name)
    r, rep = rw.jailed(pj, name, profile)

    # 1. Clean: exit 0, the clean verdict last, nothing flagged.
    assert r.returncode == 0, f"{name}: pipjail ({profile}) failed where plain pip installs:\n{r}"
    last = pjlib.verdict_line(r)
    assert last.startswith("pipjail: verdict: clean (") and last.endswith("exit 0)"), \
        f"{name}: the last line is not the clean verdict: {last!r}\n{r}"
    pjlib.assert_clean(r)
    assert rep is not None, f"{name}: no JSON report written\n{r}"
    assert rep["verdict"] == "clean" and rep["violations"] == [], \
        f"{name}: report {rep['verdict']}: {json.dumps(rep['violations'], indent=1)}\n{r}"
    assert rep["exit"]["code"] == 0 and not rep["killed"] and not rep["incomplete"], rep
    # One project, one entry: its build hooks and its import check under
    # one name (PEP 503: python_example and python-example are one).
    want = canonical(PROJECTS[name])
    entries = [p for p in rep["packages"] if canonical(p["name"]) == want]
    assert len(entries) == 1, \
        f"{name}: the report should name its one build once, as {PROJECTS[name]}: " \
        f"{json.dumps(rep['packages'], indent=1)}\n{r}"
    pkg = entries[0]
    assert pkg["verdict"] == "clean" and pkg["violations"] == 0 and pkg["hooks"], pkg

    # 2. The same venv as plain pip's, file by file.
    problems, normalized = compare(plain, rw.snapshot())
    assert not problems, (f"{name}: pipjail's venv differs from plain pip's:\n  "
                          + "\n  ".join(problems[:60]) + f"\n{r}")
    print(f"{name} ({profile}): identical to plain pip" +
          (" after normalizing:\n  " + "\n  ".join(normalized) if normalized else ""))

    # 3. And what was installed imports (outside the jail, as the user).
    mod = {"PyYAML-6.0": "yaml", "psycopg2-2.9.5": "psycopg2", "meson_python-0.12.0": "mesonpy",
           "MarkupSafe-2.1.2": "markupsafe"}.get(name, PROJECTS.get(name, name).split("-")[0])
    chk = pjlib.runuser(rw.user, os.path.join(rw.venv, "bin", "python"), "-c", f"import {mod}",
                        env=rw.env(), cwd=rw.cwd)
    assert chk.returncode == 0, f"{name}: `import {mod}` fails after pipjail's install\n{chk}"


def test_the_corpus_is_complete():
    """Every archive the README lists is there, and this test knows each."""
    skip_without_corpus()
    with open(os.path.join(REALWORLD, "README.md")) as f:
        readme = f.read()
    listed = [line.split("|")[1].strip() for line in readme.splitlines()
              if line.startswith("| ") and not line.startswith("| archive")
              and not line.startswith("| ---")]
    assert sorted(listed) == sorted(archives()), (listed, archives())
    assert sorted(archives()) == sorted(PROJECTS), \
        f"the test's project list is out of date: {sorted(set(archives()) ^ set(PROJECTS))}"


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_realworld_project_installs_clean_and_identical(pj, realworld, name):
    assert_installed_like_plain_pip(realworld, pj, name, "default")


@pytest.mark.parametrize("name", PURE_PYTHON)
def test_realworld_pure_python_project_is_clean_under_strict(pj, realworld, name):
    assert_installed_like_plain_pip(realworld, pj, name, "strict")
