"""The attack corpus (tests/attacks/): one small package per technique that
real malicious PyPI packages have used, installed for real by pip under
pipjail into a fresh copy of a venv, and held to what its case.json says
pipjail must do.

Each case directory holds the package's source files as plain files and a
case.json:

    {"technique": "...", "category": "secrets",
     "acts": "setup.py" | "cmdclass-build" | "cmdclass-install" | "backend" | "import",
     "dist": "sdist" | "wheel",              (default sdist)
     "build": "no-isolation" | "isolated" | "legacy",   (default no-isolation)
     "pipjail_args": [...],                  (before the command)
     "exclusive": true,                      (bombs: run with nothing else)
     "index": true,                          pip installs from a local PEP 503
                                             index (below) instead of --find-links
     "extra_dists": [{"name": ..., "version": ..., "files": {path: text}}],
                                             more projects, as wheels, beside it
     "activated": true,                      the venv's bin/ first on PATH and
                                             VIRTUAL_ENV set (an activated venv,
                                             the usual Docker image)
     "project_files": {path: text},          files of the user's project, the
                                             directory pipjail runs in
     "after": ["python", "activate", "pip", "import:MOD", "tokens"],
                                             what must not fire the payload later
     "needs": "ia32" | "unix-guard",         a kernel feature the outcome depends
                                             on (see Case)
     "expect": {"action": "killed" | "refused" | "reported" | "prevented" | "contained"
                           | "not-committed",
                                             or a list: any one of them will do
                "rules": ["decoy-read"],     every one must be in the report
                "rules_any": ["a", "b"],     at least one of them must be
                "hook": "build_wheel",       the hook of the first violation of a rule
                "package": "name" | null | "*",  (default: the case's package;
                                             null: pip; "*": any)
                "evidence": "regex",         a violation of the first rule matches it
                "exit": 101 | [100, 101],    pipjail's exit status
                "verdict": ["violation"],    the report's verdict is one of these
                "output": "regex"},          pip's output shows it (prevented cases)
     "xfail": "reason"}                      only for a fix out of reach

"contained": the verdict is not clean (a violation, or "incomplete"),
pipjail's exit is not 0, and everything below holds; which rule fired is
left to "rules"/"rules_any" when the case says.  "not-committed" is
"contained" with at least one violation of the package ("package" says
which; the venv's tree hash, checked for every case, says nothing was
committed).

Files are packed into an sdist (tests/lib/sdist.py) or a wheel (made here
with zipfile and a correct RECORD) on the host, never run there.  In a wheel
case, files under <dist>-<version>.data/ are the wheel's data (purelib,
platlib, data, scripts, headers); scripts get the executable bit.
Placeholders in file contents: @@PORT@@ (a TCP listener the test runs on the
host's 127.0.0.1, unreachable from the jail), @@PORT2@@ (a listener on
127.0.0.2), @@MARK@@ (a token unique to the run: marker files and processes
carry it), @@NAME@@ (the package name), @@AFTER@@ (the marker file a
persistence payload writes whenever it runs: /tmp/pjafter-<mark>; in the
jail that is the jail's own /tmp), @@USTREAM@@ and @@UDGRAM@@ (host
pathname unix sockets, stream and datagram, listening in a host directory
the jail shows: nothing may connect or arrive), @@HOSTFILE@@ (a host file
of the user in that directory, which no build has a reason to read) holding
@@HOSTSECRET@@, @@SECRET@@ (a real-looking secret for "project_files"), and
with "index": @@INDEX@@ (http://127.0.0.1:PORT, the index; only pip reaches
it, through pipjail's egress proxy) and @@INDEXPORT@@.

The index serves the case's distribution, its extra_dists and Debian's
wheels (setuptools, wheel: what an isolated build installs); pip gets
--index-url and nothing else.  Every run writes a trace, whose header
holds the run's decoy tokens, for the leak checks below.

"after" holds a persistent payload to what it must not do once the install
is over.  Each step runs as the test user on the host, on the environment as
pipjail left it (committed or not), then the marker @@AFTER@@ must not exist
and the listeners and unix sockets must not have been reached: "python"
starts the environment's interpreter (`bin/python -c pass`), "activate"
sources bin/activate in bash, "pip" runs the environment's pip against an
empty file:// index (`python -m pip download`: pip.conf is read, the site.py
of the interpreter runs), "import:MOD" imports MOD with the environment's
interpreter, "tokens" searches every file of the environment again, at that
point of the steps, for what the check right after the run (below, every
case) searches it for: a secret an earlier step wrote there counts too.

Every case asserts: the verdict names the package, hook, rule and action;
the host is untouched (the test user's home with its planted real secrets,
/etc/passwd, /etc/shadow, /etc/cron.d, /tmp, the project directory: hashed
before and after; no marker file; no process left; nothing reached the
listeners, the unix sockets or the index: none of the run's mark, decoy
tokens (in every form tests/lib/leaks.py's token_forms knows: as is, hex,
percent-encoded, base64 at any alignment), planted secrets or host secrets
in any request); the environment is unchanged (the venv's tree hash) and
holds no secret.  Each result is written to build/attack-results.json, from
which scripts/attack-table.py makes the README table.
PIPJAIL_ATTACK_KEEP=DIR keeps each case's report, trace and pipjail's output
there.
"""
import base64
import csv
import glob
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tarfile
import threading
import time
import zipfile

import pytest

from lib import host
from lib.index import IndexServer
from lib.leaks import as_is, decoy_tokens, find_leaks, token_forms, tree_blobs
from lib.pj import REPO, SAFE_PATH, SANITIZER_MARKS, runuser
from lib.bases import WHEELS, chown_tree
from lib.sdist import MTIME, make_sdist

pytestmark = pytest.mark.corpus

TESTS = os.path.dirname(os.path.abspath(__file__))
ATTACKS = os.path.join(TESTS, "attacks")
RESULTS = os.path.join(REPO, "build", "attack-results.json")
ACTIONS = ("killed", "refused", "reported", "prevented", "contained", "not-committed")
AFTER_STEPS = ("python", "activate", "pip", "tokens")
ACTS = ("setup.py", "cmdclass-build", "cmdclass-install", "backend", "import")
RACED = "kill failed (the process was already gone)"




# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(ATTACKS, name)
        with open(os.path.join(self.dir, "case.json")) as f:
            self.spec = json.load(f)
        s = self.spec
        self.technique = s["technique"]
        self.category = s["category"]
        self.acts = s["acts"]
        self.dist = s.get("dist", "sdist")
        self.build = s.get("build", "no-isolation")
        self.package = s.get("package", "pjatk-" + name.replace("_", "-"))
        self.version = s.get("version", "1.0")
        self.pipjail_args = s.get("pipjail_args", [])
        self.exclusive = s.get("exclusive", False)
        self.expect = s["expect"]
        self.xfail = s.get("xfail")
        self.note = s.get("note")
        # "needs": "ia32": the technique is an i386 system call (int 0x80).
        # A kernel without the i386 entry (host.ia32_emulation() probes it
        # outside the jail) faults it with SIGSEGV before any system call:
        # expect_without_ia32 says what happens there.
        # "needs": "unix-guard": the technique reaches a host pathname unix
        # socket; only pipjail's unix-socket guard (cgroup connect_unix /
        # sendmsg_unix programs, Linux 6.7; host.unix_guard_hooks() probes
        # the kernel) refuses it before a byte moves.  Without the hooks
        # pipjail only hides known socket directories: the case is expected
        # to get through there (xfail, strict).
        assert s.get("needs") in (None, "ia32", "unix-guard"), f"{name}: needs {s.get('needs')!r}"
        if s.get("needs") == "ia32" and not host.ia32_emulation():
            self.expect = s["expect_without_ia32"]
            self.note = s.get("note_without_ia32", self.note)
        if s.get("needs") == "unix-guard" and not host.unix_guard_hooks():
            self.xfail = ("this kernel has no connect_unix/sendmsg_unix cgroup hooks (Linux 6.7): "
                          "pipjail hides known socket directories only")
        self.index = s.get("index", False)
        self.extra_dists = s.get("extra_dists", [])
        self.activated = s.get("activated", False)
        self.project_files = s.get("project_files", {})
        self.after = s.get("after", [])
        assert all(a in AFTER_STEPS or a.startswith("import:") for a in self.after), \
            f"{name}: after {self.after!r}"
        assert self.acts in ACTS, f"{name}: acts {self.acts!r}"
        assert all(a in ACTIONS for a in self.actions), f"{name}: action {self.expect['action']!r}"
        assert self.dist in ("sdist", "wheel") and \
            self.build in ("no-isolation", "isolated", "legacy"), name
        assert not (self.index and self.build == "legacy"), name

    @property
    def actions(self):
        a = self.expect["action"]
        return list(a) if isinstance(a, list) else [a]

    def files(self, subst):
        out = {}
        for root, _, names in os.walk(self.dir):
            for n in names:
                full = os.path.join(root, n)
                rel = os.path.relpath(full, self.dir)
                if rel == "case.json" or "__pycache__" in rel:
                    continue
                with open(full, "rb") as f:
                    data = f.read()
                for k, v in subst.items():
                    data = data.replace(k.encode(), v.encode())
                out[rel] = data
        return out


def all_cases():
    return sorted(d for d in os.listdir(ATTACKS)
                  if os.path.isfile(os.path.join(ATTACKS, d, "case.json")))


def case_params():
    out = []
    for name in all_cases():
        c = Case(name)
        marks = [pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else []
        out.append(pytest.param(name, id=name, marks=marks))
    return out


# ---------------------------------------------------------------- wheels

def _b64(digest):
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_wheel(dir, name, version, files):
    """Write a py3-none-any wheel holding `files` (path -> bytes) with
    METADATA, WHEEL and a RECORD that lists every file with its hash."""
    dist = re.sub(r"[-_.]+", "_", name).lower()
    info = f"{dist}-{version}.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                 "Summary: pipjail test package\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: pipjail-tests\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    rows = io.StringIO()
    w = csv.writer(rows, lineterminator="\n")
    for rel in sorted(files):
        data = files[rel] if isinstance(files[rel], bytes) else files[rel].encode()
        files[rel] = data
        w.writerow([rel, "sha256=" + _b64(hashlib.sha256(data).digest()), str(len(data))])
    w.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = rows.getvalue().encode()
    path = os.path.join(dir, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in sorted(files):
            zi = zipfile.ZipInfo(rel, time.gmtime(MTIME)[:6])
            # .data/scripts keep their executable bit, as wheel builders do.
            mode = 0o755 if re.match(r"[^/]+\.data/scripts/", rel) else 0o644
            zi.external_attr = (stat.S_IFREG | mode) << 16
            z.writestr(zi, files[rel])
    return path


def drop_member(sdist, rel):
    """Rewrite an sdist without <base>/rel: make_sdist always adds a
    pyproject.toml, and a legacy project has none."""
    with tarfile.open(sdist) as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None)
                   for m in src.getmembers() if m.name.split("/", 1)[-1] != rel]
    with tarfile.open(sdist, "w:gz", format=tarfile.PAX_FORMAT) as out:
        for m, data in members:
            out.addfile(m, io.BytesIO(data) if data is not None else None)


# ---------------------------------------------------------------- host state

def tree_hash(root, content=True):
    """{relative path: (type, size or target, sha256, links, mode, uid, gid)}
    of everything under root (root itself included); content=False: the
    size and mtime instead of the hash (cheap, for trees only read)."""
    out = {}
    if not os.path.lexists(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for n in [""] + dirnames + filenames:
            full = os.path.join(dirpath, n) if n else dirpath
            rel = os.path.relpath(full, root)
            if n == "" and dirpath != root:
                continue
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                what = ("l", os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                if content:
                    h = hashlib.sha256()
                    with open(full, "rb") as f:
                        for chunk in iter(lambda: f.read(1 << 20), b""):
                            h.update(chunk)
                    digest = h.hexdigest()
                else:
                    digest = st.st_mtime_ns
                what = ("f", st.st_size, digest, st.st_nlink)
            else:
                what = ("d" if stat.S_ISDIR(st.st_mode) else "o",)
            out[rel] = what + (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return out


def diff_trees(before, after):
    lines = []
    for k in sorted(set(before) | set(after)):
        if before.get(k) != after.get(k):
            lines.append(f"{k}: {before.get(k)} -> {after.get(k)}")
    return lines


def account_lines(path, names):
    """The lines of /etc/passwd or /etc/shadow for these users: other test
    suites add and remove their own users on this machine meanwhile."""
    with open(path) as f:
        return sorted(line for line in f if line.split(":", 1)[0] in names)


def host_state(user):
    """What no jailed install may change on the host.  Shared places (/tmp)
    are checked for the run's own marks instead (see test_attack)."""
    names = ("root", user.name)
    return {
        "home": tree_hash(user.home),
        "/etc/passwd": account_lines("/etc/passwd", names),
        "/etc/shadow": account_lines("/etc/shadow", names),
        "/etc/cron.d": tree_hash("/etc/cron.d"),
        "/etc/profile.d": tree_hash("/etc/profile.d"),
        "/root/.ssh": tree_hash("/root/.ssh"),
    }


def compare_host(before, after):
    problems = []
    for k in before:
        if isinstance(before[k], dict):
            d = diff_trees(before[k], after[k])
            if d:
                problems.append(f"{k} changed:\n    " + "\n    ".join(d))
        elif before[k] != after[k]:
            problems.append(f"{k} changed")
    return problems


class Listener:
    """A TCP listener on the host's loopback that counts connections (the
    jail must not reach it) and a UDP socket on the same port."""

    def __init__(self, addr):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((addr, self.port))
        self.udp.settimeout(0.2)
        self.hits = []
        self._stop = False
        self.sock.settimeout(0.2)
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop:
            try:
                c, peer = self.sock.accept()
                self.hits.append(("tcp", peer))
                c.close()
            except OSError:
                pass
            try:
                data, peer = self.udp.recvfrom(4096)
                self.hits.append(("udp", peer))
            except OSError:
                pass

    def close(self):
        self._stop = True
        self._t.join(timeout=5)
        self.sock.close()
        self.udp.close()


class UnixListeners:
    """Host pathname unix sockets, a stream listener and a datagram socket,
    in a host directory the jail shows (read-only, as the whole host is):
    what a jailed process may find under the current directory, /var/lib,
    /run, ...  Everything that arrives is kept; the jail must reach neither."""

    def __init__(self, directory):
        os.makedirs(directory, mode=0o755, exist_ok=True)
        self.stream_path = os.path.join(directory, "agent.sock")
        self.dgram_path = os.path.join(directory, "log.dgram")
        self.stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.stream.bind(self.stream_path)
        self.stream.listen(16)
        self.stream.settimeout(0.2)
        self.dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.dgram.bind(self.dgram_path)
        self.dgram.settimeout(0.2)
        for p in (self.stream_path, self.dgram_path):
            os.chmod(p, 0o666)   # any local user may talk to it, as to a desktop agent
        self.hits = []           # ("stream" | "dgram", bytes)
        self._stop = False
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _serve(self, c):
        c.settimeout(2)
        data = b""
        try:
            while len(data) < (1 << 20):
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        c.close()
        with self._lock:
            self.hits.append(("stream", data))

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.stream.accept()
                threading.Thread(target=self._serve, args=(c,), daemon=True).start()
            except OSError:
                pass
            try:
                data = self.dgram.recv(65536)
                with self._lock:
                    self.hits.append(("dgram", data))
            except OSError:
                pass

    def received(self):
        with self._lock:
            return list(self.hits)

    def close(self):
        self._stop = True
        self._t.join(timeout=5)
        self.stream.close()
        self.dgram.close()


def proxy_senders(trace, request_lines):
    """For requests that carried a leak: which process the proxy forwarded
    each one for (its role and program, from the trace's proxy notes and
    exec events)."""
    paths = set()
    for line in request_lines:
        parts = line.split(" ")
        if len(parts) >= 2:
            paths.add(parts[1].split("?", 1)[0])
    notes, execs = [], {}
    try:
        with open(trace) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("type") == "note" and rec.get("kind") == "proxy":
                    notes.append(rec)
                elif rec.get("kind") == "exec" and rec.get("hpid"):
                    execs.setdefault(rec["hpid"], []).append(
                        " ".join(str(a) for a in (rec.get("argv") or [])[:3]))
    except (OSError, ValueError):
        return []
    out = []
    # What was forwarded first: that is what got out.
    notes.sort(key=lambda n: n.get("outcome") != "forwarded")
    for n in notes:
        if (n.get("path") or "").split("?", 1)[0] in paths or n.get("method") == "CONNECT":
            out.append(f"{n.get('method')} {(n.get('path') or n.get('host') or '')[:48]}: "
                       f"{n.get('outcome')} "
                       f"for hpid {n.get('hpid')} role {n.get('role')} "
                       f"(execs: {execs.get(n.get('hpid'), ['?'])[-2:]})")
    return out


def env_blobs(venv):
    """The environment's files as blobs for find_leaks."""
    return ((f"the venv's {rel}", data) for rel, data in tree_blobs(venv))


def describe_leaks(leaks):
    """One line for find_leaks's [(where, name, encoding)], by where."""
    by_where = {}
    for where, name, enc in leaks:
        by_where.setdefault(where, []).append(name if enc == "as is" else f"{name} ({enc})")
    shown = list(by_where.items())
    return ("; ".join(f"{', '.join(whats)} in {where}" for where, whats in shown[:3]) +
            (f"; and in {len(shown) - 3} more" if len(shown) > 3 else ""))


# ---------------------------------------------------------------- fixtures

def _load_results():
    try:
        with open(RESULTS) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {"format": "pipjail-attack-results", "cases": {}}


_results_lock = threading.Lock()


def record_result(case, binary, nodeid, outcome):
    """Merge one case's outcome into build/attack-results.json."""
    with _results_lock:
        data = _load_results()
        entry = data["cases"].setdefault(case.name, {})
        entry.update(technique=case.technique, category=case.category, acts=case.acts,
                     dist=case.dist, build=case.build, package=case.package,
                     expect=case.expect, xfail=case.xfail, note=case.note, test=nodeid.split("[")[0] +
                     f"[{case.name}]")
        entry.setdefault("runs", {})[binary] = outcome
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        tmp = RESULTS + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, RESULTS)


# ---------------------------------------------------------------- the run

def pip_command(case, venv, dist, index=None):
    cmd = [os.path.join(venv, "bin", "python"), "-m", "pip", "install"]
    if index:
        cmd += ["--disable-pip-version-check", "--index-url", index.url]
    else:
        cmd += ["--no-index", "--find-links", WHEELS, "--find-links", dist]
    if case.build == "no-isolation":
        cmd.append("--no-build-isolation")
    return cmd + [case.package]


def fill(text, subst):
    for k, v in subst.items():
        text = text.replace(k, v)
    return text


def stray_processes(marks):
    found = set()
    for m in marks:
        found |= host.processes_matching(m)
    return found


# ---------------------------------------------------------------- after the install

AFTER_WHAT = {"python": "the next start of the environment's python",
              "activate": "the next `source bin/activate`",
              "pip": "the next run of the environment's pip"}


def after_install(case, venv, marker, user, workdir, reached, needles, seen):
    """Run the case's "after" steps on the environment as pipjail left it;
    returns the problems (the payload ran, a listener or a unix socket was
    reached, a secret is in the environment).  reached(): what the listeners
    and sockets got so far; needles and seen: what the check right after the
    run searched the environment for, and what it found there (a "tokens"
    step reports only what is new)."""
    problems = []
    py = os.path.join(venv, "bin", "python")
    index = os.path.join(workdir, "after-index")
    out = os.path.join(workdir, "after-out")
    for d in (index, out):
        os.makedirs(d, exist_ok=True)
        os.chown(d, user.uid, user.gid)
    done = []
    for step in case.after:
        if step == "tokens":
            new = [x for x in find_leaks(env_blobs(venv), needles) if x not in seen]
            if new:
                problems.append(f"after {', '.join(done) or 'the install'}, the environment "
                                "holds: " + describe_leaks(new))
            seen = seen + new
            continue
        before = len(reached())
        if step == "python":
            argv = [py, "-c", "pass"]
        elif step == "activate":
            argv = ["bash", "-c", f". {venv}/bin/activate"]
        elif step == "pip":
            argv = [py, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
                    "--no-cache-dir", "--timeout", "3", "--retries", "0",
                    "--index-url", "file://" + index, "-d", out, "pjatk-after-probe"]
        else:
            argv = [py, "-c", f"import {step.split(':', 1)[1]}"]
        what = AFTER_WHAT.get(step, f"the next `import {step.split(':', 1)[-1]}`")
        done.append(step)
        try:
            r = runuser(user, *argv, env={"PYTHONDONTWRITEBYTECODE": "1"}, timeout=60)
        except subprocess.TimeoutExpired:
            problems.append(f"{what} did not return within 60 s")
            continue
        time.sleep(0.3)
        if os.path.lexists(marker):
            problems.append(f"the payload ran at {what}: {marker} appeared "
                            f"(exit {r.returncode})")
            os.unlink(marker)
        now = reached()
        if len(now) > before:
            problems.append(f"{what} reached the attacker's listener or socket: "
                            f"{[(k, repr(v)[:80]) for k, v in now[before:]][:4]}")
    return problems


@pytest.mark.parametrize("name", case_params())
def test_attack(pj, name, workdir, test_user, planted_secrets, attack_bases, request):
    case = Case(name)
    mark = "pjmark" + secrets.token_hex(6)
    l1, l2 = Listener("127.0.0.1"), Listener("127.0.0.2")
    # Host pathname sockets and a host file of the user, in a directory the
    # jail shows (the session directory is under /var/lib).
    unix = UnixListeners(os.path.join(workdir, "run"))
    host_file = os.path.join(workdir, "run", "notes.txt")
    host_secret = "PJHOST-" + secrets.token_hex(16)
    project_secret = "ghp_" + secrets.token_hex(18)
    index = None
    after_marker = f"/tmp/pjafter-{mark}"
    # A host process of the same user: a package that guesses host pids
    # must not reach it.
    victim = subprocess.Popen(["sleep", "600"], user=test_user.uid, group=test_user.gid,
                              extra_groups=[])
    try:
        dist = os.path.join(workdir, "dist")
        os.mkdir(dist)
        subst = {"@@PORT@@": str(l1.port), "@@PORT2@@": str(l2.port), "@@MARK@@": mark,
                 "@@NAME@@": case.package, "@@HOSTPID@@": str(victim.pid),
                 "@@USTREAM@@": unix.stream_path, "@@UDGRAM@@": unix.dgram_path,
                 "@@HOSTFILE@@": host_file, "@@HOSTSECRET@@": host_secret,
                 "@@SECRET@@": project_secret, "@@AFTER@@": after_marker}
        if case.index:
            for whl in glob.glob(os.path.join(WHEELS, "*.whl")):
                shutil.copy(whl, dist)
            index = IndexServer(dist).start()
            subst.update({"@@INDEX@@": index.root, "@@INDEXPORT@@": str(index.port)})
        with open(host_file, "w") as f:
            f.write(f"# the user's notes\napi_key = {host_secret}\n")
        os.chmod(host_file, 0o600)
        files = case.files(subst)
        if case.dist == "wheel":
            make_wheel(dist, case.package, case.version, files)
        else:
            sdist = make_sdist(dist, case.package, case.version, files)
            if case.build == "legacy" and "pyproject.toml" not in files:
                drop_member(sdist, "pyproject.toml")
        for extra in case.extra_dists:
            make_wheel(dist, extra["name"], extra.get("version", "1.0"),
                       {k: fill(v, subst) for k, v in extra["files"].items()})
        venv = os.path.join(workdir, "venv")
        subprocess.run(["cp", "-a", attack_bases["legacy" if case.build == "legacy"
                                                  else "pep517"], venv], check=True)
        project = os.path.join(workdir, "project")
        os.makedirs(os.path.join(project, ".git", "hooks"))
        with open(os.path.join(project, "README"), "w") as f:
            f.write("the user's project\n")
        for rel, text in case.project_files.items():
            path = os.path.join(project, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(fill(text, subst))
        chown_tree(workdir, test_user)
        report = os.path.join(workdir, "report.json")
        trace = os.path.join(workdir, "trace.jsonl")
        env = {"PYTHONDONTWRITEBYTECODE": "1"}
        if case.activated:
            env.update(PATH=os.path.join(venv, "bin") + ":" + SAFE_PATH, VIRTUAL_ENV=venv)
        # The trace's header holds the run's decoy tokens (the leak checks).
        extra_args = ["--trace", trace]

        env_before = tree_hash(venv)
        base_before = tree_hash(attack_bases["pep517"], content=False)
        project_before = tree_hash(project)
        host_before = host_state(test_user)
        host_file_before = tree_hash(os.path.dirname(host_file))
        snap = host.Snapshot(test_user.uid)
        t0 = time.monotonic()
        r = pj.run("--report", report, *extra_args, *case.pipjail_args, "--",
                   *pip_command(case, venv, dist, index), cwd=project, timeout=300,
                   env=env, check_leftovers=False)
        elapsed = time.monotonic() - t0
        time.sleep(0.3)  # let a listener see a late connection
        problems = []
        # pj.run's own check, except for processes: other test suites may
        # run as the test user meanwhile; ours carry the mark or the venv.
        bad = [m for m in SANITIZER_MARKS if m in r.stderr or m in r.stdout]
        if bad:
            problems.append(f"sanitizer report from {pj.name}")
        problems += [x for x in snap.leftovers(r.pid) if not x.startswith("process left")
                     and (not x.startswith("cgroup left") or f"pipjail.{r.pid}." in x)]
        problems += compare_host(host_before, host_state(test_user))
        for what, before, after in (("the venv", env_before, tree_hash(venv)),
                                    ("the base venv", base_before,
                                     tree_hash(attack_bases["pep517"], content=False)),
                                    ("the project", project_before, tree_hash(project)),
                                    ("the host directory of the sockets", host_file_before,
                                     tree_hash(os.path.dirname(host_file)))):
            d = diff_trees(before, after)
            if d:
                problems.append(f"{what} changed:\n    " + "\n    ".join(d[:20]))
        markers = [p for d in ("/tmp", "/var/tmp", "/dev/shm", "/etc", "/etc/cron.d")
                   for p in glob.glob(f"{d}/*{mark}*") + glob.glob(f"{d}/.*{mark}*") +
                   glob.glob(f"{d}/*pjatk*") + glob.glob(f"{d}/.*pjatk*")]
        if markers:
            problems.append(f"marker files on the host: {markers}")
        left = stray_processes([mark, venv])
        if left:
            problems.append("processes left: " + ", ".join(f"{p} {host.cmdline(p)!r}"
                                                          for p in left))
            for p in left:
                try:
                    os.kill(p, 9)
                except ProcessLookupError:
                    pass
        if victim.poll() is not None:
            problems.append(f"a host process of the user was killed ({victim.returncode})")
        if l1.hits or l2.hits:
            problems.append(f"the host's listeners were reached: {l1.hits + l2.hits}")
        got = unix.received()
        if got:
            problems.append(f"the host's unix sockets were reached: {len(got)} time(s), "
                            f"{sum(len(d) for _, d in got)} bytes: "
                            f"{[(k, d[:120]) for k, d in got[:4]]}")
        # What may never leave: the mark, the run's decoy tokens, the user's
        # secrets (planted in the real home, in the project, in the host file).
        needles = {"the run's mark": as_is(mark),
                   "the host file's secret": as_is(host_secret),
                   "the project's secret": as_is(project_secret)}
        needles.update({f"the real ~/{rel}": as_is(v) for rel, v in planted_secrets.items()})
        needles.update({f"the decoy token of {w}": token_forms(t)
                        for w, t in decoy_tokens(trace).items()})
        blobs = [(f"unix socket ({k})", d) for k, d in got]
        if index:
            blobs += [("index request " + raw.split(b"\r\n", 1)[0][:200].decode(errors="replace"),
                       raw) for raw in index.raw_requests()]
        leaks = find_leaks(blobs, needles)
        secret_needles = {k: v for k, v in needles.items() if k != "the run's mark"}
        in_env = find_leaks(env_blobs(venv), secret_needles)
        leaks += in_env
        if leaks:
            problems.append("got out: " + describe_leaks(leaks))
            senders = proxy_senders(trace, sorted({w[len("index request "):] for w, _, _ in leaks
                                                   if w.startswith("index request ")}))
            if senders:
                problems.append("the proxy forwarded them: " + "; ".join(senders[:6]))
        # Last: what the environment does later (it may leave a marker).
        problems += after_install(case, venv, after_marker, test_user, workdir,
                                  lambda: l1.hits + l2.hits + unix.received(),
                                  secret_needles, in_env)
    finally:
        if os.path.lexists(after_marker):
            os.unlink(after_marker)
        l1.close()
        l2.close()
        unix.close()
        if index:
            index.stop()
        if victim.poll() is None:
            victim.kill()
        victim.wait()

    rep = None
    if os.path.exists(report):
        with open(report) as f:
            rep = json.load(f)
    keep = os.environ.get("PIPJAIL_ATTACK_KEEP")
    if keep:
        # For a look afterwards: the report, the trace and pipjail's output.
        os.makedirs(keep, exist_ok=True)
        for f in (report, trace):
            if os.path.exists(f):
                shutil.copy(f, os.path.join(keep, f"{name}.{os.path.basename(f)}"))
        with open(os.path.join(keep, f"{name}.output.txt"), "w") as f:
            f.write(str(r))
    if os.path.exists(trace):
        os.unlink(trace)
    # Sixty venv copies would make the session's teardown slow: the report
    # and the results file keep what matters.
    shutil.rmtree(venv, ignore_errors=True)
    outcome = judge(case, r, rep, problems)
    outcome["seconds"] = round(elapsed, 1)
    record_result(case, pj.name, request.node.nodeid, outcome)
    assert outcome["caught"], "\n".join(outcome["failures"]) + f"\n{r}"


def killed(v):
    """The violation's outcome says the violator (or the jail) was killed:
    "killed", "killed the jail", "refused by the kernel (EPERM); killed",
    "killed; the call failed (ENOENT)" -- not "kill failed (...)"."""
    return re.search(r"(^|; )killed\b", v.get("outcome", "")) is not None


def judge(case, r, rep, problems):
    """Hold the run to case.json; returns the outcome for the results file."""
    exp = case.expect
    failures = list(problems)
    want_pkg = exp.get("package", case.package)
    violations = (rep or {}).get("violations", [])
    ours = [v for v in violations if want_pkg == "*" or v.get("package") == want_pkg]
    who = "any package" if want_pkg == "*" else (want_pkg or "pip")
    seen_rules = sorted({v["rule"] for v in ours})
    outcomes = sorted({v.get("outcome", "") for v in ours})
    first = {}
    for v in ours:
        first.setdefault(v["rule"], v)
    got = [(v.get("package"), v["rule"], v["evidence"]) for v in violations]
    if rep is None:
        failures.append("no report was written")
    for rule in exp.get("rules", []):
        if rule not in first:
            failures.append(f"no {rule!r} violation by {who} (got: {got})")
    if exp.get("rules_any") and not any(rule in first for rule in exp["rules_any"]):
        failures.append(f"no violation of any of {exp['rules_any']} by {who} (got: {got})")
    if exp.get("rules"):
        v = first.get(exp["rules"][0])
        if v:
            if "hook" in exp and v.get("hook") != exp["hook"]:
                failures.append(f"{v['rule']} violation in hook {v.get('hook')!r}, "
                                f"expected {exp['hook']!r}")
            if exp.get("evidence") and not re.search(exp["evidence"], v["evidence"]):
                failures.append(f"evidence {v['evidence']!r} does not match "
                                f"{exp['evidence']!r}")
    # A kill decided in user space races the violator: a short-lived process
    # (one call, then exit) can be gone before SIGKILL lands.  The violation
    # is still caught and the install not committed (checked above); the
    # report says "kill failed (the process was already gone)" and pipjail
    # exits 100.  That is recorded as "raced", never as "killed".
    raced = False
    matched = None
    action_failures = []
    for action in case.actions:
        af = []
        a_raced = False
        if action == "killed":
            if not any(killed(v) for v in ours):
                if any(RACED in v.get("outcome", "") for v in ours):
                    a_raced = True
                else:
                    af.append(f"no violator of {who} was killed (outcomes {outcomes})")
            if rep and not rep.get("killed") and not a_raced:
                af.append("the report does not say a violator was killed")
        elif action == "reported":
            if not any("reported" in v.get("outcome", "") for v in ours):
                af.append(f"no violation of {who} was reported (outcomes {outcomes})")
        elif action == "refused":
            if not any("refused" in v.get("outcome", "") or v.get("call_failed") for v in ours):
                af.append(f"no violation of {who} was refused (outcomes {outcomes})")
        elif action in ("contained", "not-committed"):
            if action == "not-committed" and not ours:
                af.append(f"no violation of {who} (got: {got})")
            if rep and rep.get("verdict") == "clean":
                af.append("the verdict is clean")
            if r.returncode == 0:
                af.append("pipjail exited 0, as for a clean run")
        if not af:
            matched, raced = action, a_raced
            break
        action_failures.append(af)
    if matched is None:
        if len(case.actions) == 1:
            failures += action_failures[0]
        else:
            failures.append(f"none of the actions {case.actions} holds: " +
                            " / ".join("; ".join(af) for af in action_failures))
    exits = exp.get("exit")
    exits = exits if isinstance(exits, list) else [exits] if exits is not None else None
    if exits is not None and r.returncode not in exits and not (raced and r.returncode == 100):
        failures.append(f"pipjail exited {r.returncode}, expected {' or '.join(map(str, exits))}")
    if exp.get("verdict") and (rep or {}).get("verdict") not in exp["verdict"]:
        failures.append(f"verdict {(rep or {}).get('verdict')!r}, expected one of {exp['verdict']}")
    if exp.get("output") and not re.search(exp["output"], r.stdout + r.stderr):
        failures.append(f"the output does not show {exp['output']!r}")
    if rep and rep.get("exit", {}).get("code") not in (None, r.returncode):
        failures.append(f"report exit {rep['exit']} differs from pipjail's {r.returncode}")
    # A run that was not clean is never committed: checked through the
    # venv's tree hash above.
    caught = not failures
    return {
        "caught": caught,
        "action": ("reported" if raced else matched) if caught else "not caught",
        "rules": seen_rules,
        "hooks": sorted({v.get("hook") or "" for v in ours}),
        "outcomes": outcomes,
        "exit": r.returncode,
        "verdict": (rep or {}).get("verdict"),
        "raced": raced,
        "failures": failures,
    }
