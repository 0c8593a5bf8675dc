"""The staged, all-or-nothing install (docs/staging.md), tried with real pip.

What a user relies on: a clean `pipjail VENV/bin/pip install ...` gives the
environment plain pip would have given, file for file; a refused or killed
install leaves the environment byte for byte as it was; Ctrl-C never leaves
a half-committed environment; no stage directory is left behind.

How "equals plain pip" is measured.  The twin must be at the *same path*:
pip writes the venv's absolute path into console scripts and RECORD, so a
twin elsewhere would differ for reasons that say nothing about pipjail.  So
each comparison runs on one venv path: save a copy (`cp -a`), run plain pip
as the test user (outside the jail: only wheels built here with zipfile or
built by pipjail in the jail, so no setup.py ever runs on the host), take a
snapshot, restore the saved copy at the same path, run the same pip command
under pipjail, take a snapshot, compare.  A snapshot (lib/envtree.py) holds
every entry's type, mode, owner and sha256; the one thing not compared is
the source-mtime field of .pyc headers (the unpack time, different in any
two installs).  Plain pip runs with PYTHONDONTWRITEBYTECODE=1 like the jailed
one (pip still compiles what it installs) and --no-cache-dir (the test user's
real cache is not touched).
"""
import json
import os
import signal
import subprocess
import tarfile
import threading
import time

import pytest

from lib import envtree, host
from lib.leaks import decoy_tokens, find_leaks, token_forms, tree_blobs
from lib.mkwheel import make_wheel
from lib.pj import Result, runuser
from lib.sdist import make_sdist

SITE = envtree.SITE
WHEELS = "/usr/share/python-wheels"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def base_venv(session_dir, test_user):
    return envtree.create_base_venv(os.path.join(session_dir, "base-venv"),
                                    test_user.uid, test_user.gid)


class Env:
    """One test's venv, its package directory and its pip runs."""

    def __init__(self, pj, workdir, base, user):
        self.pj = pj
        self.user = user
        self.dir = workdir
        self.venv = envtree.make_venv(base, os.path.join(workdir, "venv"))
        self.site = os.path.join(self.venv, SITE)
        self.dist = os.path.join(workdir, "dist")
        os.mkdir(self.dist)
        self.report = os.path.join(workdir, "report.json")
        self.saved = None

    def own(self):
        envtree.chown_tree(self.dist, self.user.uid, self.user.gid)

    def pip_args(self, cmd, *args):
        if cmd == "uninstall":
            return [f"{self.venv}/bin/pip", "uninstall", "-y", "--disable-pip-version-check",
                    *args]
        return [f"{self.venv}/bin/pip", cmd, "--disable-pip-version-check", "--no-index",
                "--find-links", WHEELS, "--find-links", self.dist, *args]

    def jail(self, *args, opts=(), cmd="install", timeout=600, **kw):
        """pipjail [opts] --report R -- VENV/bin/pip install ... args"""
        self.own()
        if os.path.exists(self.report):
            os.unlink(self.report)
        r = self.pj.run(*opts, "--report", self.report, "--", *self.pip_args(cmd, *args),
                        timeout=timeout, **kw)
        self.assert_no_stage_left(r)
        return r

    def plain(self, *args, cmd="install"):
        """The same pip command, as the test user, without pipjail."""
        self.own()
        extra = ["--no-cache-dir"] if cmd != "uninstall" else []
        r = runuser(self.user, *self.pip_args(cmd, *extra, *args),
                    env={"PYTHONDONTWRITEBYTECODE": "1"}, timeout=600)
        assert r.returncode == 0, f"plain pip failed (test setup):\n{r}"
        return r

    def assert_no_stage_left(self, r=None):
        left = envtree.stage_leftovers(self.venv)
        assert not left, f"stage directories left next to the venv: {left}\n{r or ''}"

    def snap(self):
        return envtree.snapshot(self.venv)

    def save(self):
        self.saved = self.venv + ".saved"
        subprocess.run(["cp", "-a", self.venv, self.saved], check=True)

    def restore(self):
        envtree.restore(self.saved, self.venv)

    def report_json(self):
        with open(self.report) as f:
            return json.load(f)

    def violations(self, **match):
        rep = self.report_json()
        return [v for v in rep["violations"] if all(v.get(k) == x for k, x in match.items())]

    def python(self, code):
        return runuser(self.user, f"{self.venv}/bin/python", "-c", code,
                       env={"PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture
def env(pj, workdir, base_venv, test_user):
    return Env(pj, workdir, base_venv, test_user)


def assert_unchanged(env, before, r):
    after = env.snap()
    assert after == before, f"the environment changed:\n{envtree.diff(before, after)}\n{r}"


def refused_or_found(env, path, staging_rules):
    """The violations that stopped a write of path into the environment:
    refused in the kernel before the call (file-write: the Landlock layer of
    every process that is not pip, or the kernel's second wall; its evidence
    may name the first directory of path that did not exist yet, which the
    call tried to make), or found by the staging check afterwards (one of
    staging_rules, naming path).  Either stops it; which one fires depends
    on who wrote and how."""
    out = []
    for v in env.report_json()["violations"]:
        ev = v["evidence"]
        if v["rule"] in staging_rules and path in ev:
            out.append(v)
        elif v["rule"] == "file-write":
            # "openat /venv/x/y O_WRONLY...", "mkdir /venv/x"
            named = ev.split(" ")[1] if " " in ev else ev
            if named == path or (path.startswith(named.rstrip("/") + "/") and
                                 named.startswith(env.venv + "/")):
                out.append(v)
    return out


def assert_clean(env, r):
    assert r.returncode == 0, str(r)
    rep = env.report_json()
    assert rep["verdict"] == "clean" and not rep["violations"], f"{rep['violations']}\n{r}"


def assert_equals_plain(env, plain, jailed, r):
    assert jailed == plain, (f"pipjail's result differs from plain pip's "
                             f"(- plain, + pipjail):\n{envtree.diff(plain, jailed)}\n{r}")


def twin(env, args, cmd="install", opts=()):
    """Run `pip cmd args` plain and under pipjail on the same venv state;
    returns (before, plain result, pipjail result, Result)."""
    env.save()
    before = env.snap()
    env.plain(*args, cmd=cmd)
    plain = env.snap()
    assert plain != before, "plain pip changed nothing: the test does not test anything"
    env.restore()
    assert env.snap() == before
    r = env.jail(*args, cmd=cmd, opts=opts)
    return before, plain, env.snap(), r


def demo_wheel(dist, version, extra=None):
    """A wheel with what pip treats specially: a package with a subpackage,
    a top-level module, a data file, a console script, a #!python script."""
    files = {
        "demo/__init__.py": f"VERSION = {version!r}\n",
        "demo/cli.py": "def main():\n    print('demo')\n",
        "demo/sub/__init__.py": "",
        "demo/data.json": '{"v": "%s"}\n' % version,
        "demo_helper.py": "X = 1\n",
    }
    files.update(extra or {})
    return make_wheel(dist, "demo", version, files,
                      console_scripts={"demo-cli": "demo.cli:main"},
                      data_scripts={"demo-script": "#!python\nprint('script')\n"})


# ---------------------------------------------------------------- (1) clean install

def test_clean_wheel_install_equals_plain_pip(env):
    demo_wheel(env.dist, "1.0")
    before, plain, jailed, r = twin(env, ["demo"])
    assert_clean(env, r)
    assert_equals_plain(env, plain, jailed, r)
    out = env.python("import demo, demo_helper; print(demo.VERSION)")
    assert out.stdout.strip() == "1.0", str(out)


def test_clean_sdist_install_equals_plain_pip(env, pj):
    # The twin installs the wheel that pip builds from this sdist (built by
    # pipjail in the jail: no setup.py runs on the host); both installs use
    # --find-links by name, so neither gets a direct_url.json.
    sdist_dir = os.path.join(env.dir, "sdists")
    os.mkdir(sdist_dir)
    make_sdist(sdist_dir, "mypkg", "1.0", {"mypkg/__init__.py": "VALUE = 42\n",
                                          "mypkg/util.py": "def f():\n    return 1\n",
                                          "mypkg_top.py": "Y = 2\n"})
    envtree.chown_tree(sdist_dir, env.user.uid, env.user.gid)
    env.own()
    r = pj.run("--rw", env.dist, "--", f"{env.venv}/bin/pip", "wheel", "--no-deps",
               "--no-index", "--find-links", WHEELS, "-w", env.dist,
               os.path.join(sdist_dir, "mypkg-1.0.tar.gz"), timeout=600)
    assert r.returncode == 0, f"building the twin's wheel failed:\n{r}"
    env.save()
    before = env.snap()
    env.plain("mypkg")
    plain = env.snap()
    env.restore()
    for f in os.listdir(env.dist):
        os.unlink(os.path.join(env.dist, f))
    os.rename(os.path.join(sdist_dir, "mypkg-1.0.tar.gz"),
              os.path.join(env.dist, "mypkg-1.0.tar.gz"))
    assert env.snap() == before
    r = env.jail("mypkg")
    assert_clean(env, r)
    assert_equals_plain(env, plain, env.snap(), r)


def test_legacy_setup_py_install_is_clean_and_committed(env):
    # pip 23.0 without `wheel` and without pyproject.toml: `setup.py install`,
    # which records an .egg-info with installed-files.txt, not a RECORD.
    path = make_sdist(env.dist, "legacy", "1.0", {"legacy/__init__.py": "VALUE = 'legacy'\n"})
    drop_member(path, "pyproject.toml")
    before = env.snap()
    r = env.jail("legacy")
    assert_clean(env, r)
    out = env.python("import legacy; print(legacy.VALUE)")
    assert out.returncode == 0 and out.stdout.strip() == "legacy", f"{out}\n{r}"
    after = env.snap()
    added = [p for p in after if p not in before]
    assert any(p.startswith(f"{SITE}/legacy") for p in added), envtree.diff(before, after)


def drop_member(path, name):
    """Rewrite the sdist at path without its member <base>/name."""
    tmp = path + ".tmp"
    with tarfile.open(path) as src, tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            if m.name.split("/", 1)[-1] == name:
                continue
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    os.replace(tmp, path)


# ---------------------------------------------------------------- (2) upgrade, uninstall

def _install_demo_1_plain(env):
    demo_wheel(env.dist, "1.0", {"demo/old_only.py": "GONE = True\n"})
    env.plain("demo")
    # 2.0: a module removed, one added, a file changed, a new subpackage.
    demo_wheel(env.dist, "2.0", {"demo/new_only.py": "NEW = True\n",
                                 "demo/sub2/__init__.py": "Z = 3\n"})


def test_upgrade_equals_plain_pip(env):
    _install_demo_1_plain(env)
    before, plain, jailed, r = twin(env, ["--upgrade", "demo"])
    assert_clean(env, r)
    assert_equals_plain(env, plain, jailed, r)
    assert not os.path.exists(os.path.join(env.site, "demo/old_only.py"))
    assert not os.path.exists(os.path.join(env.site, "demo-1.0.dist-info"))
    out = env.python("import demo, demo.new_only; print(demo.VERSION)")
    assert out.stdout.strip() == "2.0", str(out)


def test_uninstall_equals_plain_pip(env):
    _install_demo_1_plain(env)
    before, plain, jailed, r = twin(env, ["demo"], cmd="uninstall")
    assert_clean(env, r)
    assert_equals_plain(env, plain, jailed, r)
    assert not os.path.exists(os.path.join(env.venv, "bin/demo-cli"))
    assert not os.path.exists(os.path.join(env.site, "demo"))


# ---------------------------------------------------------------- (3) undeclared start-up file

PLANTS = {
    ".pth": ("zz_pipjail_planted.pth", "import os; os.environ.setdefault('PJ_PLANTED', '1')\n"),
    "sitecustomize": ("sitecustomize.py", "import os\nos.environ['PJ_PLANTED'] = '1'\n"),
}


def _planting_setup_py(name, site, plant):
    fname, content = PLANTS[plant]
    # The write happens when setup.py runs (a build hook, or setup.py install).
    return (f"import os\n"
            f"if os.path.isdir({site!r}):\n"
            f"    with open(os.path.join({site!r}, {fname!r}), 'w') as f:\n"
            f"        f.write({content!r})\n"
            f"from setuptools import setup\n"
            f"setup(name={name!r}, version='1.0', packages=[{name!r}])\n")


@pytest.mark.parametrize("build", ["pep517", "legacy"])
@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_undeclared_startup_file_written_by_setup_py_is_caught(env, plant, build):
    path = make_sdist(env.dist, "planter", "1.0", {
        "planter/__init__.py": "",
        "setup.py": _planting_setup_py("planter", env.site, plant)})
    if build == "legacy":
        drop_member(path, "pyproject.toml")
    before = env.snap()
    r = env.jail("planter")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    fname = PLANTS[plant][0]
    target = os.path.join(env.site, fname)
    assert not os.path.lexists(target), str(r)
    # Refused in the kernel (file-write, the build killed) or, if it got
    # into the stage, found there (undeclared-file).
    found = refused_or_found(env, target, ("undeclared-file",))
    assert found, f"no violation names {fname}: {env.report_json()['violations']}\n{r}"
    assert found[0]["package"] == "planter", f"not attributed to the package: {found[0]}\n{r}"
    assert fname in r.stderr, str(r)


@pytest.mark.parametrize("build", ["pep517", "legacy"])
def test_benign_twin_of_planter_installs(env, build):
    path = make_sdist(env.dist, "planter", "1.0", {"planter/__init__.py": "OK = 1\n"})
    if build == "legacy":
        drop_member(path, "pyproject.toml")
    r = env.jail("planter")
    assert_clean(env, r)
    out = env.python("import planter; print(planter.OK)")
    assert out.stdout.strip() == "1", str(out)


# ---------------------------------------------------------------- (4) another distribution's file

def _install_victim_plain(env):
    make_wheel(env.dist, "victim", "1.0", {"victim/__init__.py": "def check():\n    return 'real'\n"})
    env.plain("victim")


def test_overwriting_another_packages_module_from_setup_py_is_caught(env):
    _install_victim_plain(env)
    target = os.path.join(env.site, "victim/__init__.py")
    make_sdist(env.dist, "hijack", "1.0", {
        "hijack/__init__.py": "",
        "setup.py": (f"with open({target!r}, 'w') as f:\n"
                     f"    f.write('def check():\\n    return \"hijacked\"\\n')\n"
                     "from setuptools import setup\n"
                     "setup(name='hijack', version='1.0', packages=['hijack'])\n")})
    before = env.snap()
    r = env.jail("hijack")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    found = refused_or_found(env, target, ("undeclared-file",))
    assert found, f"no violation for the overwritten {target}: " \
                  f"{env.report_json()['violations']}\n{r}"
    if found[0]["rule"] == "undeclared-file":
        assert "victim" in found[0]["evidence"], found[0]   # whose file it was
    assert found[0]["package"] == "hijack", f"not attributed to the package: {found[0]}\n{r}"
    out = env.python("import victim; print(victim.check())")
    assert out.stdout.strip() == "real", str(out)


def test_wheel_declaring_another_packages_module_is_caught(env):
    # The attacker's own RECORD lists the file: still another distribution's.
    _install_victim_plain(env)
    target = os.path.join(env.site, "victim/__init__.py")
    make_wheel(env.dist, "hijack", "1.0", {
        "hijack/__init__.py": "",
        "victim/__init__.py": "def check():\n    return 'hijacked'\n"})
    before = env.snap()
    r = env.jail("hijack")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    found = [v for v in env.violations(rule="undeclared-file") if target in v["evidence"]]
    assert found and "victim" in found[0]["evidence"], f"{found}\n{r}"


# ---------------------------------------------------------------- (5) killed mid-install

@pytest.mark.parametrize("when", ["build", "import"])
def test_install_killed_midway_leaves_environment_unchanged(env, when):
    # The thief depends on a good wheel and reads the SSH key: killed.
    # "build": while its wheel is built (nothing staged yet).  "import": at
    # import, in the import check, once pip has installed good and thief
    # into the stage.  (setup.py projects are built through PEP 517 now, so
    # no `setup.py install` runs during pip's install phase; and a write of
    # the thief's own into site-packages would be refused, the thief
    # killed, before anything is staged: see the tests above.)
    make_wheel(env.dist, "good", "1.0", {"good/__init__.py": "G = 1\n"})
    steal = "key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
    if when == "build":
        make_sdist(env.dist, "thief", "1.0", {
            "thief/__init__.py": "",
            "setup.py": (
                "import os, sys\n"
                "if 'bdist_wheel' in sys.argv:\n    " + steal +
                "from setuptools import setup\n"
                "setup(name='thief', version='1.0', packages=['thief'], "
                "install_requires=['good'])\n")})
    else:
        make_wheel(env.dist, "thief", "1.0", {"thief/__init__.py": "import os\n" + steal},
                   requires=["good"])
    before = env.snap()
    r = env.jail("thief")
    assert r.returncode == 101, str(r)
    assert_unchanged(env, before, r)
    v = env.violations(rule="decoy-read")
    assert v and v[0]["package"] == "thief" and v[0]["outcome"].startswith("killed"), f"{v}\n{r}"
    if when == "import":
        # midway: both were in the stage when the thief was killed
        assert "Successfully installed good-1.0 thief-1.0" in r.stdout, str(r)
        assert v[0]["role"] == "import", v[0]


# ---------------------------------------------------------------- (6) Ctrl-C during commit

N_FILES = 3000


def _stage_dirs(env):
    parent = os.path.dirname(env.venv)
    return [os.path.join(parent, n) for n in os.listdir(parent)
            if n.startswith(".pipjail-stage.")]


def _sigint_run(env, pj, args, delay):
    """Start pipjail; once pip has written the new RECORD into the stage
    (pip is about done: import check, scan, check and commit follow), wait
    `delay` seconds (None: until the journal appears), then send SIGINT
    every 5 ms until pipjail exits."""
    snap = host.Snapshot(pj.user.uid)
    argv = [pj.binary, "--", *env.pip_args("install", *args)]
    t0 = time.monotonic()
    # Output to files, not pipes: nobody reads while the signals are sent.
    out_f = open(os.path.join(env.dir, "sigint.out"), "w+")
    err_f = open(os.path.join(env.dir, "sigint.err"), "w+")
    p = subprocess.Popen(argv, env=pj.env(), cwd="/", stdin=subprocess.DEVNULL,
                         stdout=out_f, stderr=err_f, text=True)
    record = f"upper/{SITE}/big-1.0.dist-info/RECORD"
    sent = 0
    phase = "never"
    try:
        deadline = t0 + 300
        while p.poll() is None and time.monotonic() < deadline:
            stages = _stage_dirs(env)
            if delay is None:
                hit = any(os.path.exists(os.path.join(s, f)) for s in stages
                          for f in ("journal", "journal.tmp"))
            else:
                hit = any(os.path.exists(os.path.join(s, record)) for s in stages)
            if hit:
                phase = "journal" if delay is None else f"RECORD+{delay}s"
                break
            time.sleep(0.001)
        if delay:
            time.sleep(delay)
        while p.poll() is None and time.monotonic() < deadline:
            p.send_signal(signal.SIGINT)
            sent += 1
            time.sleep(0.005)
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
        out_f.close()
        err_f.close()
    res = Result(argv, p.returncode, out, err, time.monotonic() - t0, p.pid)
    pj.check_run(res, snap)
    return res, sent, phase


def test_sigint_during_commit_leaves_old_or_new_environment(env, pj):
    files = {f"big/m{i:04d}.py": f"V = {i}\n" for i in range(N_FILES)}
    files["big/__init__.py"] = ""
    make_wheel(env.dist, "big", "1.0", files)
    args = ["--no-compile", "big"]
    before, new, jailed, r = twin(env, args)
    assert_clean(env, r)
    assert_equals_plain(env, new, jailed, r)
    outcomes, bad_exit = [], []
    for delay in (None, 0, 0.05, 0.15, 0.3, 0.6, 1.0):
        env.restore()
        res, sent, phase = _sigint_run(env, pj, args, delay)
        state = env.snap()
        how = "old" if state == before else "new" if state == new else None
        if how is None:
            # Only an interrupted commit may need recover; it must finish it.
            rec = pj.run("recover", env.venv)
            state = env.snap()
            assert state in (before, new), (
                f"inconsistent environment after SIGINT ({phase}, {sent} signals) and recover:\n"
                f"vs old:\n{envtree.diff(before, state)}\nvs new:\n{envtree.diff(new, state)}"
                f"\n{res}\n{rec}")
            how = "recovered"
        env.assert_no_stage_left(res)
        if res.returncode == 0:
            assert how == "new", f"pipjail exited 0 but the install is not there\n{res}"
        outcomes.append((phase, sent, res.returncode, how))
        if res.returncode not in (0, 130):
            bad_exit.append(f"SIGINT ({phase}): exit {res.returncode}\n{res.stderr[-3000:]}")
    print("SIGINT outcomes:", outcomes)
    # Ctrl-C is not an attack: the run ends committed (0) or interrupted
    # (130), never with a violation made of pip's half-written files.
    assert not bad_exit, "\n".join(bad_exit)


def test_sigint_during_the_import_check_commits_nothing(env, pj):
    """One Ctrl-C while the import check runs reaches the check's process
    too: what it had not imported yet is unknown.  The run ends as an
    interrupted one (exit 130) and nothing is committed -- never a clean
    run whose check did not complete (red team rt1 C5b)."""
    make_wheel(env.dist, "sleeper", "1.0", {
        "sleeper/__init__.py": "import time\ntime.sleep(20)\n"})
    before = env.snap()
    snap = host.Snapshot(pj.user.uid)
    argv = [pj.binary, "--", *env.pip_args("install", "sleeper")]
    out_f = open(os.path.join(env.dir, "sigint.out"), "w+")
    err_f = open(os.path.join(env.dir, "sigint.err"), "w+")
    env.own()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=pj.env(), cwd="/", stdin=subprocess.DEVNULL,
                         stdout=out_f, stderr=err_f, text=True)
    seen = False
    try:
        deadline = t0 + 240
        while p.poll() is None and time.monotonic() < deadline:
            if host.processes_matching("pipjail-import-check: sleeper 1.0"):
                seen = True
                break
            time.sleep(0.02)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        out_f.seek(0)
        err_f.seek(0)
        res = Result(argv, p.returncode, out_f.read(), err_f.read(), time.monotonic() - t0, p.pid)
        out_f.close()
        err_f.close()
    pj.check_run(res, snap)
    assert seen, f"the import check of sleeper was never seen running\n{res}"
    assert res.returncode == 130, str(res)
    assert_unchanged(env, before, res)
    env.assert_no_stage_left(res)


# ---------------------------------------------------------------- (7) dry run

def test_dry_run_lists_changes_and_changes_nothing(env):
    _install_demo_1_plain(env)
    env.save()
    before = env.snap()
    env.plain("--upgrade", "demo")
    plain = env.snap()
    env.restore()
    r = env.jail("--upgrade", "demo", opts=("--dry-run", "-v"))
    assert r.returncode == 0, str(r)
    assert_unchanged(env, before, r)
    changed = [p for p in set(before) | set(plain)
               if before.get(p) != plain.get(p) and (plain.get(p) or before.get(p))[0] != "dir"]
    text = r.stderr
    assert "demo 2.0" in text and "demo 1.0" in text, str(r)
    missing = [p for p in changed if p not in text]
    assert not missing, f"--dry-run does not list these changes: {missing}\n{r}"


# ---------------------------------------------------------------- (8) import check

def test_import_check_catches_startup_pth_declared_in_record(env):
    # The .pth is in the wheel's RECORD with the right hash: only running it
    # shows what it does (reads the SSH key at every interpreter start).
    make_wheel(env.dist, "sneaky", "1.0", {
        "sneaky/__init__.py": "",
        "sneaky_init.pth": "import os; open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"})
    before = env.snap()
    r = env.jail("sneaky")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    v = [x for x in env.violations(role="import") if x["rule"].startswith("decoy")]
    assert v, f"the import check did not catch the .pth: {env.report_json()['violations']}\n{r}"


def test_import_check_catches_module_reading_a_secret(env):
    make_sdist(env.dist, "stealer", "1.0", {
        "stealer/__init__.py": ("import os\n"
                                "KEY = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n")})
    before = env.snap()
    r = env.jail("stealer")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    v = env.violations(role="import", rule="decoy-read")
    assert v, f"the import check did not catch it: {env.report_json()['violations']}\n{r}"
    assert v[0]["package"] in ("stealer", None), v[0]


def test_import_check_passes_clean_packages(env):
    # Benign twins: a .pth that only adds a directory, a module that reads
    # its own data file at import.
    make_wheel(env.dist, "sneaky", "1.0", {"sneaky/__init__.py": "",
                                           "sneaky_init.pth": "clean_extra_dir\n"})
    make_sdist(env.dist, "stealer", "1.0", {
        "stealer/__init__.py": ("import os\n"
                                "KEY = open(os.path.join(os.path.dirname(__file__), "
                                "'__init__.py')).read()\n")})
    r = env.jail("sneaky", "stealer")
    assert_clean(env, r)
    out = env.python("import stealer, sneaky; print('ok')")
    assert out.stdout.strip() == "ok", str(out)


def _watch_checks(markers, stop, seen):
    """Record in seen the most of markers' import checks alive at once."""
    while not stop.is_set():
        alive = sum(1 for m in markers if host.processes_matching(m))
        seen.append(alive)
        time.sleep(0.02)


def test_import_checks_run_side_by_side_each_attributed_to_its_own(env):
    """The import checks run at once (as many as pipjail has CPUs): two slow,
    honest distributions are checked side by side with a third that reads
    the SSH key at import.  The violation lands on the thief, never on the
    honest ones running beside it, and nothing is committed; -v says how
    many ran at once.  The benign twin: the two slow ones alone are clean
    and committed.  (A violator is killed: no more checks start then.)"""
    cpus = len(os.sched_getaffinity(0))
    if cpus < 2:
        pytest.skip("one CPU: the checks run one after another")
    for n in ("napa", "napb"):
        make_wheel(env.dist, n, "1.0", {f"{n}/__init__.py": "import time\ntime.sleep(3)\n"})
    make_wheel(env.dist, "thief", "1.0", {
        "thief/__init__.py": "import os, time\ntime.sleep(1)\n"
                             "KEY = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"})
    markers = [f"pipjail-import-check: {n} 1.0" for n in ("napa", "napb", "thief")]
    before = env.snap()
    stop, seen = threading.Event(), []
    watch = threading.Thread(target=_watch_checks, args=(markers, stop, seen))
    watch.start()
    try:
        r = env.jail("napa", "napb", "thief", opts=("-v",))
    finally:
        stop.set()
        watch.join()
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    v = env.violations(rule="decoy-read")
    assert v and all(x["package"] == "thief" for x in v), f"{env.report_json()['violations']}\n{r}"
    assert max(seen, default=0) >= 2, f"never two import checks alive at once: {seen[-50:]}\n{r}"

    r = env.jail("napa", "napb", opts=("-v",))
    assert_clean(env, r)
    # two import checks and the start-up probe
    assert f"2 distributions and the start-up probe, {min(cpus, 3)} at once" in r.stderr, str(r)
    out = env.python("import napa, napb; print('ok')")
    assert out.stdout.strip() == "ok", str(out)


@pytest.mark.parametrize("how", ["exit", "signal"])
def test_import_check_that_does_not_complete_is_never_clean(env, how):
    """Red team rt1 C5b: an import check that could not start, crashed or
    was ended by the package (here: os._exit, a signal to itself) has not
    imported the distribution; the run is not clean and nothing is
    committed."""
    end = "os._exit(3)" if how == "exit" else "os.kill(os.getpid(), 9)"
    make_wheel(env.dist, "quitter", "1.0", {"quitter/__init__.py": f"import os\n{end}\n"})
    before = env.snap()
    r = env.jail("quitter")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    v = env.violations(rule="import-check")
    assert v and v[0]["package"] == "quitter" and "quitter" in v[0]["evidence"], \
        f"{env.report_json()['violations']}\n{r}"


def test_no_import_check_skips_importing(env):
    # The same stealer with --no-import-check: no import-time violation (the
    # user opted out), and the install is committed.
    make_sdist(env.dist, "stealer", "1.0", {
        "stealer/__init__.py": ("import os\n"
                                "KEY = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n")})
    r = env.jail("stealer", opts=("--no-import-check",))
    assert_clean(env, r)
    assert os.path.isdir(os.path.join(env.site, "stealer"))


# ---------------------------------------------------------------- (9) what runs later (issue 15)
#
# The attack corpus (tests/attacks/persist_*) holds one package per way of
# leaving code, config or a process behind; these are the variants that a
# package case cannot express in one run, and the benign twins that need
# plain pip beside them.

def _secret_token():
    return "s3cr3t" + os.urandom(12).hex()


def _not_committed(env, pkg, evidence):
    """pipjail install pkg: not clean, nothing committed; the violations
    whose evidence names evidence (the test asserts what they say)."""
    before = env.snap()
    r = env.jail(pkg)
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    found = [x for x in env.report_json()["violations"] if evidence in x.get("evidence", "")]
    assert found, f"{env.report_json()['violations']}\n{r}"
    return found


def test_a_package_shadowing_another_distributions_module_is_not_committed(env):
    """Red team rt3 R6: a package directory honestmod/ of another
    distribution, beside the honest distribution's honestmod.py, is what
    `import honestmod` loads from then on (a directory comes before a module
    of the same name), though no byte the honest one declared changes.  The
    benign twin: honestmod's own next version turning its module into a
    package is committed."""
    make_wheel(env.dist, "honestmod", "1.0", {"honestmod.py": "VALUE = 'honest'\n"})
    r = env.jail("honestmod")
    assert_clean(env, r)
    make_wheel(env.dist, "shadower", "1.0", {
        "shadower/__init__.py": "",
        "honestmod/__init__.py": "VALUE = 'shadowed'\n"})
    v = _not_committed(env, "shadower", "honestmod/__init__.py")
    assert "honestmod 1.0" in v[0]["detail"], v

    make_wheel(env.dist, "honestmod", "2.0", {"honestmod/__init__.py": "VALUE = 'honest 2'\n"})
    r = env.jail("--upgrade", "honestmod")
    assert_clean(env, r)
    out = env.python("import honestmod; print(honestmod.VALUE)")
    assert out.stdout.strip() == "honest 2", str(out)


@pytest.mark.parametrize("planted", ["hnsp/honest/__init__.py", "hnsp/__init__.py"])
def test_taking_over_a_namespace_package_is_not_committed(env, planted):
    """Red team rt4 T1/T7: inside a namespace package that another
    distribution shares (no __init__.py, like jaraco.* or backports.*), a
    package hnsp/honest/ stands in for its hnsp/honest.py, and a new
    hnsp/__init__.py makes the directory a regular package whose code runs
    at every `import hnsp.honest`.  The benign twin: a second distribution
    adding its own module to the shared namespace is committed."""
    make_wheel(env.dist, "honest-lib", "1.0", {"hnsp/honest.py": "VALUE = 'honest'\n"})
    r = env.jail("honest-lib")
    assert_clean(env, r)
    make_wheel(env.dist, "nsevil", "1.0", {"nsevil/__init__.py": "", planted: "VALUE = 'evil'\n"})
    v = _not_committed(env, "nsevil", planted)
    assert "honest_lib 1.0" in v[0]["detail"], v

    make_wheel(env.dist, "nsfriend", "1.0", {"hnsp/friend.py": "VALUE = 'friend'\n"})
    r = env.jail("nsfriend")
    assert_clean(env, r)
    out = env.python("import hnsp.honest, hnsp.friend; print(hnsp.honest.VALUE, hnsp.friend.VALUE)")
    assert out.stdout.strip() == "honest friend", str(out)


# Red team rt5: other ways to stand in for another distribution's module.
# (honest wheel's files, the attacker's wheel: files, data scripts, what the
# violation's evidence names)
STAND_INS = {
    # a module file beside another distribution's namespace directory
    "module-beside-namespace": ({"hnsp/honest.py": "VALUE = 'honest'\n"},
                                {"hnsp.py": "import os\n__path__ = []\n"}, {}, "hnsp.py"),
    # a package beside another distribution's tagged extension module
    "package-beside-extension": ({"honestext.cpython-311-x86_64-linux-gnu.so": "not an ELF\n"},
                                 {"honestext/__init__.py": "VALUE = 'evil'\n"}, {},
                                 "honestext/__init__.py"),
    # bin/NAME.py: what every console script imports as NAME
    "bin-module": ({"honestcli/__init__.py": "def main():\n    print('honest')\n"},
                   {"binshadow/__init__.py": ""}, {"honestcli.py": "VALUE = 'evil'\n"},
                   "bin/honestcli.py"),
    # a regular package in a directory a .pth line adds beats a namespace
    # package of another distribution (the start-up probe resolves it)
    "pth-dir-beats-namespace": ({"hnsp/honest.py": "VALUE = 'honest'\n"},
                                {"pthdir.pth": "pthdir_extra\n",
                                 "pthdir_extra/hnsp/__init__.py": "VALUE = 'evil'\n"}, {},
                                "pthdir_extra/hnsp/__init__.py"),
}


@pytest.mark.parametrize("case", sorted(STAND_INS))
def test_standing_in_for_another_distributions_module_is_not_committed(env, case):
    honest, files, scripts, evidence = STAND_INS[case]
    make_wheel(env.dist, "honest-pkg", "1.0", honest)
    env.plain("honest-pkg")
    make_wheel(env.dist, "standin", "1.0", files, data_scripts=scripts or None)
    _not_committed(env, "standin", evidence)


def test_a_console_script_with_a_py_name_is_committed(env):
    """Benign twin of rt3 R3 (bin/re.py): scripts named like docutils'
    rst2html.py, which shadow nothing a script imports, are committed."""
    make_wheel(env.dist, "pytool", "1.0", {"pytool/__init__.py": ""},
               data_scripts={"pytool-report.py": "#!python\nprint('report')\n",
                             "rst2pytool.py": "#!python\nimport pytool\n"})
    r = env.jail("pytool")
    assert_clean(env, r)
    assert os.path.exists(os.path.join(env.venv, "bin", "rst2pytool.py"))


# How a build can copy a secret it can read into a module of its own wheel
# (declared in RECORD, hash right).  Each: (setup.py code that sets `value`
# to the secret as the build sees it, encoding of the copy).
SECRET_SOURCES = {
    "decoy-plain": ("value = os.environ.get('GITHUB_TOKEN', '')", "plain"),
    "decoy-hex": ("value = os.environ.get('PYPI_TOKEN', '')", "hex"),
    "decoy-url": ("value = os.environ.get('AWS_SECRET_ACCESS_KEY', '')", "url"),
    "decoy-base64": ("value = os.environ.get('NPM_TOKEN', '')", "base64"),
    # pip's own credentials, passed to the jail as PIP_* (the user's index).
    "pip-credential": ("value = os.environ.get('PIP_EXTRA_INDEX_URL', '')", "plain"),
    # a .env in the directory pip runs in (the user's project).
    "project-dotenv": ("value = ''\n"
                       "try:\n"
                       "    value = open('/proc/%d/cwd/.env' % os.getppid()).read()\n"
                       "except OSError:\n"
                       "    pass", "base64"),
}

ENCODE = {
    "plain": "value",
    "hex": "value.encode().hex()",
    # every byte percent-encoded, as a thief building a query string might
    "url": "''.join('%%%02X' % b for b in value.encode())",
    "base64": "__import__('base64').b64encode(value.encode()).decode()",
}


# The user's real secrets are out of this check's reach, by design: pipjail
# recognises the tokens it planted (the decoys), not which bytes of the
# user's own PIP_* variables or project files are secret.  The guarantee
# issue 15 asks for is about the run's decoy tokens; keeping real secrets
# out of a build's sight is the jail's business (docs/staging.md, "What the
# check cannot see").  These two stay as strict xfails: if pipjail ever
# learns to find them, the test says so.
REAL_SECRET = pytest.mark.xfail(strict=True, reason=(
    "a real secret of the user, not a decoy of the run: pipjail cannot tell which bytes "
    "are secret (out of scope of the decoy-token scan; docs/staging.md)"))


def _secret_params():
    return [pytest.param(s, marks=[REAL_SECRET] if not s.startswith("decoy") else [])
            for s in sorted(SECRET_SOURCES)]


@pytest.mark.parametrize("source", _secret_params())
def test_secret_copied_into_a_declared_module_is_caught(env, pj, source):
    """Issue 15 (8): the staged files are scanned for the run's decoy tokens
    (plain, base64, hex, URL-encoded); a hit is a violation naming the file
    (rule token-in-file).  The PIP_* credential and the project's .env are
    real secrets of the user: out of scope, strict xfails (see above)."""
    code, enc = SECRET_SOURCES[source]
    setup = ("import os\n"
             f"{code}\n"
             f"with open(os.path.join('leaky', '_build_info.py'), 'w') as f:\n"
             f"    f.write('BUILD = %r\\n' % ({ENCODE[enc]},))\n"
             "from setuptools import setup\n"
             "setup(name='leaky', version='1.0', packages=['leaky'])\n")
    make_sdist(env.dist, "leaky", "1.0", {"leaky/__init__.py": "", "setup.py": setup})
    secret = _secret_token()
    project = os.path.join(env.dir, "project")
    os.mkdir(project)
    with open(os.path.join(project, ".env"), "w") as f:
        f.write(f"DATABASE_PASSWORD={secret}\n")
    envtree.chown_tree(project, env.user.uid, env.user.gid)
    trace = os.path.join(env.dir, "trace.jsonl")
    before = env.snap()
    r = env.jail("leaky", opts=("--trace", trace), cwd=project,
                 env={"PIP_EXTRA_INDEX_URL": f"http://deploy:{secret}@127.0.0.1:9/simple/"})
    wanted = list(decoy_tokens(trace).values()) if source.startswith("decoy") else [secret]
    leaked = sorted({where for where, _, _ in find_leaks(
        tree_blobs(env.venv), {tok: token_forms(tok) for tok in wanted})})
    assert r.returncode in (100, 101), f"the secret reached {leaked}\n{r}"
    assert_unchanged(env, before, r)
    v = [x for x in env.report_json()["violations"]
         if "_build_info.py" in x["evidence"] and x["rule"] == "token-in-file"]
    assert v, f"no violation names the module holding the secret:\n" \
              f"{env.report_json()['violations']}\n{r}"


@pytest.mark.parametrize("path", ["bin/activate", "bin/activate.fish", "pyvenv.cfg", "pip.conf",
                                  "share/pjplant/hook.sh", "etc/pjplant.conf",
                                  "include/pjplant.h", f"{SITE}/usercustomize.py"])
def test_undeclared_write_anywhere_in_the_environment_is_caught(env, path):
    """Issue 15, what must hold: every change to a file of the environment
    that no RECORD of this run declares is a finding, wherever it is."""
    target = os.path.join(env.venv, path)
    setup = ("import os\n"
             f"p = {target!r}\n"
             "os.makedirs(os.path.dirname(p), exist_ok=True)\n"
             "with open(p, 'a') as f:\n"
             "    f.write('\\n# planted\\n')\n"
             "from setuptools import setup\n"
             "setup(name='planter', version='1.0', packages=['planter'])\n")
    make_sdist(env.dist, "planter", "1.0", {"planter/__init__.py": "", "setup.py": setup})
    before = env.snap()
    r = env.jail("planter")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    # A build is not pip: the kernel refuses the write (or the mkdir of its
    # directory) before the call; what got into the stage is the staging
    # check's (the wheel-declared variants below reach it through pip).
    v = refused_or_found(env, target, ("undeclared-file", "env-file", "pip-config",
                                       "startup-hook"))
    assert v, f"no violation names {target}:\n{env.report_json()['violations']}\n{r}"


@pytest.mark.parametrize("path,rule", [
    ("data/bin/activate.fish", "env-file"), ("scripts/activate", "env-file"),
    ("data/pyvenv.cfg", "env-file"), ("data/pip.conf", "pip-config"),
    ("data/etc/pip.conf", "pip-config"), ("purelib/usercustomize.py", "startup-hook")])
def test_wheel_data_file_of_the_environment_itself_is_caught(env, path, rule):
    """Issue 15 (5), through pip: a wheel's .data/ declares a file of the
    environment itself (activate scripts, pyvenv.cfg), a pip configuration
    or a start-up hook.  pip writes it (trusted; the kernel lets it), so the
    staging check is what finds it, declared or not."""
    make_wheel(env.dist, "dataplant", "1.0", {"dataplant/__init__.py": ""},
               data={path: "# planted by dataplant\n"})
    rel = {"data": "", "scripts": "bin/", "purelib": SITE + "/"}[path.split("/")[0]] + \
        path.split("/", 1)[1]
    target = os.path.join(env.venv, rel)
    before = env.snap()
    r = env.jail("dataplant")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    v = [x for x in env.report_json()["violations"] if x["rule"] == rule and target in x["evidence"]]
    assert v, f"no {rule} violation names {target}:\n{env.report_json()['violations']}\n{r}"


def test_import_check_covers_a_distribution_whose_modules_start_with_underscores(env):
    """Issue 15 (1): the import check covers every installed distribution,
    names that start with _ included."""
    make_wheel(env.dist, "dunder", "1.0", {
        "__dunder_impl/__init__.py": ("import os\n"
                                      "KEY = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"),
        "_dunder_private.py": "X = 1\n"})
    before = env.snap()
    r = env.jail("dunder")
    assert r.returncode in (100, 101), str(r)
    assert_unchanged(env, before, r)
    v = env.violations(role="import", rule="decoy-read")
    assert v, f"the import check did not import __dunder_impl: " \
              f"{env.report_json()['violations']}\n{r}"


def test_force_reinstall_of_setuptools_equals_plain_pip(env):
    """Benign twin of tests/attacks/persist_distutils_hack: reinstalling
    setuptools itself rewrites _distutils_hack/ and setuptools' RECORD, and
    is clean (the distribution that owned them is the one reinstalled)."""
    before, plain, jailed, r = twin(env, ["--force-reinstall", "--no-deps", "setuptools"])
    assert_clean(env, r)
    assert_equals_plain(env, plain, jailed, r)


def test_legitimate_wheel_data_files_equal_plain_pip(env):
    """Benign twin of tests/attacks/persist_data_*: a wheel with .data/
    purelib, platlib, data (share/, etc/), scripts and headers installs clean
    and identical to plain pip."""
    make_wheel(env.dist, "datafull", "1.0", {"datafull/__init__.py": "V = 1\n"},
               data={"purelib/datafull_pure.py": "P = 1\n",
                     "platlib/datafull_plat.py": "Q = 1\n",
                     "data/share/datafull/README": "data\n",
                     "data/etc/datafull/datafull.conf": "[datafull]\nlevel = 1\n",
                     "headers/datafull.h": "#define DATAFULL 1\n"},
               data_scripts={"datafull-tool": "#!python\nimport datafull\nprint(datafull.V)\n",
                             "datafull-sh": "#!/bin/sh\necho datafull\n"})
    before, plain, jailed, r = twin(env, ["datafull"])
    assert_clean(env, r)
    assert_equals_plain(env, plain, jailed, r)
    out = env.python("import datafull, datafull_pure, datafull_plat; print('ok')")
    assert out.stdout.strip() == "ok", str(out)
