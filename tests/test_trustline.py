"""The trust line (issue 14): pip on one side, package code on the other.
Package code can never act as pip, change what pip runs, reach the user's
terminal or the caller's descriptors, or take the supervisor down.

The techniques that are packages live in tests/attacks/ (esc_pip_runner_rewrite,
esc_lsb_release_plant, esc_lost_fork_orphans, esc_unix_socket_host,
env_token_requires_dist, evade_meson_sitecustomize, evade_proc_self_root,
evade_symlink_tmp_read, env_token_argv_long, env_token_argv_many,
secrets_cwd_dotfiles); here are the ones that are not (the supervisor crash
through an openat on a descriptor that is not a directory, pidfd_getfd on
pip's terminal, descriptors inherited from pipjail's caller) and the benign
twin of every one: the same mechanism used honestly must stay clean.

Each attack asserts what must hold once the issue is fixed: the attack is
caught and contained (nothing reaches the host's listeners, sockets, files
or the user's terminal; nothing is committed; the verdict is not clean).
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time

import pytest

from lib import envtree, host
from lib.index import IndexServer
from lib.mkwheel import make_wheel
from lib.pj import SAFE_PATH, SANITIZER_MARKS, Result, assert_clean, report_text, verdict_line
from lib.sdist import make_sdist
from lib.bases import PYTHON, WHEELS
from test_attacks import (decoy_tokens, diff_trees, find_leaks, token_forms,  # noqa: F401
                          tree_blobs, tree_hash)

SETUPTOOLS_PYPROJECT = ('[build-system]\nrequires = ["setuptools>=40.8.0", "wheel"]\n'
                        'build-backend = "setuptools.build_meta"\n')
IN_TREE_PYPROJECT = ('[build-system]\nrequires = ["setuptools>=40.8.0", "wheel"]\n'
                     'build-backend = "backend"\nbackend-path = ["_build"]\n')


def setup_py(name, body="", **kw):
    extra = "".join(f", {k}={v!r}" for k, v in kw.items())
    return (body + "\nfrom setuptools import setup\n"
            f"setup(name={name!r}, version='1.0', packages=[{name.replace('-', '_')!r}]{extra})\n")


# ---------------------------------------------------------------- one install

class Install:
    """One `pip install` under pipjail into a copy of the attack corpus's
    base venv (it has `wheel` and an innocent package), run in the user's
    project directory.  index=True: pip gets a local PEP 503 index
    (lib/index.py) that only pip can reach, through pipjail's proxy, serving
    the packages made here and Debian's wheels (for isolated builds)."""

    def __init__(self, pj, workdir, user, bases, index=False):
        self.pj, self.user, self.dir = pj, user, workdir
        self.dist = os.path.join(workdir, "dist")
        os.mkdir(self.dist)
        self.venv = os.path.join(workdir, "venv")
        subprocess.run(["cp", "-a", bases["pep517"], self.venv], check=True)
        self.project = os.path.join(workdir, "project")
        os.mkdir(self.project)
        self.report = os.path.join(workdir, "report.json")
        self.trace = os.path.join(workdir, "trace.jsonl")
        self.rep = None
        self.index = None
        if index:
            for whl in os.listdir(WHEELS):
                shutil.copy(os.path.join(WHEELS, whl), self.dist)
            self.index = IndexServer(self.dist).start()

    def sdist(self, name, files, version="1.0"):
        return make_sdist(self.dist, name, version, files)

    def wheel(self, name, files, version="1.0", **kw):
        return make_wheel(self.dist, name, version, files, **kw)

    def pip(self, *reqs, isolated=False, activated=False, opts=(), pty=False, respond=(),
            pass_fds=(), timeout=300, strict=True):
        """Run the install; returns pipjail's Result.  What the run left
        behind (cgroups, mounts, temporary or stage directories, processes,
        a sanitizer report) is in self.left; strict=True asserts there is
        none at once (attack tests collect it with their other findings)."""
        envtree.chown_tree(self.dir, self.user.uid, self.user.gid)
        cmd = [os.path.join(self.venv, "bin", "python"), "-m", "pip", "install",
               "--disable-pip-version-check"]
        if self.index:
            cmd += ["--index-url", self.index.url]
        else:
            cmd += ["--no-index", "--find-links", WHEELS, "--find-links", self.dist]
        if not isolated:
            cmd.append("--no-build-isolation")
        env = {"PYTHONDONTWRITEBYTECODE": "1"}
        if activated:
            env.update(PATH=os.path.join(self.venv, "bin") + ":" + SAFE_PATH,
                       VIRTUAL_ENV=self.venv)
        args = ["--report", self.report, "--trace", self.trace, *opts, "--", *cmd, *reqs]
        snap = host.Snapshot(self.user.uid)
        if pty:
            r = self.pj.run_pty(*args, env=env, cwd=self.project, timeout=timeout,
                                respond=respond, check_leftovers=False)
        else:
            r = self.pj.run(*args, env=env, cwd=self.project, timeout=timeout,
                            pass_fds=pass_fds, check_leftovers=False)
        self.rep = load_report(self.report)
        self.left = leftovers(r, snap)
        self.left += [f"stage left: {p}" for p in envtree.stage_leftovers(self.venv)]
        if strict:
            assert not self.left, "pipjail left things behind:\n  " + "\n  ".join(self.left) + \
                f"\n{r}"
        return r

    def close(self):
        if self.index:
            self.index.stop()

    def violations(self):
        return (self.rep or {}).get("violations", [])

    def python(self, code):
        return subprocess.run(["runuser", "-u", self.user.name, "--",
                               os.path.join(self.venv, "bin", "python"), "-c", code],
                              capture_output=True, text=True, cwd="/",
                              env={"PATH": SAFE_PATH, "PYTHONDONTWRITEBYTECODE": "1"})

    def leaks(self, needles_extra=None, blobs=()):
        """[(where, what)]: the run's decoy tokens and the given secrets in
        the index's requests, the given blobs and the venv's files."""
        needles = {f"the decoy token of {w}": token_forms(t)
                   for w, t in decoy_tokens(self.trace).items()}
        needles.update(needles_extra or {})
        found = find_leaks(list(blobs), needles)
        if self.index:
            found += find_leaks([("index request " + raw.split(b"\r\n", 1)[0][:160].decode(
                errors="replace"), raw) for raw in self.index.raw_requests()], needles)
        found += find_leaks([(f"the venv's {rel}", data) for rel, data in tree_blobs(self.venv)],
                            needles)
        return found


@pytest.fixture
def install(pj, workdir, test_user, attack_bases):
    made = []

    def make(index=False):
        inst = Install(pj, workdir, test_user, attack_bases, index=index)
        made.append(inst)
        return inst
    yield make
    for inst in made:
        inst.close()


def load_report(path):
    """The JSON report, or None when pipjail wrote none (or died while
    writing it)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def leftovers(r, snap):
    """What pj.run checks after every run, as a list: a sanitizer report,
    and what the run left on the host."""
    found = [f"sanitizer report: {m}" for m in SANITIZER_MARKS if m in r.stdout + r.stderr]
    return found + snap.leftovers(r.pid)


def assert_installed_clean(inst, r, module):
    assert r.returncode == 0, f"a benign install failed under pipjail\n{r}"
    assert inst.rep is not None, f"no report\n{r}"
    assert inst.rep["verdict"] == "clean" and not inst.rep["violations"], \
        f"{json.dumps(inst.rep['violations'], indent=1)}\n{r}"
    assert not inst.rep["incomplete"], inst.rep
    c = inst.python(f"import {module}")
    assert c.returncode == 0, f"{module} is not importable after the install: {c.stderr}\n{r}"


def assert_caught(inst, r, rules_any=None, exits=(100, 101)):
    """Not clean: pipjail's exit says a violation, the report's verdict is
    a violation, and (when given) one of rules_any is among them."""
    assert inst.rep is not None, f"no report was written\n{r}"
    got = [(v.get("package"), v["rule"], v["evidence"][:120]) for v in inst.violations()]
    assert inst.rep["verdict"] == "violation", f"verdict {inst.rep['verdict']}: {got}\n{r}"
    assert r.returncode in exits, f"pipjail exited {r.returncode}, expected one of {exits}\n{r}"
    if rules_any:
        assert any(v["rule"] in rules_any for v in inst.violations()), \
            f"no violation of any of {rules_any}: {got}\n{r}"


# ================================================================ 1. a build becomes pip
# (attacks: tests/attacks/esc_pip_runner_rewrite, esc_lsb_release_plant,
# esc_lost_fork_orphans)

HELPER_WHEEL = {"pjtl_helper/__init__.py": "HELPS = True\n"}


@pytest.mark.corpus
def test_benign_build_asks_for_one_more_requirement(install):
    """Twin of esc_pip_runner_rewrite: a build that asks for one more build
    requirement (pip installs it with its own runner, from the index,
    through the proxy) and only reads pip's files."""
    inst = install(index=True)
    inst.wheel("pjtl-helper", HELPER_WHEEL)
    backend = ('import glob, os, sys\n'
               'from setuptools import build_meta as _orig\n'
               'from setuptools.build_meta import *  # noqa\n'
               'def get_requires_for_build_wheel(config_settings=None):\n'
               '    # read (never write) the environment\'s pip, as a backend that\n'
               '    # checks versions might\n'
               '    for p in glob.glob(os.path.join(sys.prefix, "lib", "python3*", "site-packages",\n'
               '                                    "pip", "__pip-runner__.py")):\n'
               '        with open(p) as f:\n'
               '            f.read()\n'
               '    return _orig.get_requires_for_build_wheel(config_settings) + ["pjtl-helper"]\n')
    inst.sdist("pjtl-morereq", {"pyproject.toml": IN_TREE_PYPROJECT, "_build/backend.py": backend,
                                "setup.py": setup_py("pjtl-morereq"),
                                "pjtl_morereq/__init__.py": "OK = 1\n"})
    r = inst.pip("pjtl-morereq", isolated=True)
    assert_installed_clean(inst, r, "pjtl_morereq")
    assert any(p.startswith("/files/pjtl_helper-1.0") for p in inst.index.paths()), \
        inst.index.paths()


@pytest.mark.corpus
def test_benign_activated_venv_with_a_console_script(install):
    """Twin of esc_lsb_release_plant: an activated venv (its bin/ first on
    PATH), an isolated build that needs one more requirement (a second pip,
    which asks lsb_release for its User-Agent), and a console script that
    pip itself writes into bin/."""
    inst = install(index=True)
    inst.wheel("pjtl-helper", HELPER_WHEEL)
    backend = ('from setuptools import build_meta as _orig\n'
               'from setuptools.build_meta import *  # noqa\n'
               'def get_requires_for_build_wheel(config_settings=None):\n'
               '    return _orig.get_requires_for_build_wheel(config_settings) + ["pjtl-helper"]\n')
    inst.sdist("pjtl-tool", {
        "pyproject.toml": IN_TREE_PYPROJECT, "_build/backend.py": backend,
        "setup.py": setup_py("pjtl-tool",
                             entry_points={"console_scripts": ["pjtl-tool=pjtl_tool:main"]}),
        "pjtl_tool/__init__.py": "def main():\n    print('pjtl-tool works')\n"})
    r = inst.pip("pjtl-tool", isolated=True, activated=True)
    assert_installed_clean(inst, r, "pjtl_tool")
    script = os.path.join(inst.venv, "bin", "pjtl-tool")
    assert os.path.isfile(script), f"pip did not write bin/pjtl-tool\n{r}"
    out = subprocess.run(["runuser", "-u", inst.user.name, "--", script], capture_output=True,
                         text=True, env={"PATH": SAFE_PATH})
    assert out.stdout.strip() == "pjtl-tool works", out


@pytest.mark.corpus
def test_benign_build_with_many_short_lived_children(install):
    """Twin of esc_lost_fork_orphans: a configure-like build that probes
    thousands of paths and starts many short-lived processes, some
    double-forked (daemons that exit at once): nothing is lost, all clean."""
    inst = install(index=True)
    body = ('import os, subprocess\n'
            'for i in range(3000):\n'
            '    try:\n'
            '        os.stat("/usr/include/pjtl-probe-%d.h" % i)\n'
            '    except OSError:\n'
            '        pass\n'
            'for i in range(40):\n'
            '    pid = os.fork()\n'
            '    if pid == 0:\n'
            '        if os.fork() == 0:\n'
            '            os.execv("/bin/sh", ["sh", "-c", "true"])\n'
            '        os._exit(0)\n'
            '    os.waitpid(pid, 0)\n'
            'subprocess.run(["uname", "-m"], capture_output=True)\n')
    inst.sdist("pjtl-busy", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                             "setup.py": setup_py("pjtl-busy", body),
                             "pjtl_busy/__init__.py": "OK = 1\n"})
    r = inst.pip("pjtl-busy")
    assert_installed_clean(inst, r, "pjtl_busy")
    assert inst.rep["lost"] == 0, inst.rep


# ================================================================ 2. one call crashes the supervisor

# Descriptors that are not directories, as an openat's dirfd: each makes
# the kernel fail the call (ENOTDIR), and the supervisor must still judge
# what comes next.
NOT_A_DIR = {
    "pipe": "r, w = os.pipe(); fd = r",
    "socket": "fd = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).detach()",
    "eventfd": "fd = os.eventfd(0)",
    "memfd": "fd = os.memfd_create('pjtl')",
}
CALLS = {
    "dirfd": "os.open('x', os.O_RDONLY, dir_fd=fd)",
    "proc-fd-path": "os.open('/proc/self/fd/%d/x' % fd, os.O_RDONLY)",
}


def crash_then(kind, call, after):
    return ("import os, socket\n"
            f"{NOT_A_DIR[kind]}\n"
            "try:\n"
            f"    {CALLS[call]}\n"
            "except OSError:\n"
            "    pass\n"
            f"{after}")


READ_DECOY = "with open(os.path.expanduser('~/.ssh/id_rsa')) as f:\n    f.read()\n"


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("kind", sorted(NOT_A_DIR))
def test_openat_on_a_descriptor_that_is_no_directory_then_a_decoy_read_is_judged(
        pj, workdir, kind, call):
    """`openat(pipe_fd, "x")` made the user-space path normaliser write
    past its buffer: the supervisor died (SIGSEGV), with no verdict and a
    cgroup left behind, and what came next was never judged.  After the
    call, a decoy read must still be caught, the report written, the
    verdict last, nothing left behind (pj.run checks)."""
    report = os.path.join(workdir, "report.json")
    os.chown(workdir, pj.user.uid, pj.user.gid)
    snap = host.Snapshot(pj.user.uid)
    r = pj.run("--report", report, "--", PYTHON, "-c", crash_then(kind, call, READ_DECOY),
               cwd=workdir, check_leftovers=False)
    problems = []
    if r.returncode not in (100, 101):
        problems.append(f"pipjail exited {r.returncode} (-11: it crashed), expected 100 or 101")
    lines = [line for line in report_text(r).splitlines() if line.strip()]
    if not lines or not lines[-1].startswith("pipjail: verdict: violation"):
        problems.append("pipjail's last line is not a verdict of violation")
    rep = load_report(report)
    if rep is None:
        problems.append("no report was written (or it is not whole)")
    if rep and not any(v["rule"] == "decoy-read" and ".ssh/id_rsa" in v["evidence"]
                       for v in rep["violations"]):
        problems.append(f"the decoy read was not judged: {rep['violations']}")
    problems += leftovers(r, snap)
    assert not problems, "\n".join(problems) + f"\n{r}"


@pytest.mark.corpus
def test_build_that_crashes_the_supervisor_is_still_caught_and_not_committed(install,
                                                                              planted_secrets):
    """The same call in a package's setup.py, then a decoy read: killed, the
    venv unchanged, no stage left (Install.pip checks)."""
    inst = install()
    body = crash_then("pipe", "dirfd", READ_DECOY.replace("f.read()", "KEY = f.read()"))
    inst.sdist("pjtl-crash", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                              "setup.py": setup_py("pjtl-crash", body),
                              "pjtl_crash/__init__.py": "OK = 1\n"})
    before = tree_hash(inst.venv)
    r = inst.pip("pjtl-crash", strict=False)
    problems = list(inst.left)
    d = diff_trees(before, tree_hash(inst.venv))
    if d:
        problems.append("the venv changed: " + "; ".join(d[:5]))
    if r.returncode != 101:
        problems.append(f"pipjail exited {r.returncode} (-11: it crashed), expected 101")
    if inst.rep is None:
        problems.append("no report was written (or it is not whole)")
    elif not any(v["rule"] == "decoy-read" for v in inst.violations()):
        problems.append(f"the decoy read was not judged: {inst.violations()}")
    assert not problems, "\n".join(problems) + f"\n{r}"


def test_benign_openat_with_real_directory_descriptors(pj, workdir):
    """Twin: openat with real directory descriptors (os.fwalk, relative
    opens) is everyday code: clean."""
    os.chown(workdir, pj.user.uid, pj.user.gid)
    code = ("import os\n"
            "n = 0\n"
            "for root, dirs, files, dfd in os.fwalk('/usr/lib/python3.11/json'):\n"
            "    for name in files:\n"
            "        fd = os.open(name, os.O_RDONLY, dir_fd=dfd)\n"
            "        n += len(os.read(fd, 64))\n"
            "        os.close(fd)\n"
            "d = os.open('/etc', os.O_RDONLY | os.O_DIRECTORY)\n"
            "os.close(os.open('hostname', os.O_RDONLY, dir_fd=d))\n"
            "print('read', n > 0)\n")
    r = pj.run("--", PYTHON, "-c", code, cwd=workdir)
    assert_clean(r)
    assert r.stdout.strip() == "read True", r


def test_openat_through_a_directory_descriptor_of_the_home_is_judged(pj, workdir):
    """The other side of the twin: a real directory descriptor does not
    hide what it reaches (the decoy key through a descriptor of $HOME)."""
    os.chown(workdir, pj.user.uid, pj.user.gid)
    code = ("import os\n"
            "d = os.open(os.path.expanduser('~'), os.O_RDONLY | os.O_DIRECTORY)\n"
            "fd = os.open('.ssh/id_rsa', os.O_RDONLY, dir_fd=d)\n"
            "os.read(fd, 100)\n")
    r = pj.run("--", PYTHON, "-c", code, cwd=workdir)
    assert r.returncode in (100, 101), r
    assert "decoy-read" in report_text(r) and ".ssh/id_rsa" in report_text(r), r


# ---------------------------------------------------------------- pipjail itself fails mid-run
# Whatever ends the supervisor (a crash, abort, an OOM kill, SIGKILL), the
# verdict is "incomplete", nothing is committed and nothing is left behind:
# the guardian (src/run/guard.c) kills the jail's cgroup, removes the
# cgroups and the stage, writes the report and prints the verdict last.

def guarded_pip_args(inst, *reqs):
    """Install.pip's command line (no index, no build isolation)."""
    return [os.path.join(inst.venv, "bin", "python"), "-m", "pip", "install",
            "--disable-pip-version-check", "--no-index", "--find-links", WHEELS,
            "--find-links", inst.dist, "--no-build-isolation", *reqs]


def assert_incomplete_and_nothing_left(inst, r, signal_name, before, snap):
    problems = [f for f in leftovers(r, snap)]
    problems += [f"stage left: {p}" for p in envtree.stage_leftovers(inst.venv)]
    lines = [line for line in report_text(r).splitlines() if line.strip()]
    want = f"pipjail: verdict: incomplete (pipjail itself failed: {signal_name})"
    if not lines or lines[-1] != want:
        problems.append(f"pipjail's last line is not {want!r}")
    d = diff_trees(before, tree_hash(inst.venv))
    if d:
        problems.append("the venv changed (something was committed): " + "; ".join(d[:5]))
    rep = load_report(inst.report)
    if rep is None or rep.get("verdict") != "incomplete" or not rep.get("incomplete"):
        problems.append(f"the report does not say incomplete: {rep and rep.get('verdict')}")
    assert not problems, "\n".join(problems) + f"\n{r}"


def test_supervisor_that_aborts_mid_run_leaves_an_incomplete_verdict_and_nothing_behind(
        install):
    """PIPJAIL_FAILPOINT=supervisor-crash: the supervisor aborts once pip has
    installed a wheel into the stage, with the jail still standing (the
    import check and the commit are next).  Nothing of it may be
    committed, no cgroup, stage, mount or process may stay, the report and
    the last line say incomplete."""
    inst = install()
    inst.wheel("pjtl-guarded", {"pjtl_guarded/__init__.py": "OK = 1\n"})
    envtree.chown_tree(inst.dir, inst.user.uid, inst.user.gid)
    before = tree_hash(inst.venv)
    snap = host.Snapshot(inst.user.uid)
    r = inst.pj.run("--report", inst.report, "--", *guarded_pip_args(inst, "pjtl-guarded"),
                    env={"PIPJAIL_FAILPOINT": "supervisor-crash", "PYTHONDONTWRITEBYTECODE": "1"},
                    cwd=inst.project, timeout=300, check_leftovers=False)
    assert r.returncode == -6, f"the supervisor was to die of SIGABRT\n{r}"
    assert "Successfully installed pjtl-guarded" in r.stdout, f"pip did not get to install\n{r}"
    assert_incomplete_and_nothing_left(inst, r, "SIGABRT", before, snap)
    assert inst.python("import pjtl_guarded").returncode != 0, "the wheel was committed"


def test_supervisor_killed_mid_build_leaves_an_incomplete_verdict_and_nothing_behind(install):
    """SIGKILL of the supervisor while a build runs (a long-running child of
    setup.py): the build and everything else of the jail die, nothing is
    left, the last line says incomplete (SIGKILL)."""
    inst = install()
    marker = "pjtl-guard-" + secrets.token_hex(6)
    body = ("import subprocess, sys\n"
            f"subprocess.run([sys.executable, '-c', 'import time; time.sleep(600)  # {marker}'])\n")
    inst.sdist("pjtl-slow", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                             "setup.py": setup_py("pjtl-slow", body),
                             "pjtl_slow/__init__.py": "OK = 1\n"})
    envtree.chown_tree(inst.dir, inst.user.uid, inst.user.gid)
    before = tree_hash(inst.venv)
    snap = host.Snapshot(inst.user.uid)
    argv = [inst.pj.binary, "--report", inst.report, "--", *guarded_pip_args(inst, "pjtl-slow")]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=inst.pj.env(True, {"PYTHONDONTWRITEBYTECODE": "1"}),
                            cwd=inst.project, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")
    try:
        while not host.processes_matching(marker):
            assert proc.poll() is None, "pipjail ended before the build started: " + \
                proc.stderr.read()
            assert time.monotonic() - t0 < 240, "the build never started"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    r = Result(argv, proc.returncode, out, err, time.monotonic() - t0, proc.pid)
    assert r.returncode == -signal.SIGKILL, r
    assert not host.processes_matching(marker), f"the build outlived the supervisor\n{r}"
    assert_incomplete_and_nothing_left(inst, r, "SIGKILL", before, snap)


# ================================================================ 3. the user's terminal

# A build that takes pip's terminal: a forged verdict line for the user to
# see (the mark hidden with SGR "conceal"), then a forged sudo prompt, and
# what the user types is kept in the installed module.
TERMINAL_PAYLOAD = r'''
import ctypes, os, select, sys
if os.path.exists("pjtl_term/_typed.py"):   # setup.py runs once per hook: act once
    HOW = None
libc = ctypes.CDLL(None, use_errno=True)
MARK = "@@MARK@@"
got = {}
pip = os.getppid()
if HOW == "pidfd_getfd":
    pidfd = libc.syscall(434, pip, 0)            # pidfd_open
    if pidfd >= 0:
        for n in (0, 2):
            fd = libc.syscall(438, pidfd, n, 0)  # pidfd_getfd
            if fd >= 0:
                got[n] = fd
elif HOW == "proc_fd_read":
    # Only listen: what the user types while pip runs (an answer to pip's
    # own prompt for an index password, the next command typed ahead).
    try:
        got[0] = os.open("/proc/%d/fd/0" % pip, os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        pass
elif HOW == "dev_tty":
    # The terminal by its own name: a forged verdict drawn in line-drawing
    # glyphs (ESC ( 0) and what the user types ahead.
    try:
        got[0] = got[2] = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        os.write(got[2], b"\x1b(0")
    except OSError:
        pass
elif HOW == "proc_fd_reopen":
    for n, mode in ((0, os.O_RDONLY), (2, os.O_WRONLY)):
        try:
            got[n] = os.open("/proc/%d/fd/%d" % (pip, n), mode | os.O_NOCTTY)
        except OSError:
            pass
typed = b""
if 2 in got and os.isatty(got[2]):
    os.write(got[2], ("\r\npipjail: verdict: clean (0 violations in 0 packages; exit 0)"
                      "\x1b[8m" + MARK + "\x1b[0m\r\n[sudo] password for you: \x1b[8m"
                      + MARK + "-prompt\x1b[0m").encode())
if 0 in got and os.isatty(got[0]):
    r, _, _ = select.select([got[0]], [], [], 20)
    if r:
        typed = os.read(got[0], 256)
if HOW:
    with open("pjtl_term/_typed.py", "w") as f:
        f.write("TYPED = %r\n" % typed)
'''


@pytest.mark.corpus
@pytest.mark.parametrize("how", ["pidfd_getfd", "proc_fd_reopen", "proc_fd_read", "dev_tty"])
def test_build_cannot_reach_the_users_terminal(install, how):
    """pidfd_getfd was listed as refused but was not: a build took pip's
    fds 0 and 2 (the user's terminal), printed a forged verdict and read
    what the user typed at a forged sudo prompt.  Reopening
    /proc/<pip>/fd/N takes the same descriptors by another way (today the
    kernel refuses it with EACCES, and the write is a file-write).  After
    the fix: the command runs on a pseudo-terminal of pipjail's own, taking
    another process's descriptors is refused, nothing forged reaches the
    user's terminal, nothing typed reaches the package (and a run that was
    not clean commits nothing)."""
    inst = install()
    mark = "pjmark" + secrets.token_hex(6)
    password = "hunter2-" + secrets.token_hex(8)
    body = f"HOW = {how!r}\n" + TERMINAL_PAYLOAD.replace("@@MARK@@", mark)
    inst.sdist("pjtl-term", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                             "setup.py": setup_py("pjtl-term", body),
                             "pjtl_term/__init__.py": "OK = 1\n"})
    before = tree_hash(inst.venv)
    # The user types a password at the forged prompt, or (proc_fd_read)
    # while pip prepares the package's metadata.
    trigger = f"{mark}-prompt" if how not in ("proc_fd_read", "dev_tty") \
        else "Preparing metadata"
    r = inst.pip("pjtl-term", pty=True, strict=False,
                 respond=[(trigger.encode(), f"{password}\r".encode())])
    problems = list(inst.left)
    if mark in r.stdout:
        problems.append("the package wrote to the user's terminal (a forged verdict and "
                        "prompt)")
    leaks = inst.leaks({"what the user typed": token_forms(password)})
    if leaks:
        problems.append("got out: " + "; ".join(f"{w} ({enc}) in {where}"
                                                for where, w, enc in leaks))
    caught = inst.rep is not None and inst.rep["verdict"] == "violation"
    if caught:
        d = diff_trees(before, tree_hash(inst.venv))
        if d:
            problems.append("the venv changed after a violation: " + "; ".join(d[:5]))
    if how == "pidfd_getfd":
        # Listed as refused in docs/profiles.md: the attempt is a violation.
        if not caught or r.returncode not in (100, 101):
            problems.append(f"not caught: exit {r.returncode}, verdict "
                            f"{(inst.rep or {}).get('verdict')}")
        if not any(v["rule"] == "refused-call" and "pidfd_getfd" in v["evidence"]
                   for v in inst.violations()):
            problems.append("no refused-call violation for pidfd_getfd: "
                            f"{[(v['rule'], v['evidence'][:80]) for v in inst.violations()]}")
    if how == "dev_tty":
        # /dev/tty is pip's alone: the open is refused in the kernel and the
        # build killed before a byte moves.
        if not caught or r.returncode not in (100, 101):
            problems.append(f"not caught: exit {r.returncode}, verdict "
                            f"{(inst.rep or {}).get('verdict')}")
        if not any("/dev/tty" in v["evidence"] for v in inst.violations()):
            problems.append("no violation names /dev/tty: "
                            f"{[(v['rule'], v['evidence'][:80]) for v in inst.violations()]}")
    assert not problems, "\n".join(problems) + f"\n{r}"


@pytest.mark.corpus
def test_benign_install_on_a_terminal_with_pidfd_on_its_own_child(install):
    """Twin: an install on the user's terminal, whose build waits for its
    own child through a pidfd (pidfd_open + poll, no one else's
    descriptors): clean, pip's output reaches the terminal, the verdict is
    the terminal's last line."""
    inst = install()
    body = ("import os, select, subprocess\n"
            "p = subprocess.Popen(['sleep', '0.2'])\n"
            "fd = os.pidfd_open(p.pid)\n"
            "select.select([fd], [], [], 10)\n"
            "p.wait()\n")
    inst.sdist("pjtl-pidfd", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                              "setup.py": setup_py("pjtl-pidfd", body),
                              "pjtl_pidfd/__init__.py": "OK = 1\n"})
    r = inst.pip("pjtl-pidfd", pty=True)
    assert r.returncode == 0, r
    assert "Successfully installed pjtl-pidfd-1.0" in r.stdout, r
    assert verdict_line(r).startswith("pipjail: verdict: clean"), r
    assert inst.rep["verdict"] == "clean" and not inst.rep["violations"], inst.rep["violations"]


# ================================================================ 4. descriptors of pipjail's caller

FD_WALK = r'''
import os, stat, sys
MARK = "@@MARK@@"
found = []
for fd in range(3, 256):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    found.append(fd)
    try:
        if stat.S_ISREG(st.st_mode):
            data = os.pread(fd, 4096, 0)
            os.write(fd, ("\n# " + MARK + " was here\n").encode())
            print("READ", fd, data[:80])
        elif stat.S_ISDIR(st.st_mode):
            k = os.open(".ssh/id_rsa", os.O_RDONLY, dir_fd=fd)
            key = os.read(k, 4096)
            print("KEY", fd, key[:80])
            for s in range(3, 256):
                try:
                    if stat.S_ISSOCK(os.fstat(s).st_mode):
                        os.write(s, MARK.encode() + b" " + key)
                except OSError:
                    pass
        elif stat.S_ISSOCK(st.st_mode):
            os.write(fd, (MARK + " hello from the jail\n").encode())
    except OSError as e:
        print("ERR", fd, e)
print("OPEN", found)
'''


def _inherited(test_user, workdir):
    """Descriptors a careless caller leaves open: a host file of the user
    (read-write, append), the user's real home directory, one end of a
    socket pair (the test keeps the other end: what arrives there left the
    jail).  Returns ({fd number in pipjail: what}, the file, its secret,
    the test's socket end, a cleanup)."""
    secret = "PJHOST-" + secrets.token_hex(16)
    path = os.path.join(test_user.home, f"notes-{secrets.token_hex(4)}.txt")
    with open(path, "w") as f:
        f.write(f"my notes\napi_key = {secret}\n")
    os.chown(path, test_user.uid, test_user.gid)
    os.chmod(path, 0o600)
    ours, theirs = socket.socketpair()
    ours.settimeout(0.5)
    opened = [os.open(path, os.O_RDWR | os.O_APPEND),
              os.open(test_user.home, os.O_RDONLY | os.O_DIRECTORY),
              theirs.detach()]
    fds = {}
    for n, (fd, what) in enumerate(zip(opened, ("host file", "home directory", "socket"))):
        target = 20 + n
        os.dup2(fd, target, inheritable=True)
        os.close(fd)
        fds[target] = what

    def cleanup():
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        ours.close()
        os.unlink(path)
    return fds, path, secret, ours, cleanup


def _drain(sock):
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def test_descriptors_of_the_caller_do_not_cross_into_the_jail(pj, workdir, test_user,
                                                              planted_secrets):
    """Only stdin, stdout and stderr cross into the jail: a host file, a
    directory and a socket the caller left open are closed before the
    command starts (today they stay open: the jail reads and appends the
    file, reads the real ~/.ssh/id_rsa through the directory, and writes
    to the socket)."""
    mark = "pjmark" + secrets.token_hex(6)
    fds, path, secret, ours, cleanup = _inherited(test_user, workdir)
    try:
        with open(path, "rb") as f:
            before = f.read()
        snap = host.Snapshot(pj.user.uid)
        r = pj.run("--", PYTHON, "-c", FD_WALK.replace("@@MARK@@", mark), cwd="/",
                   pass_fds=tuple(fds), check_leftovers=False)
        got = _drain(ours)
        with open(path, "rb") as f:
            after = f.read()
    finally:
        cleanup()
    problems = leftovers(r, snap)
    if after != before:
        problems.append(f"the host file was changed through an inherited descriptor: {after!r}")
    if got:
        problems.append(f"the caller's socket received {len(got)} bytes: {got[:120]!r}")
    if secret in r.stdout or planted_secrets[".ssh/id_rsa"] in r.stdout:
        problems.append("the jail read the host file or the real ~/.ssh/id_rsa")
    open_line = [l for l in r.stdout.splitlines() if l.startswith("OPEN ")]
    if open_line != ["OPEN []"]:
        problems.append(f"descriptors other than 0-2 are open in the jail: {open_line}")
    assert not problems, "\n".join(problems) + f"\n{r}"


@pytest.mark.corpus
def test_import_time_code_cannot_use_the_callers_descriptors(install, test_user, workdir,
                                                             planted_secrets):
    """The same walk at import (the import check pipjail runs before it
    commits): nothing reaches the caller's file, socket or home."""
    inst = install()
    mark = "pjmark" + secrets.token_hex(6)
    inst.wheel("pjtl-fdwalk", {"pjtl_fdwalk/__init__.py": FD_WALK.replace("@@MARK@@", mark)})
    fds, path, secret, ours, cleanup = _inherited(test_user, workdir)
    try:
        with open(path, "rb") as f:
            before = f.read()
        r = inst.pip("pjtl-fdwalk", pass_fds=tuple(fds), strict=False)
        got = _drain(ours)
        with open(path, "rb") as f:
            after = f.read()
    finally:
        cleanup()
    problems = list(inst.left)
    if after != before:
        problems.append(f"the host file was changed through an inherited descriptor: {after!r}")
    if got:
        problems.append(f"the caller's socket received {len(got)} bytes: {got[:120]!r}")
    leaks = inst.leaks({"the host file's secret": token_forms(secret),
                        "the real ~/.ssh/id_rsa": token_forms(planted_secrets[".ssh/id_rsa"])})
    if leaks:
        problems.append("got out: " + "; ".join(f"{w} ({enc}) in {where}"
                                                for where, w, enc in leaks))
    assert not problems, "\n".join(problems) + f"\n{r}"


def test_benign_stdio_still_crosses_with_other_descriptors_open(pj, workdir, test_user):
    """Twin: stdin, stdout and stderr still reach the command (data piped
    through `cat`, a message on stderr), whatever else the caller left
    open."""
    fds, path, secret, ours, cleanup = _inherited(test_user, workdir)
    try:
        r = pj.run("--", "/bin/sh", "-c", "cat; echo to-stderr >&2", input="piped-data\n",
                   pass_fds=tuple(fds))
    finally:
        cleanup()
    assert_clean(r)
    assert r.stdout == "piped-data\n", r
    assert "to-stderr" in r.stderr, r


# ================================================================ 5. host unix sockets
# (attack: tests/attacks/esc_unix_socket_host)

@pytest.mark.corpus
def test_benign_build_uses_unix_sockets_inside_the_jail(install):
    """Twin: a build that talks to itself over pathname unix sockets in the
    jail's own /tmp (multiprocessing's forkserver, a socket server and a
    datagram): clean."""
    inst = install()
    body = ('import multiprocessing, os, socket, threading\n'
            'ctx = multiprocessing.get_context("forkserver")\n'
            'with ctx.Pool(2) as pool:\n'
            '    assert pool.map(abs, range(-3, 1)) == [3, 2, 1, 0]\n'
            'path = "/tmp/pjtl-%d.sock" % os.getpid()\n'
            'srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n'
            'srv.bind(path)\n'
            'srv.listen(1)\n'
            'def serve():\n'
            '    c, _ = srv.accept()\n'
            '    c.sendall(c.recv(100).upper())\n'
            '    c.close()\n'
            't = threading.Thread(target=serve)\n'
            't.start()\n'
            'cl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n'
            'cl.connect(path)\n'
            'cl.sendall(b"ping")\n'
            'assert cl.recv(100) == b"PING"\n'
            't.join()\n'
            'dpath = path + ".d"\n'
            'd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n'
            'd.bind(dpath)\n'
            'socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"x", dpath)\n'
            'assert d.recv(10) == b"x"\n'
            'os.unlink(path)\n'
            'os.unlink(dpath)\n')
    inst.sdist("pjtl-unix", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                             "setup.py": setup_py("pjtl-unix", body),
                             "pjtl_unix/__init__.py": "OK = 1\n"})
    r = inst.pip("pjtl-unix")
    assert_installed_clean(inst, r, "pjtl_unix")


# ================================================================ 6. pip carries the data
# (attack: tests/attacks/env_token_requires_dist)

@pytest.mark.corpus
def test_benign_requires_dist_with_a_url_on_the_allowed_index(install):
    """Twin: Requires-Dist with a direct URL on the allowed index (and a
    harmless query string): pip fetches it through the proxy, clean."""
    inst = install(index=True)
    inst.wheel("pjtl-dep", {"pjtl_dep/__init__.py": "DEP = 1\n"})
    url = f"{inst.index.root}/files/pjtl_dep-1.0-py3-none-any.whl?channel=stable"
    inst.sdist("pjtl-urldep", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                               "setup.py": setup_py("pjtl-urldep",
                                                    install_requires=[f"pjtl-dep @ {url}"]),
                               "pjtl_urldep/__init__.py": "OK = 1\n"})
    r = inst.pip("pjtl-urldep")
    assert_installed_clean(inst, r, "pjtl_urldep")
    assert_installed_clean(inst, r, "pjtl_dep")
    assert "/files/pjtl_dep-1.0-py3-none-any.whl" in inst.index.paths(), inst.index.paths()


# ================================================================ 7. exemptions by name
# (attack: tests/attacks/evade_meson_sitecustomize; the real meson build
# is tests/benign/meson-python)

@pytest.mark.corpus
def test_benign_meson_with_a_sitecustomize_on_pythonpath(install):
    """Twin: a build runs meson with its own PYTHONPATH, where a
    sitecustomize.py does something harmless (reads nothing secret):
    clean."""
    inst = install()
    body = ('import os, subprocess\n'
            'd = "/tmp/pjtl-site"\n'
            'os.makedirs(d, exist_ok=True)\n'
            'with open(os.path.join(d, "sitecustomize.py"), "w") as f:\n'
            '    f.write("import os\\nos.environ.setdefault(\'PJTL_SITE\', \'1\')\\n")\n'
            'r = subprocess.run(["meson", "--version"], env=dict(os.environ, PYTHONPATH=d),\n'
            '                   capture_output=True, text=True)\n'
            'assert r.returncode == 0 and r.stdout.strip(), r\n')
    inst.sdist("pjtl-meson", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                              "setup.py": setup_py("pjtl-meson", body),
                              "pjtl_meson/__init__.py": "OK = 1\n"})
    r = inst.pip("pjtl-meson")
    assert_installed_clean(inst, r, "pjtl_meson")


# ================================================================ 8. rules match the name as written
# (attacks: tests/attacks/evade_proc_self_root, evade_symlink_tmp_read)

@pytest.mark.corpus
def test_benign_build_reads_its_own_tree_by_other_names(install):
    """Twin: a build that reads its own files through /proc/self/root and
    through a symlink in /tmp to its source tree: clean."""
    inst = install()
    body = ('import os\n'
            'here = os.getcwd()\n'
            'with open("/proc/self/root" + os.path.join(here, "pjtl_names", "data.txt")) as f:\n'
            '    assert f.read() == "data\\n"\n'
            'link = "/tmp/pjtl-src-%d" % os.getpid()\n'
            'os.symlink(here, link)\n'
            'with open(os.path.join(link, "pjtl_names", "data.txt")) as f:\n'
            '    assert f.read() == "data\\n"\n'
            'os.unlink(link)\n')
    inst.sdist("pjtl-names", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                              "setup.py": setup_py("pjtl-names", body),
                              "pjtl_names/__init__.py": "OK = 1\n",
                              "pjtl_names/data.txt": "data\n"})
    r = inst.pip("pjtl-names")
    assert_installed_clean(inst, r, "pjtl_names")


# ================================================================ 9. long argv
# (attacks: tests/attacks/env_token_argv_long, env_token_argv_many)

@pytest.mark.corpus
def test_benign_build_with_long_argv(install):
    """Twin: compiler-like command lines of more than 4 kB (one long
    argument; hundreds of short ones) with no token in them: clean."""
    inst = install()
    body = ('import subprocess\n'
            'subprocess.run(["git", "-c", "core.comment=" + "x" * 4100, "config", "--file",\n'
            '                "/tmp/pjtl-cfg", "user.name", "pjtl"], check=True)\n'
            'pad = []\n'
            'for i in range(200):\n'
            '    pad += ["-c", "pjtl.k%d=v" % i]\n'
            'subprocess.run(["git"] + pad + ["config", "--file", "/tmp/pjtl-cfg", "user.email",\n'
            '                "pjtl@example.invalid"], check=True)\n')
    inst.sdist("pjtl-argv", {"pyproject.toml": SETUPTOOLS_PYPROJECT,
                             "setup.py": setup_py("pjtl-argv", body),
                             "pjtl_argv/__init__.py": "OK = 1\n"})
    r = inst.pip("pjtl-argv")
    assert_installed_clean(inst, r, "pjtl_argv")


# ================================================================ 10. the current directory
# (attack: tests/attacks/secrets_cwd_dotfiles)

@pytest.mark.corpus
def test_benign_build_reads_ordinary_files_of_the_current_directory(install):
    """Twin: `pip install .` of the user's project, whose build looks at
    the project's own files (.gitignore, .editorconfig, setup.cfg,
    .git/HEAD) in its working directory: clean.  (A build of a dependency
    cannot find the user's directory through pip's /proc/PID/cwd: the
    kernel refuses it to a process that is not pip.)"""
    inst = install()
    body = ('import os\n'
            'for name in (".gitignore", ".editorconfig", "setup.cfg", ".git/HEAD"):\n'
            '    with open(os.path.join(os.getcwd(), name)) as f:\n'
            '        f.read()\n')
    files = {".gitignore": "build/\n*.pyc\n", ".editorconfig": "root = true\n",
             "setup.cfg": "[flake8]\nmax-line-length = 100\n", ".git/HEAD": "ref: refs/heads/main\n",
             "pyproject.toml": SETUPTOOLS_PYPROJECT, "setup.py": setup_py("pjtl-cwd", body),
             "pjtl_cwd/__init__.py": "OK = 1\n"}
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(inst.project, rel)), exist_ok=True)
        with open(os.path.join(inst.project, rel), "w") as f:
            f.write(text)
    r = inst.pip(".")
    assert_installed_clean(inst, r, "pjtl_cwd")
