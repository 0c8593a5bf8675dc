"""The benign corpus: ordinary packages, built with every common backend,
must install under the `default` profile with no violation, and the result
must be what plain pip produces.

Each directory of tests/benign/ is one case: the project's files as plain
files and a case.json saying what it exercises and how it is installed:

  dist, version  the distribution (the report must name it when it is built)
  backend        the build backend, for the reader
  exercises      what the build does that a sandbox could trip over
  source         "sdist" (packed here with tarfile), "wheel" (packed here
                 with zipfile, RECORD computed), "tree" (a project
                 directory) or "git-tag" (a directory made a git repository
                 with the tag `tag`)
  command        "install", "editable" (pip install -e), "wheel" (pip
                 wheel -w OUT) or "download" (pip download -d OUT)
  check          Python run with the venv's interpreter after the install
                 (outside the jail, as the test user; VENV, SRC, OUT set)
  projects       optional: several projects (subdirectories) packed
                 side by side, [{"dir", "dist", "version"}]
  requirements   optional: what pip is asked for (default: dist)
  venv           optional: "no-wheel" for a venv without system
                 site-packages and without `wheel` (pip's legacy
                 `setup.py install` path); default: the base venv below
  legacy         optional: true when plain pip runs `setup.py install`
                 and pipjail installs a wheel instead (legacy_as_wheel
                 says which differences that makes, and accepts only those)

Every case runs twice with the same paths: once with plain pip as the test
user (the twin, once per session), once under pipjail.  Both start from a
copy (`cp -a`) of a base venv made once per session (python3 -m venv
--system-site-packages, so that Debian's backends are importable, plus
wheel from /usr/share/python-wheels) and of the case's inputs, also built
once per session.  Builds use
--no-build-isolation: nothing is downloaded.  Both runs get
PYTHONDONTWRITEBYTECODE=1 (importing must not add .pyc files; pip's own
compilation still runs) and SOURCE_DATE_EPOCH (pip then writes hash-based
.pyc files, whose bytes do not depend on when the source was written).

The comparison covers the venv and the case's work directory (sources,
inputs, outputs of pip wheel/download): every path, its type, mode and
owner, file contents by SHA-256, symlink targets.  Only what must differ
between two plain pip runs is normalized:

  * ELF objects built from an sdist: pip unpacks the sdist into a random
    /tmp/pip-install-*/ directory, and gcc records the build directory in
    the DWARF data, which also changes the GNU build-id.  They are compared
    with `objcopy --strip-debug --remove-section=.note.gnu.build-id`
    applied to both sides; the code and data must be identical.
  * the rows of RECORD files (and of wheels' RECORDs) naming such ELF
    files: their hash and size, for the same reason.
  * .git/index in a git-tag case: git refreshes its stat cache (inode
    numbers, ctimes of the copied files), which no two copies share.
"""
import base64
import csv
import difflib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
import zipfile

import pytest

from lib import pj as pjlib
from lib.sdist import MTIME

pytestmark = pytest.mark.corpus

TESTS = os.path.dirname(os.path.abspath(__file__))
BENIGN = os.path.join(TESTS, "benign")
PYTHON = "/usr/bin/python3"
SYSTEM_WHEELS = "/usr/share/python-wheels"
EPOCH = str(MTIME)
TIMEOUT = 600

CASES = sorted(d for d in os.listdir(BENIGN)
               if os.path.isfile(os.path.join(BENIGN, d, "case.json")))

SOURCES = {"sdist", "wheel", "tree", "git-tag"}
COMMANDS = {"install", "editable", "wheel", "download"}


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def load_case(name):
    with open(os.path.join(BENIGN, name, "case.json")) as f:
        case = json.load(f)
    case["name"] = name
    case.setdefault("projects", [{"dir": ".", "dist": case["dist"], "version": case["version"]}])
    assert case["source"] in SOURCES, f"{name}: unknown source {case['source']}"
    assert case["command"] in COMMANDS, f"{name}: unknown command {case['command']}"
    return case


def project_files(top):
    """{relative path: bytes} of a project directory, case.json and
    subprojects' directories aside."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for fn in sorted(filenames):
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, top)
            if rel == "case.json":
                continue
            with open(path, "rb") as f:
                files[rel] = f.read()
    return files


# ---------------------------------------------------------------- packing

def pack_sdist(into, dist, version, files):
    """An sdist as a tool would make it: the project's files under
    NAME-VERSION/, plus PKG-INFO.  Fixed times, so that the same inputs give
    the same bytes."""
    base = f"{re.sub(r'[-_.]+', '_', dist).lower()}-{version}"
    files = dict(files)
    files.setdefault("PKG-INFO", (f"Metadata-Version: 2.1\nName: {dist}\n"
                                  f"Version: {version}\n").encode())
    path = os.path.join(into, base + ".tar.gz")
    with open(path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=MTIME) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = {"/".join(rel.split("/")[:i + 1])
                for rel in files for i in range(rel.count("/"))}
        for d in [""] + sorted(dirs):
            info = tarfile.TarInfo(base + ("/" + d if d else ""))
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tar.addfile(info)
        for rel in sorted(files):
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size, info.mode, info.mtime = len(files[rel]), 0o644, MTIME
            tar.addfile(info, io.BytesIO(files[rel]))
    return path


def record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def pack_wheel(into, dist, version, files, tag="py3-none-any"):
    """A wheel from its contents (the .dist-info without RECORD): RECORD is
    computed here, as a wheel builder does."""
    name = re.sub(r"[-_.]+", "_", dist)
    info_dir = f"{name}-{version}.dist-info"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for rel in sorted(files):
        writer.writerow([rel, record_hash(files[rel]), len(files[rel])])
    writer.writerow([f"{info_dir}/RECORD", "", ""])
    members = dict(files)
    members[f"{info_dir}/RECORD"] = out.getvalue().encode()
    path = os.path.join(into, f"{name}-{version}-{tag}.whl")
    stamp = time.gmtime(MTIME)[:6]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        # dist-info last, as the spec recommends
        for rel in sorted(members, key=lambda r: (r.startswith(info_dir), r)):
            zi = zipfile.ZipInfo(rel, stamp)
            # scripts keep their executable bit, as wheel builders do
            zi.external_attr = (stat.S_IFREG | (0o755 if ".data/scripts/" in rel else 0o644)) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, members[rel])
    return path


def chown_tree(path, user):
    subprocess.run(["chown", "-R", "--no-dereference", f"{user.uid}:{user.gid}", path],
                   check=True)


def make_git_repo(path, tag):
    """git init + one commit + a tag, with fixed identities and dates so the
    repository is the same in every session."""
    env = {"PATH": pjlib.SAFE_PATH, "HOME": path, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "pipjail tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
           "GIT_COMMITTER_NAME": "pipjail tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
           "GIT_AUTHOR_DATE": f"@{MTIME} +0000", "GIT_COMMITTER_DATE": f"@{MTIME} +0000"}
    for argv in (["git", "-c", "init.defaultBranch=main", "init", "-q"],
                 ["git", "add", "-A"],
                 ["git", "commit", "-q", "-m", "initial"],
                 ["git", "tag", "-a", tag, "-m", f"release {tag}"]):
        subprocess.run(argv, cwd=path, env=env, check=True, capture_output=True)


# ---------------------------------------------------------------- snapshots

def is_elf(data):
    return data[:4] == b"\x7fELF"


def elf_normalized(data):
    """sha256 of an ELF object without its debug data and build-id (both
    carry pip's random build directory)."""
    with tempfile.TemporaryDirectory(prefix="pipjail-test-elf.") as tmp:
        src, dst = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        with open(src, "wb") as f:
            f.write(data)
        subprocess.run(["objcopy", "--strip-debug", "--remove-section=.note.gnu.build-id",
                        src, dst], check=True, capture_output=True)
        with open(dst, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()


def record_normalized(data, elf_names):
    """RECORD rows, with hash and size blanked for the ELF files."""
    rows = []
    for row in csv.reader(io.StringIO(data.decode())):
        if row and row[0] in elf_names:
            row = [row[0], "<elf>", "<elf>"]
        rows.append(tuple(row))
    return rows


def wheel_view(data):
    """A wheel compared member by member: name, time, mode, content (ELF and
    RECORD normalized as above)."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = zf.infolist()
        elf = {zi.filename for zi in members if is_elf(zf.read(zi.filename))}
        for zi in members:
            content = zf.read(zi.filename)
            if zi.filename in elf:
                digest = "elf:" + elf_normalized(content)
            elif zi.filename.endswith(".dist-info/RECORD"):
                digest = record_normalized(content, elf)
            else:
                digest = hashlib.sha256(content).hexdigest()
            out.append((zi.filename, zi.date_time, zi.external_attr, digest))
    return out


class Entry:
    """One path of a snapshot: what is compared, and how to normalize it."""

    def __init__(self, path):
        st = os.lstat(path)
        self.meta = (oct(st.st_mode), st.st_uid, st.st_gid)
        self.data = None
        self.link = os.readlink(path) if os.path.islink(path) else None
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                self.data = f.read()
        self.sha = hashlib.sha256(self.data).hexdigest() if self.data is not None else None

    def same(self, other, rel, elf_names):
        """None when equal; the normalization's name when equal only after
        one; raises ValueError saying how they differ."""
        if self.meta != other.meta:
            raise ValueError(f"mode/owner {self.meta} != {other.meta}")
        if self.link != other.link:
            raise ValueError(f"symlink {self.link!r} != {other.link!r}")
        if self.sha == other.sha:
            return None
        if self.data is None or other.data is None:
            raise ValueError("file on one side only")
        if is_elf(self.data) and is_elf(other.data):
            if elf_normalized(self.data) == elf_normalized(other.data):
                return "ELF without debug data and build-id"
            raise ValueError("ELF objects differ beyond debug data and build-id")
        if rel.endswith(".dist-info/RECORD"):
            if record_normalized(self.data, elf_names) == record_normalized(other.data, elf_names):
                return "RECORD with ELF hashes blanked"
            raise ValueError("RECORD differs:\n" + diff_text(self.data, other.data))
        if rel.endswith(".whl"):
            if wheel_view(self.data) == wheel_view(other.data):
                return "wheel compared member by member, ELF and RECORD normalized"
            raise ValueError("wheels differ:\n" + "\n".join(
                f"  {a} | {b}" for a, b in zip(wheel_view(self.data), wheel_view(other.data))
                if a != b))
        if rel.endswith(".git/index"):
            return "git's stat cache"
        raise ValueError("content differs:\n" + diff_text(self.data, other.data))


def diff_text(a, b):
    try:
        return "".join(difflib.unified_diff(a.decode().splitlines(True),
                                            b.decode().splitlines(True), "plain", "pipjail"))
    except UnicodeDecodeError:
        return f"  binary, {len(a)} vs {len(b)} bytes"


def snapshot(roots):
    """{label/relative path: Entry} for every path under each root."""
    snap = {}
    for label, top in roots.items():
        if not os.path.lexists(top):
            continue
        snap[label] = Entry(top)
        for dirpath, dirnames, filenames in os.walk(top):
            for fn in dirnames + filenames:
                path = os.path.join(dirpath, fn)
                snap[f"{label}/{os.path.relpath(path, top)}"] = Entry(path)
    return snap


def legacy_as_wheel(plain, jailed, case):
    """A legacy case (case.json "legacy"): plain pip 23.0 runs `setup.py
    install` in a venv without `wheel`; pipjail cannot let it (package code
    would write the environment itself, which the environment guard
    refuses), so every sdist is built into a wheel that pip installs (the
    build gets Debian's wheel wheel, README "What is refused where").  The
    results then differ in what a wheel install is, and only there:

      * the metadata: NAME-VER.egg-info (installed-files.txt) after plain
        pip, NAME-VER.dist-info (RECORD) after pipjail; the files each
        installer lists (metadata aside) must be the same;
      * pip byte-compiles what it installs from a wheel, whatever
        PYTHONDONTWRITEBYTECODE says; `setup.py install` does not under it:
        __pycache__/*.pyc only after pipjail, of a .py both have (both
        installers list it);
      * console scripts: setuptools' easy-install script vs pip's launcher,
        same path, mode and #! line (the case's check runs the script);
      * a symlink the install command made (a wheel holds no symlinks): a
        regular file after pipjail with the content of the link's target.

    Returns copies of the snapshots with these differences taken out (the
    rest is compared as for every case) and what was normalized."""
    plain, jailed = dict(plain), dict(jailed)
    notes = []
    base = f"{re.sub(r'[-_.]+', '_', case['dist'])}-{case['version']}"
    egg = [r for r in plain if r.endswith(f"/site-packages/{base}.egg-info")]
    dist = [r for r in jailed if r.endswith(f"/site-packages/{base}.dist-info")]
    assert len(egg) == 1 and len(dist) == 1, \
        f"{case['name']}: expected {base}.egg-info after plain pip and {base}.dist-info " \
        f"after pipjail, found {egg} and {dist}"
    egg, dist = egg[0], dist[0]
    site = egg.rsplit("/", 1)[0]
    assert site == dist.rsplit("/", 1)[0], (egg, dist)

    def listed(rows, top):
        return {os.path.normpath(os.path.join(top, r)) for r in rows}

    # installed-files.txt names paths from the .egg-info, RECORD from site-packages
    installed = listed(plain[egg + "/installed-files.txt"].data.decode().splitlines(), egg)
    record = listed((row[0] for row in csv.reader(io.StringIO(
        jailed[dist + "/RECORD"].data.decode())) if row), site)
    pyc = {r for r in record if "/__pycache__/" in r and r.endswith(".pyc")}
    assert {r for r in installed if not r.startswith(egg + "/")} == \
        {r for r in record if not r.startswith(dist + "/")}, \
        f"{case['name']}: the files installed differ: {sorted(installed)} vs {sorted(record)}"
    meta = jailed[dist + "/METADATA"].data.decode()
    assert f"\nName: {case['dist']}\n" in meta and f"\nVersion: {case['version']}\n" in meta, meta
    for rel in [r for r in plain if r == egg or r.startswith(egg + "/")]:
        del plain[rel]
    for rel in [r for r in jailed if r == dist or r.startswith(dist + "/")]:
        del jailed[rel]
    notes.append(f"{egg} (plain pip) is {dist} (pipjail: a wheel install)")
    for rel in sorted(pyc):
        source = re.sub(r"__pycache__/(.*)\.cpython-\d+\.pyc$", r"\1.py", rel)
        assert rel in jailed and rel not in plain and source in plain and source in jailed \
            and rel in installed, rel
        del jailed[rel]
        pycache = rel.rsplit("/", 1)[0]
        if pycache in jailed and pycache not in plain and \
                not any(r.startswith(pycache + "/") for r in jailed):
            del jailed[pycache]
        notes.append(f"{rel}: compiled by pip (a wheel install), not by setup.py install")
    for rel in sorted(set(plain) & set(jailed)):
        a, b = plain[rel], jailed[rel]
        if "/bin/" in rel and a.data and b.data and a.sha != b.sha and a.meta == b.meta \
                and a.data.startswith(b"#!") and \
                a.data.split(b"\n", 1)[0] == b.data.split(b"\n", 1)[0] and \
                rel in installed and rel in record:
            jailed[rel] = a
            notes.append(f"{rel}: console script (setuptools' vs pip's launcher)")
        elif a.link is not None and b.link is None and b.data is not None:
            target = os.path.normpath(os.path.join(rel.rsplit("/", 1)[0], a.link))
            assert target in plain and plain[target].data == b.data and \
                a.meta[1:] == b.meta[1:] and rel in installed and rel in record, \
                f"{case['name']}: {rel}: a symlink after plain pip, not its target's " \
                "content after pipjail"
            jailed[rel] = a
            notes.append(f"{rel}: symlink (plain pip) is its target's content (a wheel)")
    return plain, jailed, notes


def compare(plain, jailed):
    """Lists the differences; returns (problems, normalized paths)."""
    problems, normalized = [], []
    elf_names = {rel for rel, e in plain.items() if e.data is not None and is_elf(e.data)}
    # RECORD rows are relative to site-packages (or to the wheel): match by tail.
    elf_tails = {rel.split("site-packages/", 1)[-1] for rel in elf_names}
    for rel in sorted(set(plain) | set(jailed)):
        if rel not in jailed:
            problems.append(f"only after plain pip: {rel}")
        elif rel not in plain:
            problems.append(f"only after pipjail: {rel}")
        else:
            try:
                how = plain[rel].same(jailed[rel], rel, elf_tails)
            except ValueError as e:
                problems.append(f"{rel}: {e}")
                continue
            if how:
                normalized.append(f"{rel}: {how}")
    return problems, normalized


# ---------------------------------------------------------------- the corpus

class Corpus:
    """Paths shared by every run: the same for the twin and for each binary,
    so that paths written into the installed files (scripts' shebangs,
    direct_url.json, editable .pth files) are the same."""

    def __init__(self, root, user):
        self.root = root
        self.user = user
        self.bases = {}
        self.venv = os.path.join(root, "venv")
        self.inputs = os.path.join(root, "inputs")
        self.work = os.path.join(root, "work")
        self.reports = os.path.join(root, "reports")
        self.twins = {}

    def case_dir(self, case):
        return os.path.join(self.work, case["name"])

    def paths(self, case):
        top = self.case_dir(case)
        return {"VENV": self.venv, "SRC": os.path.join(top, "src"),
                "DIST": os.path.join(top, "dist"), "OUT": os.path.join(top, "out")}

    def build_inputs(self, case):
        """The case's sdists, wheels or trees, once per session (so that
        both runs get the same bytes)."""
        dest = os.path.join(self.inputs, case["name"])
        if os.path.isdir(dest):
            return dest
        tmp = dest + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        here = os.path.join(BENIGN, case["name"])
        if case["source"] in ("sdist", "wheel"):
            os.mkdir(os.path.join(tmp, "dist"))
            for proj in case["projects"]:
                files = project_files(os.path.join(here, proj["dir"]))
                if proj["dir"] == ".":
                    files = {k: v for k, v in files.items()
                             if not any(k.startswith(p["dir"] + "/") for p in case["projects"])}
                pack = pack_sdist if case["source"] == "sdist" else pack_wheel
                pack(os.path.join(tmp, "dist"), proj["dist"], proj["version"], files)
        else:
            src = os.path.join(tmp, "src")
            shutil.copytree(here, src, ignore=shutil.ignore_patterns("case.json"))
            if case["source"] == "git-tag":
                make_git_repo(src, case["tag"])
        chown_tree(tmp, self.user)
        os.rename(tmp, dest)
        return dest

    def base(self, kind):
        """A base venv, made once: at the path every copy will have, so
        that its scripts' shebangs (bin/pip) are right in the copies; then
        moved aside."""
        if kind in self.bases:
            return self.bases[kind]
        shutil.rmtree(self.venv, ignore_errors=True)
        if kind == "default":
            # Debian's backends (python3-hatchling, ...) come from the
            # system site-packages; wheel from Debian's wheel directory.
            r = pjlib.runuser(self.user, PYTHON, "-m", "venv", "--system-site-packages",
                              self.venv, timeout=300)
            assert r.returncode == 0, r
            r = pjlib.runuser(self.user, os.path.join(self.venv, "bin", "python"), "-m", "pip",
                              "install", "--no-index", "--no-cache-dir", "--ignore-installed",
                              "--find-links", SYSTEM_WHEELS, "wheel", env=self.env(), timeout=300)
            assert r.returncode == 0, r
        elif kind == "no-wheel":
            r = pjlib.runuser(self.user, PYTHON, "-m", "venv", self.venv, timeout=300)
            assert r.returncode == 0, r
            r = pjlib.runuser(self.user, os.path.join(self.venv, "bin", "python"), "-c",
                              "import wheel", timeout=60)
            assert r.returncode != 0, f"`wheel` is importable in a venv made without it:\n{r}"
        else:
            raise AssertionError(f"unknown venv kind {kind}")
        path = os.path.join(self.root, f"base-venv.{kind}")
        os.rename(self.venv, path)
        self.bases[kind] = path
        return path

    def prepare(self, case):
        """A fresh venv and work directory at the shared paths."""
        inputs = self.build_inputs(case)
        base = self.base(case.get("venv", "default"))
        for path in (self.venv, self.case_dir(case)):
            shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["cp", "-a", base, self.venv], check=True)
        subprocess.run(["cp", "-a", inputs, self.case_dir(case)], check=True)

    def pip_args(self, case):
        p = self.paths(case)
        common = ["--no-index", "--no-build-isolation", "--no-cache-dir"]
        links = ["--find-links", p["DIST"]] if case["source"] in ("sdist", "wheel") else []
        want = case.get("requirements", [case["dist"]]) if links else [p["SRC"]]
        cmd = case["command"]
        if cmd == "install":
            args = ["install"] + common + links + want
        elif cmd == "editable":
            args = ["install"] + common + links + ["-e"] + want
        elif cmd == "wheel":
            args = ["wheel"] + common + ["--no-deps", "-w", p["OUT"]] + links + want
        else:
            args = ["download"] + common + ["--no-deps", "-d", p["OUT"]] + links + want
        return [os.path.join(self.venv, "bin", "python"), "-m", "pip"] + args

    def env(self):
        return {"PYTHONDONTWRITEBYTECODE": "1", "SOURCE_DATE_EPOCH": EPOCH}

    def snapshot(self, case):
        return snapshot({"venv": self.venv, "work": self.case_dir(case)})

    def check(self, case, how):
        if not case.get("check"):
            return
        env = dict(self.env(), **self.paths(case))
        r = pjlib.runuser(self.user, os.path.join(self.venv, "bin", "python"), "-c",
                          case["check"], env=env, timeout=120)
        assert r.returncode == 0, f"{case['name']}: the check failed after {how}:\n{r}"

    def twin(self, case):
        """Plain pip, outside the jail, as the test user: the reference."""
        if case["name"] in self.twins:
            return self.twins[case["name"]]
        self.prepare(case)
        r = pjlib.runuser(self.user, *self.pip_args(case), env=self.env(),
                          cwd=self.case_dir(case), timeout=TIMEOUT)
        assert r.returncode == 0, f"{case['name']}: plain pip failed (the case is broken):\n{r}"
        snap = self.snapshot(case)
        self.check(case, "plain pip")
        self.twins[case["name"]] = snap
        return snap


@pytest.fixture(scope="session")
def corpus(session_dir, test_user):
    root = os.path.join(session_dir, "benign")
    for d in ("", "inputs", "work", "reports"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    chown_tree(root, test_user)
    return Corpus(root, test_user)


# ---------------------------------------------------------------- tests

def test_the_corpus_covers_every_common_backend():
    cases = [load_case(n) for n in CASES]
    dists = [p["dist"] for c in cases for p in c["projects"]]
    assert len(dists) >= 20, f"only {len(dists)} packages in tests/benign/"
    assert len(set(map(canonical, dists))) == len(dists), "two cases share a distribution name"
    backends = " ".join(c["backend"] for c in cases)
    for needed in ("setuptools.build_meta", "setuptools-scm", "Cython", "cffi", "pybind11",
                   "hatchling", "flit_core", "poetry.core", "mesonpy", "CMake"):
        assert needed in backends, f"no case uses {needed}"
    for cmd in COMMANDS:
        assert any(c["command"] == cmd for c in cases), f"no case runs pip {cmd}"
    for src in SOURCES:
        assert any(c["source"] == src for c in cases), f"no case installs from a {src}"


@pytest.mark.parametrize("name", CASES)
def test_benign_package_installs_clean_and_identical_to_plain_pip(pj, corpus, name):
    case = load_case(name)
    plain = corpus.twin(case)

    corpus.prepare(case)
    report = os.path.join(corpus.reports, f"{name}.{pj.name}.json")
    setenv = [a for k, v in corpus.env().items() for a in ("--setenv", f"{k}={v}")]
    r = pj.run("--profile", "default", "--report", report, "--rw", corpus.case_dir(case),
               *setenv, "--", *corpus.pip_args(case), cwd=corpus.case_dir(case),
               timeout=TIMEOUT)

    # 1. No violation: exit 0, a clean verdict, every build named and clean.
    assert r.returncode == 0, f"{name}: pipjail did not pass a benign build:\n{r}"
    assert "pipjail: clean:" in r.stderr, f"{name}: the summary does not say clean:\n{r}"
    with open(report) as f:
        rep = json.load(f)
    assert rep["verdict"] == "clean" and rep["violations"] == [], \
        f"{name}: report {rep['verdict']}: {json.dumps(rep['violations'], indent=1)}\n{r}"
    assert rep["exit"]["code"] == 0 and not rep["killed"] and not rep["incomplete"], rep
    built = {canonical(p["name"]): p for p in rep["packages"]}
    if case["source"] != "wheel":
        want = case["projects"] if case["command"] != "download" else case["projects"][:1]
        for proj in want:
            pkg = built.get(canonical(proj["dist"]))
            assert pkg is not None, \
                f"{name}: the report does not name the build of {proj['dist']}: " \
                f"{sorted(built)}\n{r}"
            assert pkg["verdict"] == "clean" and pkg["violations"] == 0, pkg
            assert pkg["hooks"], f"{name}: no hook recorded for {proj['dist']}: {pkg}"
    for pkg in rep["packages"]:
        assert pkg["verdict"] == "clean", pkg

    # 2. The same result as plain pip, file for file.
    jailed, legacy = corpus.snapshot(case), []
    if case.get("legacy"):
        plain, jailed, legacy = legacy_as_wheel(plain, jailed, case)
    problems, normalized = compare(plain, jailed)
    normalized = legacy + normalized
    assert not problems, (f"{name}: pipjail's result differs from plain pip's:\n  "
                          + "\n  ".join(problems) + f"\n{r}")
    print(f"{name}: identical to plain pip" +
          (" after normalizing:\n  " + "\n  ".join(normalized) if normalized else ""))

    # 3. And it works.
    corpus.check(case, "pipjail")


def test_the_builds_wheel_is_the_builds_alone_and_isolated_builds_get_a_hint(pj, corpus):
    """In a venv without `wheel`, builds get Debian's wheel (the legacy
    cases above), but pip itself must not see it: it would take `wheel`
    for installed (`pip install wheel` would do nothing).  An isolated
    build from --no-index without setuptools and wheel cannot be helped
    that way (pip installs its build requirements from its own sources):
    pip fails, as it would with --use-pep517, and pipjail says why."""
    case = load_case("legacy-setup-install")
    corpus.prepare(case)
    r = pj.run("--", os.path.join(corpus.venv, "bin", "python"), "-m", "pip", "list",
               "--format=freeze", cwd=corpus.case_dir(case), timeout=TIMEOUT)
    assert r.returncode == 0, r
    listed = {canonical(line.split("==")[0]) for line in r.stdout.split()}
    assert "pip" in listed and "wheel" not in listed, r

    args = [a for a in corpus.pip_args(case) if a != "--no-build-isolation"]
    r = pj.run("--", *args, cwd=corpus.case_dir(case), timeout=TIMEOUT)
    assert r.returncode != 0, f"an isolated build without setuptools and wheel passed:\n{r}"
    out = r.stdout + r.stderr
    assert "satisfies the requirement setuptools" in out, r
    hint = [ln for ln in r.stderr.splitlines() if ln.startswith("pipjail: hint: ")]
    assert len(hint) == 1 and "no `wheel`" in hint[0] and "--no-build-isolation" in hint[0], r
    assert r.stderr.splitlines()[-1].startswith("pipjail: verdict:"), r
