"""The set-ups developers really have (issue 16): what plain pip does there,
pipjail must do too, with no false alarm and no extra flag.

  * a venv made from a Python installed in the home (pyenv, conda, uv and
    asdf all put one there): pyvenv.cfg's `home` and the interpreter's real
    path are under $HOME, which the jail replaces by a decoy home;
  * tools in ~/.local/bin, and a rustup-style Rust toolchain (~/.cargo/bin
    proxies, ~/.rustup toolchains, caches written to ~/.cargo), found
    through PATH, CARGO_HOME and RUSTUP_HOME; the secrets next to them stay
    decoys;
  * paths that pip's command line names outside the current directory
    (archives, --find-links, -r/-c files and the files they include, pip's
    output directories), including under /var/tmp and $HOME, which the jail
    hides; a path into a secret location is refused;
  * `pip install .` and `pip install -e .` of local trees (setup.py,
    setuptools, hatchling, flit, meson-python, scikit-build) from a
    current directory the jail shows read-only;
  * builds that run config scripts and autotools-style programs
    (pg_config, arch, mktemp, dd, ldconfig -N -v);
  * a directory fd that is a pipe or an anon inode (a Rust build);
  * `/` not a mount point (a chroot);
  * the verdict line when pip itself fails.

Each pipjail run here is plain: `pipjail [--trace/--report/-v] -- pip ...`
as root for the test user (SUDO_UID), in enforce mode, default profile.
Fixtures are benign projects written here; only tests/benign's trees are
reused.  Plain pip builds them as the test user (they are ours, benign).
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import textwrap

import pytest

from lib import envtree, host
from lib import pj as pjlib
from lib.mkwheel import make_wheel
from lib.pj import SAFE_PATH, assert_clean, report_text, runuser, verdict_line, violations
from lib.sdist import make_sdist
from test_benign import EPOCH, chown_tree, compare, snapshot

PYTHON = "/usr/bin/python3"
WHEELS = "/usr/share/python-wheels"
BENIGN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "benign")
TIMEOUT = 600


def own(path, user):
    chown_tree(path, user)
    return path


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))
    os.chmod(path, mode)
    return path


def site(venv):
    return os.path.join(venv, "lib", "python3.11", "site-packages")


def installed(venv, dist):
    """The .dist-info (or .egg-info) names in the venv for dist."""
    key = dist.replace("-", "_").lower()
    return [n for n in os.listdir(site(venv))
            if n.lower().startswith(key + "-") and n.endswith((".dist-info", ".egg-info"))]


def sys_venv(path, user):
    """`python3 -m venv --system-site-packages` (Debian's backends and
    wheel importable), as the user."""
    r = runuser(user, PYTHON, "-m", "venv", "--system-site-packages", path, timeout=300)
    assert r.returncode == 0, r
    return path


def trace_header(path):
    with open(path) as f:
        return json.loads(f.readline())


def tree_digest(top):
    """Every path under top (files by content) for before/after checks."""
    return envtree.snapshot(top) if os.path.lexists(top) else None


def assert_clean_install(r, what):
    assert r.returncode == 0, f"{what}: pipjail failed where plain pip succeeds\n{r}"
    last = verdict_line(r)
    assert last.startswith("pipjail: verdict: clean (") and last.endswith("exit 0)"), \
        f"{what}: not the clean verdict: {last!r}\n{r}"
    assert_clean(r)


@pytest.fixture
def home_dirs(test_user):
    """Directories made in the test user's real home by a test; removed after
    (the home itself and what was there before are kept)."""
    made = []

    def mk(rel):
        path = os.path.join(test_user.home, rel)
        assert not os.path.lexists(path), f"{path} exists already: not the test's to use"
        os.makedirs(path)
        top = os.path.join(test_user.home, rel.split("/")[0])
        made.append(top)
        own(top, test_user)
        return path
    yield mk
    for top in made:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def var_tmp(test_user):
    """A directory of the test user's under /var/tmp (hidden in the jail)."""
    d = tempfile.mkdtemp(prefix=f"pipjail-{test_user.name}.", dir="/var/tmp")
    os.chmod(d, 0o755)
    os.chown(d, test_user.uid, test_user.gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def pjpath_inputs(into, user):
    """A wheel and an sdist of `pjpath` 1.0 (pure Python) in into/wheels and
    into/dist, and its source tree in into/src."""
    files = {"pjpath/__init__.py": "VALUE = 'pjpath'\n"}
    wheels = os.path.join(into, "wheels")
    dist = os.path.join(into, "dist")
    os.makedirs(wheels, exist_ok=True)
    os.makedirs(dist, exist_ok=True)
    make_wheel(wheels, "pjpath", "1.0", files)
    make_sdist(dist, "pjpath", "1.0", files)
    src = os.path.join(into, "src")
    write(os.path.join(src, "pjpath", "__init__.py"), files["pjpath/__init__.py"])
    write(os.path.join(src, "setup.py"),
          "from setuptools import setup\nsetup(name='pjpath', version='1.0', "
          "packages=['pjpath'])\n")
    own(into, user)
    return {"wheels": wheels, "dist": dist, "src": src,
            "sdist": os.path.join(dist, "pjpath-1.0.tar.gz")}


# ============================================================ 1. home Pythons

@pytest.fixture(scope="session")
def home_python(test_user):
    """A Python installed in the user's home the way pyenv lays one out:
    ~/.pyenv/versions/3.11-pjtest/{bin/python3.11, lib/python3.11/...}.
    It is Debian's interpreter and standard library, copied (a copy finds its
    prefix from where it sits, as any relocatable build does); a pyenv build
    of its own would take minutes and its own toolchain."""
    root = os.path.join(test_user.home, ".pyenv")
    created = not os.path.lexists(root)
    prefix = os.path.join(root, "versions", "3.11-pjtest")
    if not os.path.isdir(prefix):
        os.makedirs(os.path.join(prefix, "bin"))
        shutil.copy2("/usr/bin/python3.11", os.path.join(prefix, "bin", "python3.11"))
        os.symlink("python3.11", os.path.join(prefix, "bin", "python3"))
        os.symlink("python3.11", os.path.join(prefix, "bin", "python"))
        shutil.copytree("/usr/lib/python3.11", os.path.join(prefix, "lib", "python3.11"),
                        symlinks=True, ignore=shutil.ignore_patterns("test", "__pycache__"))
        own(root, test_user)
    py = os.path.join(prefix, "bin", "python3")
    r = runuser(test_user, py, "-c", "import sys; print(sys.base_prefix)")
    assert r.returncode == 0 and r.stdout.strip() == prefix, \
        f"the copied interpreter does not take {prefix} as its prefix\n{r}"
    yield py
    if created:
        shutil.rmtree(root, ignore_errors=True)


def test_home_python_venv_installs_a_wheel(pj, home_python, workdir, test_user):
    """Issue 16 #2: pyvenv.cfg `home = ~/.pyenv/...` and bin/python ->
    ~/.pyenv/.../python3.11; the jail must show that installation read-only
    (today the decoy home hides it: exit 127)."""
    venv = os.path.join(workdir, "venv")
    r = runuser(test_user, home_python, "-m", "venv", venv, timeout=300)
    assert r.returncode == 0, r
    with open(os.path.join(venv, "pyvenv.cfg")) as f:
        assert os.path.dirname(home_python) in f.read()
    inputs = pjpath_inputs(os.path.join(workdir, "in"), test_user)
    r = pj.run("--", os.path.join(venv, "bin", "pip"), "install", "--no-index",
               "--find-links", inputs["wheels"], "pjpath", cwd=workdir, timeout=TIMEOUT)
    assert_clean_install(r, "a venv of a Python in the home")
    assert installed(venv, "pjpath"), r


def test_home_python_venv_builds_an_sdist(pj, home_python, workdir, test_user):
    """The build runs the home Python too (pip's _in_process.py, setup.py)."""
    venv = os.path.join(workdir, "venv")
    r = runuser(test_user, home_python, "-m", "venv", venv, timeout=300)
    assert r.returncode == 0, r
    inputs = pjpath_inputs(os.path.join(workdir, "in"), test_user)
    args = [os.path.join(venv, "bin", "pip"), "install", "--no-index", "--no-cache-dir",
            "--find-links", WHEELS, inputs["sdist"]]
    plain_venv = os.path.join(workdir, "venv-plain")
    r = runuser(test_user, home_python, "-m", "venv", plain_venv, timeout=300)
    assert r.returncode == 0, r
    r = runuser(test_user, *([os.path.join(plain_venv, "bin", "pip")] + args[1:]),
                cwd=workdir, timeout=TIMEOUT)
    assert r.returncode == 0, f"plain pip cannot build it (the case is broken)\n{r}"
    r = pj.run("--", *args, cwd=workdir, timeout=TIMEOUT)
    assert_clean_install(r, "an sdist built by a Python in the home")
    assert installed(venv, "pjpath"), r


# ============================================================ 2. toolchains in the home

LOCAL_TOOL_SETUP = """\
import subprocess
from setuptools import setup
out = subprocess.run(["pj-localtool"], check=True, capture_output=True, text=True).stdout
with open("pjlocal/_gen.py", "w") as f:
    f.write(f"VALUE = {out.strip()!r}\\n")
setup(name="pjlocal", version="1.0", packages=["pjlocal"])
"""


def test_tool_in_local_bin_on_path_runs_in_the_build(pj, workdir, test_user, home_dirs):
    """Issue 16 #2: a build runs a program the user's PATH finds in
    ~/.local/bin (pipx, pip --user and many installers put them there)."""
    bindir = home_dirs(".local/bin")
    write(os.path.join(bindir, "pj-localtool"), "#!/bin/sh\necho from-local-bin\n", 0o755)
    own(os.path.join(test_user.home, ".local"), test_user)
    dist = os.path.join(workdir, "dist")
    os.mkdir(dist)
    make_sdist(dist, "pjlocal", "1.0", {"pjlocal/__init__.py": "", "setup.py": LOCAL_TOOL_SETUP})
    own(dist, test_user)
    path = f"{bindir}:{SAFE_PATH}"
    args = lambda v: [os.path.join(v, "bin", "pip"), "install", "--no-index",  # noqa: E731
                      "--no-build-isolation", "--no-cache-dir", "--find-links", dist, "pjlocal"]

    plain = sys_venv(os.path.join(workdir, "venv-plain"), test_user)
    r = runuser(test_user, *args(plain), env={"PATH": path}, cwd=workdir, timeout=TIMEOUT)
    assert r.returncode == 0, f"plain pip cannot build it (the case is broken)\n{r}"

    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    trace = os.path.join(workdir, "t.jsonl")
    r = pj.run("-v", "--trace", trace, "--", *args(venv), env={"PATH": path}, cwd=workdir,
               timeout=TIMEOUT)
    assert_clean_install(r, "a build running a tool from ~/.local/bin")
    chk = runuser(test_user, os.path.join(venv, "bin", "python"), "-c",
                  "import pjlocal._gen as g; print(g.VALUE)")
    assert chk.stdout.strip() == "from-local-bin", chk
    # What was shown is said: in the trace header and by -v.
    assert bindir in json.dumps(trace_header(trace)), \
        f"the trace header does not list {bindir} among what the jail shows"
    assert bindir in r.stderr, f"-v does not say that {bindir} is shown\n{r}"


RUST_PROXY = """\
#!/bin/sh
# A rustup proxy, as ~/.cargo/bin/{cargo,rustc} are: pick the toolchain from
# RUSTUP_HOME's settings, note its use in CARGO_HOME (rustup and cargo keep
# caches and locks there), run the toolchain's own program.
RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
tc=$(sed -n 's/^default_toolchain = "\\(.*\\)"$/\\1/p' "$RUSTUP_HOME/settings.toml")
if [ -z "$tc" ]; then
    echo "error: rustup could not choose a version of ${0##*/} to run" >&2
    exit 1
fi
mkdir -p "$CARGO_HOME/registry" && date > "$CARGO_HOME/registry/.pj-last-use" || exit 1
exec "$RUSTUP_HOME/toolchains/$tc/bin/${0##*/}" "$@"
"""

RUST_SETUP = """\
import os, shutil, sys
from setuptools import setup
from setuptools_rust import RustBin
want = "@@WANT_CARGO@@"
if want and shutil.which("cargo") != want:
    sys.exit(f"the cargo on PATH is {shutil.which('cargo')}, not the user's toolchain {want}")
setup(name="pjrust", version="0.1.0", packages=["pjrust"],
      rust_extensions=[RustBin("pjrust-hello")], zip_safe=False)
"""

RUST_FILES = {
    "pjrust/__init__.py": "",
    "setup.py": RUST_SETUP,
    "pyproject.toml": ('[build-system]\nrequires = ["setuptools", "setuptools-rust", "wheel"]\n'
                       'build-backend = "setuptools.build_meta"\n'),
    "Cargo.toml": ('[package]\nname = "pjrust-hello"\nversion = "0.1.0"\nedition = "2018"\n\n'
                   '[[bin]]\nname = "pjrust-hello"\npath = "src/main.rs"\n'),
    "src/main.rs": 'fn main() {\n    println!("hello from rust");\n}\n',
}


def rust_files(want_cargo=""):
    """The project's files; want_cargo: the cargo the build must find on
    PATH (its setup.py checks: a machine with Debian's cargo in /usr/bin
    would otherwise hide that the user's toolchain was not used)."""
    return {k: v.replace("@@WANT_CARGO@@", want_cargo) for k, v in RUST_FILES.items()}


def rust_available():
    return shutil.which("cargo", path=SAFE_PATH) and shutil.which("rustc", path=SAFE_PATH)


def rustup_layout(rustup_home, cargo_home, user):
    """A rustup-style install: proxies in CARGO_HOME/bin, the toolchain in
    RUSTUP_HOME/toolchains (Debian's cargo and rustc, linked)."""
    tc = os.path.join(rustup_home, "toolchains", "stable-x86_64-unknown-linux-gnu", "bin")
    os.makedirs(tc, exist_ok=True)
    for prog in ("cargo", "rustc"):
        os.symlink(f"/usr/bin/{prog}", os.path.join(tc, prog))
        write(os.path.join(cargo_home, "bin", prog), RUST_PROXY, 0o755)
    write(os.path.join(rustup_home, "settings.toml"),
          'version = "12"\ndefault_toolchain = "stable-x86_64-unknown-linux-gnu"\n'
          'profile = "minimal"\n')
    return os.path.join(cargo_home, "bin")


@pytest.mark.parametrize("where", ["default-homes", "CARGO_HOME-RUSTUP_HOME"])
def test_rustup_toolchain_in_the_home_builds_a_rust_extension(pj, workdir, test_user, home_dirs,
                                                              where):
    """Issue 16 #2: setuptools-rust (as cryptography, pydantic-core, ...)
    with the toolchain where rustup puts it: ~/.cargo/bin on PATH, the
    toolchain in ~/.rustup, caches written to ~/.cargo (thrown away);
    or wherever CARGO_HOME and RUSTUP_HOME say."""
    if not rust_available():
        pytest.fail("cargo and rustc are missing: scripts/deps.sh installs them")
    if where == "default-homes":
        cargo_home = home_dirs(".cargo")
        rustup_home = home_dirs(".rustup")
        extra = {}
    else:
        tools = home_dirs("pjtools")
        cargo_home, rustup_home = os.path.join(tools, "cargo"), os.path.join(tools, "rustup")
        extra = {"CARGO_HOME": cargo_home, "RUSTUP_HOME": rustup_home}
    bindir = rustup_layout(rustup_home, cargo_home, test_user)
    for top in {os.path.join(test_user.home, os.path.relpath(p, test_user.home).split("/")[0])
                for p in (cargo_home, rustup_home)}:
        own(top, test_user)
    dist = os.path.join(workdir, "dist")
    os.mkdir(dist)
    make_sdist(dist, "pjrust", "0.1.0", rust_files(os.path.join(bindir, "cargo")))
    own(dist, test_user)
    env = {"PATH": f"{bindir}:{SAFE_PATH}", **extra}
    args = lambda v: [os.path.join(v, "bin", "pip"), "install", "--no-index",  # noqa: E731
                      "--no-build-isolation", "--no-cache-dir", "--find-links", dist, "pjrust"]

    plain = sys_venv(os.path.join(workdir, "venv-plain"), test_user)
    r = runuser(test_user, *args(plain), env=env, cwd=workdir, timeout=TIMEOUT)
    assert r.returncode == 0, f"plain pip cannot build it (the case is broken)\n{r}"
    os.unlink(os.path.join(cargo_home, "registry", ".pj-last-use"))
    before = {p: tree_digest(p) for p in (cargo_home, rustup_home)}

    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    trace = os.path.join(workdir, "t.jsonl")
    r = pj.run("-v", "--trace", trace, "--", *args(venv), env=env, cwd=workdir,
               timeout=TIMEOUT)
    assert_clean_install(r, f"a Rust build with the toolchain in the home ({where})")
    out = runuser(test_user, os.path.join(venv, "bin", "pjrust-hello"))
    assert out.stdout == "hello from rust\n", out
    # The caches written in the jail were thrown away.
    for p, snap in before.items():
        assert tree_digest(p) == snap, \
            f"{p} changed on the host:\n{envtree.diff(snap, tree_digest(p))}"
    header = json.dumps(trace_header(trace))
    for p in (cargo_home, rustup_home):
        assert p in header, f"the trace header does not list {p} among what the jail shows"
        assert p in r.stderr, f"-v does not say that {p} is shown\n{r}"


def test_rust_extension_builds_with_debian_cargo(pj, workdir, test_user):
    """A setuptools-rust build with Debian's cargo and rustc (no home
    toolchain): cargo's jobserver pipes and its epoll/eventfd fds must not
    be taken for files, nor crash the monitor (issue 16 #5)."""
    if not rust_available():
        pytest.fail("cargo and rustc are missing: scripts/deps.sh installs them")
    dist = os.path.join(workdir, "dist")
    os.mkdir(dist)
    make_sdist(dist, "pjrust", "0.1.0", rust_files())
    own(dist, test_user)
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    trace = os.path.join(workdir, "t.jsonl")
    r = pj.run("--trace", trace, "--", os.path.join(venv, "bin", "pip"), "install",
               "--no-index", "--no-build-isolation", "--no-cache-dir", "--find-links", dist,
               "pjrust", cwd=workdir, timeout=TIMEOUT)
    assert_clean_install(r, "a Rust build with Debian's cargo")
    out = runuser(test_user, os.path.join(venv, "bin", "pjrust-hello"))
    assert out.stdout == "hello from rust\n", out
    assert_no_anon_inode_files(trace)


def test_toolchains_shown_never_bring_secrets_into_view(pj, workdir, test_user, home_dirs,
                                                        planted_secrets):
    """With ~/.cargo/bin and ~/.local/bin on PATH (and CARGO_HOME set), what
    sits next to them stays out of view: cargo's credentials, ~/.ssh, ..."""
    cargo_home = home_dirs(".cargo")
    rustup_home = home_dirs(".rustup")
    local_bin = home_dirs(".local/bin")
    bindir = rustup_layout(rustup_home, cargo_home, test_user)
    secret = "PLANTED-CARGO-TOKEN-" + hashlib.sha256(os.urandom(16)).hexdigest()[:24]
    for name in ("credentials.toml", "credentials"):
        write(os.path.join(cargo_home, name), f'[registry]\ntoken = "{secret}"\n', 0o600)
    own(cargo_home, test_user)
    own(os.path.join(test_user.home, ".local"), test_user)
    script = ("for f in ~/.cargo/credentials.toml ~/.cargo/credentials $CARGO_HOME/credentials.toml "
              + " ".join(f"~/{rel}" for rel in planted_secrets) + "; do cat $f; done; exit 0")
    r = pj.run("--audit", "--", "/bin/sh", "-c", script, cwd=workdir,
               env={"PATH": f"{bindir}:{local_bin}:{SAFE_PATH}", "CARGO_HOME": cargo_home})
    assert r.returncode in (0, 100), r
    seen = r.stdout + r.stderr
    assert secret not in seen, f"cargo's real credentials were readable in the jail\n{r}"
    for rel, content in planted_secrets.items():
        assert content not in seen, f"the real ~/{rel} was readable in the jail\n{r}"


TAMPER_SETUP = """\
import errno, os
from setuptools import setup
# A build that tries to change the compiler the next build (or pip's own
# `rustc --version`) runs, and writes cargo's cache as cargo does.
cargo = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
rustup = os.environ.get("RUSTUP_HOME") or os.path.expanduser("~/.rustup")
tc = os.path.join(rustup, "toolchains", "stable-x86_64-unknown-linux-gnu", "bin")
for what, path in (("cargo-bin", os.path.join(cargo, "bin", "pj-evil")),
                   ("cargo-proxy", os.path.join(cargo, "bin", "rustc")),
                   ("toolchain", os.path.join(tc, "pj-evil")),
                   ("cache", os.path.join(cargo, "registry", "pj-cache"))):
    try:
        with open(path, "a") as f:
            f.write("#!/bin/sh\\necho tampered\\n")
        res = "written"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print(f"PJTAMPER {what} {res}", flush=True)
setup(name="pjtamper", version="1.0", packages=["pjtamper"])
"""


def test_builds_cannot_change_the_toolchains_programs(pj, workdir, test_user, home_dirs):
    """cargo's and rustup's homes are writable below a throwaway layer (for
    caches), but their programs (CARGO_HOME/bin, RUSTUP_HOME/toolchains)
    are the host's, read-only: one build must not change the compiler that
    the next build, or pip's `rustc --version`, runs.  Nothing reaches the
    host."""
    cargo_home = home_dirs(".cargo")
    rustup_home = home_dirs(".rustup")
    bindir = rustup_layout(rustup_home, cargo_home, test_user)
    os.makedirs(os.path.join(cargo_home, "registry"))
    own(cargo_home, test_user)
    own(rustup_home, test_user)
    before = {p: tree_digest(p) for p in (cargo_home, rustup_home)}
    dist = os.path.join(workdir, "dist")
    os.mkdir(dist)
    make_sdist(dist, "pjtamper", "1.0", {"pjtamper/__init__.py": "", "setup.py": TAMPER_SETUP})
    own(dist, test_user)
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    r = pj.run("--", os.path.join(venv, "bin", "pip"), "install", "-v", "--no-index",
               "--no-build-isolation", "--no-cache-dir", "--find-links", dist, "pjtamper",
               cwd=workdir, env={"PATH": f"{bindir}:{SAFE_PATH}"}, timeout=TIMEOUT)
    assert_clean_install(r, "a build writing cargo's cache")
    out = r.stdout + r.stderr
    for what in ("cargo-bin", "cargo-proxy", "toolchain"):
        assert f"PJTAMPER {what} EROFS" in out, f"{what}: a build could write it\n{r}"
    assert "PJTAMPER cache written" in out, f"cargo's cache is not writable for builds\n{r}"
    for p, snap in before.items():
        assert tree_digest(p) == snap, \
            f"{p} changed on the host:\n{envtree.diff(snap, tree_digest(p))}"


# ============================================================ 3. paths on pip's command line

def path_case(case, var_tmp, session_dir, test_user, home_dirs, workdir):
    """(argv after `pip`, cwd, what must exist on the host afterwards)."""
    if case == "archive-in-var-tmp":
        inp = pjpath_inputs(var_tmp, test_user)
        return ["install", "--no-index", "--find-links", WHEELS, inp["sdist"]], workdir, None
    if case == "find-links-in-var-tmp":
        inp = pjpath_inputs(var_tmp, test_user)
        return ["install", "--no-index", "--find-links", inp["wheels"], "pjpath"], workdir, None
    if case == "directory-in-var-tmp":
        inp = pjpath_inputs(var_tmp, test_user)
        return ["install", "--no-index", "--find-links", WHEELS, inp["src"]], workdir, None
    if case == "archive-elsewhere-under-var-lib":
        inp = pjpath_inputs(os.path.join(workdir, "elsewhere"), test_user)
        cwd = os.path.join(workdir, "proj")
        os.mkdir(cwd)
        own(cwd, test_user)
        return ["install", "--no-index", "--find-links", WHEELS, inp["sdist"]], cwd, None
    if case == "requirements-in-parent-dir-in-home":
        # ~/pjreqs/proj is the cwd; ../reqs.txt -r's more/reqs2.txt and
        # -c's constraints.txt, all in the home (hidden in the jail).
        top = home_dirs("pjreqs")
        inp = pjpath_inputs(os.path.join(top, "in"), test_user)
        write(os.path.join(top, "reqs.txt"), "-c constraints.txt\n-r more/reqs2.txt\n")
        write(os.path.join(top, "more", "reqs2.txt"), "pjpath\n")
        write(os.path.join(top, "constraints.txt"), "pjpath==1.0\n")
        cwd = os.path.join(top, "proj")
        os.mkdir(cwd)
        own(top, test_user)
        return ["install", "--no-index", "--find-links", inp["wheels"], "-r", "../reqs.txt"], \
            cwd, None
    if case == "wheel-output-dir-in-var-tmp":
        inp = pjpath_inputs(os.path.join(workdir, "in"), test_user)
        out = os.path.join(var_tmp, "out")
        return ["wheel", "--no-index", "--no-deps", "-w", out, "--find-links", inp["wheels"],
                "pjpath"], workdir, os.path.join(out, "pjpath-1.0-py3-none-any.whl")
    if case == "download-dir-in-home":
        inp = pjpath_inputs(os.path.join(workdir, "in"), test_user)
        out = os.path.join(home_dirs("pjdl"), "dl")
        return ["download", "--no-index", "--no-deps", "-d", out, "--find-links",
                inp["wheels"], "pjpath"], workdir, os.path.join(out, "pjpath-1.0-py3-none-any.whl")
    raise AssertionError(case)


PATH_CASES = ["archive-in-var-tmp", "find-links-in-var-tmp", "directory-in-var-tmp",
              "archive-elsewhere-under-var-lib", "requirements-in-parent-dir-in-home",
              "wheel-output-dir-in-var-tmp", "download-dir-in-home"]


@pytest.mark.parametrize("case", PATH_CASES)
def test_path_named_on_pips_command_line_is_shown(pj, var_tmp, session_dir, test_user,
                                                 home_dirs, workdir, case):
    """Issue 16 #3: `pip install /var/tmp/x.tar.gz`, `--find-links DIR`,
    `-r ../reqs.txt` (and what it includes), `wheel -w`, `download -d`
    work wherever the path is; today pip says "non-existing path"."""
    args, cwd, product = path_case(case, var_tmp, session_dir, test_user, home_dirs, workdir)
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    pip = os.path.join(venv, "bin", "pip")
    r = pj.run("--", pip, *args, cwd=cwd, timeout=TIMEOUT)
    assert_clean_install(r, case)
    if product:
        assert os.path.isfile(product), f"pip's output {product} is not on the host\n{r}"
        assert os.stat(product).st_uid == test_user.uid, product
    else:
        assert installed(venv, "pjpath"), f"pjpath is not installed\n{r}"


def test_path_into_a_secret_location_is_refused_with_a_clear_message(pj, workdir, test_user,
                                                                    planted_secrets):
    """A requirements file under ~/.ssh is not shown for being named: the
    run is refused (pipjail's own error, 125) with a message naming it."""
    reqs = os.path.join(test_user.home, ".ssh", "pjtest-reqs.txt")
    write(reqs, "pjpath\n", 0o600)
    os.chown(reqs, test_user.uid, test_user.gid)
    try:
        venv = sys_venv(os.path.join(workdir, "venv"), test_user)
        r = pj.run("--", os.path.join(venv, "bin", "pip"), "install", "--no-index", "-r", reqs,
                   cwd=workdir)
    finally:
        os.unlink(reqs)
    assert r.returncode == 125, f"a path under ~/.ssh named on pip's command line must be " \
                                f"refused by pipjail (exit 125)\n{r}"
    assert reqs in r.stderr or "~/.ssh" in r.stderr, r


# ============================================================ 4. local source trees

SKBUILD_FILES = {
    "pyproject.toml": """\
        [build-system]
        requires = ["setuptools", "wheel", "scikit-build"]
        build-backend = "setuptools.build_meta"
        """,
    "setup.py": """\
        from skbuild import setup
        setup(name="pjb-skbuild", version="0.2.0", packages=["pjb_skbuild"],
              package_dir={"": "src"}, cmake_install_dir="src/pjb_skbuild")
        """,
    "CMakeLists.txt": """\
        cmake_minimum_required(VERSION 3.15)
        project(pjb_skbuild LANGUAGES C)
        find_package(Python3 COMPONENTS Interpreter Development.Module REQUIRED)
        Python3_add_library(_skmod MODULE src/_skmod.c WITH_SOABI)
        install(TARGETS _skmod LIBRARY DESTINATION .)
        """,
    "src/pjb_skbuild/__init__.py": "from ._skmod import triple\n",
    "src/_skmod.c": """\
        #define PY_SSIZE_T_CLEAN
        #include <Python.h>
        static PyObject *triple(PyObject *self, PyObject *arg)
        {
            long v = PyLong_AsLong(arg);
            if (v == -1 && PyErr_Occurred())
                return NULL;
            return PyLong_FromLong(3 * v);
        }
        static PyMethodDef methods[] = { { "triple", triple, METH_O, NULL }, { NULL } };
        static struct PyModuleDef mod = { PyModuleDef_HEAD_INIT, "_skmod", NULL, -1, methods };
        PyMODINIT_FUNC PyInit__skmod(void) { return PyModule_Create(&mod); }
        """,
}

# backend -> (tests/benign directory or None, distribution, check run after)
TREES = {
    "setup.py": ("legacy-setup-install", "pjb-legacy", "import pjb_legacy"),
    "setuptools": ("setuptools-pure", "pjb-st-pure",
                   "import pjb_st_pure; assert pjb_st_pure.greet('x') == 'hello, x'"),
    "hatchling": ("hatchling", "pjb-hatch", "import pjb_hatch"),
    "flit": ("flit-core", "pjb_flit", "import pjb_flit; assert pjb_flit.double(21) == 42"),
    "meson-python": ("meson-python", "pjb-meson",
                     "from pjb_meson import gcd; assert gcd(84, 36) == 12"),
    "scikit-build": (None, "pjb-skbuild", "from pjb_skbuild import triple; assert triple(4) == 12"),
}
# What plain pip itself can do with Debian 12's backends: meson-python 0.12
# has no editable builds (0.13 added them); hatchling's need the `editables`
# package, which Debian 12 does not have; scikit-build 0.16's PEP 660
# editable wheel does not build the extension (the install cannot import).
TREE_CASES = [(b, m) for b in TREES for m in ("install", "editable")
              if not (b in ("meson-python", "hatchling", "scikit-build") and m == "editable")]
# pipjail builds every project through PEP 517 (PIP_USE_PEP517=1, README
# "What is refused where": the legacy `setup.py install` / `setup.py
# develop` would have a build write the environment).  Plain pip is given
# the same setting, so that `pip install -e .` of a setup.py project is a
# PEP 660 editable wheel on both sides, not an egg-link on one.
PLAIN_PIP_ENV = {"PIP_USE_PEP517": "1"}


class Trees:
    """One venv path and one tree path shared by plain pip and pipjail (the
    editable .pth files, egg-links and RECORDs hold them)."""

    def __init__(self, root, user):
        self.root, self.user = root, user
        self.venv = os.path.join(root, "venv")
        self.src = os.path.join(root, "src")
        self.pristine = None

    def fresh(self, backend):
        if not self.pristine:
            shutil.rmtree(self.venv, ignore_errors=True)
            sys_venv(self.venv, self.user)
            self.pristine = os.path.join(self.root, "venv.pristine")
            os.rename(self.venv, self.pristine)
        for p in (self.venv, self.src):
            shutil.rmtree(p, ignore_errors=True)
        subprocess.run(["cp", "-a", self.pristine, self.venv], check=True)
        bdir = TREES[backend][0]
        if bdir:
            shutil.copytree(os.path.join(BENIGN, bdir), self.src,
                            ignore=shutil.ignore_patterns("case.json"))
        else:
            for rel, text in SKBUILD_FILES.items():
                write(os.path.join(self.src, rel), text)
        own(self.src, self.user)

    def args(self, mode):
        return [os.path.join(self.venv, "bin", "pip"), "install", "--no-index",
                "--no-build-isolation", "--no-cache-dir"] + (["-e"] if mode == "editable" else []) \
            + ["."]


@pytest.fixture(scope="session")
def trees(session_dir, test_user):
    root = os.path.join(session_dir, "trees")
    os.makedirs(root, exist_ok=True)
    own(root, test_user)
    return Trees(root, test_user)


@pytest.mark.parametrize("backend,mode", TREE_CASES)
def test_local_tree_installs_from_a_read_only_cwd(pj, trees, backend, mode):
    """Issue 16 #4: `pip install .` / `pip install -e .` from the project
    directory, no --write-cwd.  The venv must be plain pip's, file by file,
    and the install must work (import, importlib.metadata).  The user's
    tree is left exactly as it was (the build wrote through a throwaway
    layer).  Plain pip runs with PIP_USE_PEP517=1, as pipjail runs every
    build: `-e .` of a setup.py project is then a PEP 660 editable wheel
    (no `setup.py develop`, which would write the environment from the
    build and NAME.egg-info into the tree).
    (scikit-build's editable is not tried: with Debian 12's scikit-build
    0.16 it does not work under plain pip.)"""
    env = {"PYTHONDONTWRITEBYTECODE": "1", "SOURCE_DATE_EPOCH": EPOCH}
    dist, check = TREES[backend][1], TREES[backend][2]
    meta = f"import importlib.metadata as m; m.version({dist!r})"

    trees.fresh(backend)
    r = runuser(trees.user, *trees.args(mode), env={**env, **PLAIN_PIP_ENV}, cwd=trees.src,
                timeout=TIMEOUT)
    assert r.returncode == 0, f"plain pip fails (the case is broken)\n{r}"
    for code in (check, meta):
        chk = runuser(trees.user, os.path.join(trees.venv, "bin", "python"), "-c", code,
                      env=env, cwd="/")
        assert chk.returncode == 0, f"plain pip's install does not work (the case is " \
                                    f"broken): {code}\n{chk}"
    plain = snapshot({"venv": trees.venv})

    trees.fresh(backend)
    before = snapshot({"src": trees.src})
    setenv = [a for k, v in env.items() for a in ("--setenv", f"{k}={v}")]
    r = pj.run(*setenv, "--", *trees.args(mode), cwd=trees.src, timeout=TIMEOUT)
    assert_clean_install(r, f"pip install {'-e ' if mode == 'editable' else ''}. ({backend})")
    jailed = snapshot({"venv": trees.venv})
    problems, _ = compare(plain, jailed)
    assert not problems, "the venv differs from plain pip's:\n  " + "\n  ".join(problems[:40])
    problems, _ = compare(before, snapshot({"src": trees.src}))
    assert not problems, "the user's tree changed:\n  " + "\n  ".join(problems[:40])
    for code in (check, meta):
        chk = runuser(trees.user, os.path.join(trees.venv, "bin", "python"), "-c", code,
                      env=env, cwd="/")
        assert chk.returncode == 0, f"after pipjail's install: {code}\n{chk}\n{r}"


# ============================================================ 5. build programs

CONFIG_SETUP = """\
import subprocess
from setuptools import setup
# What PyNaCl's bundled libsodium ./configure, psycopg2 and mysqlclient run.
for argv in (["pg_config", "--includedir"],
             ["sh", "-c", "arch; d=$(mktemp -d); dd if=/dev/zero of=$d/x bs=1 count=16 2>/dev/null; "
                          "ls -l $d/x; rm -rf $d"],
             ["/sbin/ldconfig", "-N", "-v"],
             ["sh", "-c", "command -v lsb_release >/dev/null && lsb_release -a || true"]):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
setup(name="pjconfig", version="1.0", packages=["pjconfig"])
"""


def test_build_running_config_scripts_and_autotools_programs_is_clean(pj, workdir, test_user):
    """Issue 16 #1: pg_config (psycopg2), arch, mktemp, dd and `ldconfig -N
    -v` (which reads /var/cache/ldconfig/aux-cache) are what configure
    scripts run; none of them is a violation in the default profile."""
    dist = os.path.join(workdir, "dist")
    os.mkdir(dist)
    make_sdist(dist, "pjconfig", "1.0", {"pjconfig/__init__.py": "", "setup.py": CONFIG_SETUP})
    own(dist, test_user)
    args = lambda v: [os.path.join(v, "bin", "pip"), "install", "--no-index",  # noqa: E731
                      "--no-build-isolation", "--no-cache-dir", "--find-links", dist, "pjconfig"]
    plain = sys_venv(os.path.join(workdir, "venv-plain"), test_user)
    r = runuser(test_user, *args(plain), cwd=workdir, timeout=TIMEOUT)
    assert r.returncode == 0, f"plain pip cannot build it (the case is broken)\n{r}"
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    r = pj.run("--", *args(venv), cwd=workdir, timeout=TIMEOUT)
    assert_clean_install(r, "a build running config scripts")


# ============================================================ 6. fds that are not files

ANON_CODE = r"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
AT_EMPTY_PATH = 0x1000
r, w = os.pipe()
efd = libc.eventfd(0, 0)
buf = ctypes.create_string_buffer(512)
for fd in (r, w, efd):
    libc.openat(fd, b"anything", os.O_RDONLY)      # ENOTDIR: a dirfd that is no directory
    libc.openat(fd, b"", os.O_RDONLY)              # ENOENT
    libc.statx(fd, b"", AT_EMPTY_PATH, 0xfff, buf)
    libc.fchmod(fd, 0o600)                         # a pipe takes it; an eventfd says EOPNOTSUPP
print("fds-ok")
"""


def assert_no_anon_inode_files(trace):
    """No event names a pipe or anon inode as a file: every file path of
    the trace (file, abs, abs2) is absolute, and none is `anon_inode`."""
    bad = []
    with open(trace) as f:
        for line in f:
            e = json.loads(line)
            for k in ("file", "abs", "abs2"):
                v = e.get(k)
                # (by the name's last component: this test's own directory
                # has "anon_inode" in its name)
                if isinstance(v, str) and (not v.startswith("/") or
                                           os.path.basename(v).startswith("anon_inode")):
                    bad.append(f"{k}={v!r}: {line.strip()[:300]}")
    assert not bad, "pipes or anon inodes recorded as files:\n" + "\n".join(bad[:8])


def assert_pipjail_survived(r):
    assert r.returncode >= 0, \
        f"pipjail itself died of signal {-r.returncode} (its monitor crashed)\n{r}"


def test_dirfd_on_a_pipe_or_anon_inode_is_not_a_file(pj, workdir):
    """Issue 16 #5.  openat() with a pipe or eventfd as its dirfd, statx
    and fchmod of them: the monitor must survive (today pipjail itself dies
    of SIGSEGV in normalize_path, monitor.c: the dir is not absolute), and
    none is reported as a file named anon_inode."""
    trace = os.path.join(workdir, "t.jsonl")
    snap = host.Snapshot(pj.user.uid)
    r = pj.run("--trace", trace, "--", PYTHON, "-c", ANON_CODE, cwd=workdir,
               check_leftovers=False)
    assert_pipjail_survived(r)
    pj.check_run(r, snap)
    assert r.returncode == 0 and "fds-ok" in r.stdout, r
    assert_clean(r)
    assert_no_anon_inode_files(trace)


ANON_SETUP = "import os\n" + ANON_CODE.replace("print(\"fds-ok\")", "") + """
from setuptools import setup
setup(name="pjanon", version="1.0", packages=["pjanon"])
"""


def test_build_using_pipes_and_eventfds_is_clean(pj, workdir, test_user):
    """The same calls made by a build (as cargo's jobserver and epoll do):
    no violation, no file named anon_inode, no crash."""
    dist = os.path.join(workdir, "dist")
    os.mkdir(dist)
    make_sdist(dist, "pjanon", "1.0", {"pjanon/__init__.py": "", "setup.py": ANON_SETUP})
    own(dist, test_user)
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    trace = os.path.join(workdir, "t.jsonl")
    snap = host.Snapshot(pj.user.uid)
    r = pj.run("--trace", trace, "--", os.path.join(venv, "bin", "pip"), "install",
               "--no-index", "--no-build-isolation", "--no-cache-dir", "--find-links", dist,
               "pjanon", cwd=workdir, timeout=TIMEOUT, check_leftovers=False)
    assert_pipjail_survived(r)
    pj.check_run(r, snap)
    assert_clean_install(r, "a build using pipes and eventfds")
    assert_no_anon_inode_files(trace)


# ============================================================ 7. / not a mount point

CHROOT_SH = r"""
set -e
# In a mount namespace of our own: a tmpfs T, made shared so that any mount
# pipjail would leak through propagation shows up here; T/r a plain
# directory (not a mount point) holding the host's top-level directories.
T=$1; shift
mount -t tmpfs pjchroot "$T"
mount --make-shared "$T"
mkdir "$T/r"
for p in /*; do
    n=${p#/}
    case $n in tmp|lost+found) continue;; esac
    if [ -L "$p" ]; then ln -s "$(readlink "$p")" "$T/r/$n"
    elif [ -d "$p" ]; then mkdir "$T/r/$n"; mount --rbind "$p" "$T/r/$n"
    fi
done
mkdir -m 1777 "$T/r/tmp"
awk '{print $5}' /proc/self/mountinfo | sort > "$T/before"
set +e
chroot "$T/r" "$@"
rc=$?
awk '{print $5}' /proc/self/mountinfo | sort > "$T/after"
if ! cmp -s "$T/before" "$T/after"; then
    echo "PJ-MOUNTS-LEAKED:" >&2
    diff "$T/before" "$T/after" >&2
fi
exit $rc
"""


def test_pipjail_works_where_root_is_not_a_mount_point(pj, workdir, test_user):
    """Issue 16: in a chroot (some build containers) `/` is a directory of
    a bigger mount; today: "making private /: Invalid argument".  pipjail
    must install as anywhere else, and leave no mount behind in the
    namespace it was started from (the chroot's mounts are shared there)."""
    script = os.path.join(workdir, "chroot.sh")
    write(script, CHROOT_SH, 0o755)
    t = os.path.join(workdir, "T")
    os.mkdir(t)
    inputs = pjpath_inputs(os.path.join(workdir, "in"), test_user)
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    r = pj.run("--", os.path.join(venv, "bin", "pip"), "install", "--no-index", "--find-links",
               inputs["wheels"], "pjpath", cwd=workdir, timeout=TIMEOUT,
               prefix=["unshare", "-m", "--propagation", "private", "/bin/sh", script, t])
    assert "PJ-MOUNTS-LEAKED" not in r.stderr, f"pipjail left mounts behind\n{r}"
    assert_clean_install(r, "pipjail in a chroot")
    assert installed(venv, "pjpath"), r


# ============================================================ 8. when pip fails

def test_verdict_says_pip_failed_when_pip_fails(pj, workdir, test_user):
    """Issue 16: pip failing for its own reasons is no violation, but
    `verdict: clean (... exit 1)` reads as success: the last line says that
    pip failed, e.g. `pipjail: verdict: clean, pip failed (exit 1)`."""
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    r = pj.run("--", os.path.join(venv, "bin", "pip"), "install", "--no-index",
               "pj-no-such-distribution", cwd=workdir)
    assert r.returncode == 1, r
    assert not violations(report_text(r)), r
    last = verdict_line(r)
    assert last.startswith("pipjail: verdict: clean") and "pip failed" in last \
        and "exit 1" in last, f"the last line does not say that pip failed: {last!r}\n{r}"


def test_path_pip_could_not_see_is_named_with_the_flag_that_shows_it(pj, workdir, var_tmp,
                                                                      test_user):
    """A path that pip's configuration (not its command line) names, in a
    place the jail hides: either pipjail shows it too (the install works),
    or pip fails and pipjail names the path and the flag (--ro) that would
    show it."""
    inputs = pjpath_inputs(var_tmp, test_user)
    venv = sys_venv(os.path.join(workdir, "venv"), test_user)
    r = pj.run("--", os.path.join(venv, "bin", "pip"), "install", "--no-index", "pjpath",
               cwd=workdir, env={"PIP_FIND_LINKS": inputs["wheels"]})
    if r.returncode == 0:
        assert_clean_install(r, "--find-links from PIP_FIND_LINKS")
        return
    assert r.returncode == 1, r
    last = verdict_line(r)
    assert "pip failed" in last, r
    assert inputs["wheels"] in r.stderr and "--ro" in r.stderr, \
        f"pipjail does not say that pip could not see {inputs['wheels']} nor how to show it\n{r}"
