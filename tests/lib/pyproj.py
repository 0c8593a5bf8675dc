"""Python projects and environments for the pip tests: a base venv built
once per session and copied per test, sdists whose build runs a payload
(a plain setup.py, or a PEP 517 in-tree backend), and trace readers.

Everything here is built in pure Python on the host; no setup.py and no
backend is ever run outside the jail."""
import io
import json
import os
import subprocess
import tarfile
import textwrap

from .sdist import MTIME, _normalize, make_sdist

PYTHON = "/usr/bin/python3"
WHEELS = "/usr/share/python-wheels"

_base_venvs = {}


def base_venv(session_dir, user):
    """A venv made with Debian's python (pip, setuptools; no wheel), owned
    by the user; built once per session_dir.  Copy it with copy_venv."""
    path = os.path.join(session_dir, "base-venv")
    if path not in _base_venvs:
        if not os.path.isdir(path):
            subprocess.run([PYTHON, "-m", "venv", path], check=True, capture_output=True)
            chown_tree(path, user)
        _base_venvs[path] = path
    return path


def copy_venv(base, dest, user):
    """cp -a of the base venv.  Its scripts' #! lines still name the base:
    run pip as DEST/bin/python -m pip (the venv is found from pyvenv.cfg
    next to the interpreter, so that pip installs into DEST)."""
    subprocess.run(["cp", "-a", base, dest], check=True)
    chown_tree(dest, user)
    return dest


def chown_tree(path, user):
    os.chown(path, user.uid, user.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), user.uid, user.gid)


def pip_args(venv, *finds):
    """argv of `pip install` from local directories only."""
    args = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--no-index",
            "--disable-pip-version-check", "--find-links", WHEELS]
    for f in finds:
        args += ["--find-links", f]
    return args


def site_packages(venv):
    return os.path.join(venv, "lib", "python3.11", "site-packages")


# ---------------------------------------------------------------- sdists

def legacy_sdist(dist, name, version, setup_top, extra_files=None):
    """An sdist with a setup.py and no pyproject.toml: pip (without
    `wheel`) runs `setup.py egg_info` and `setup.py install`.  setup_top
    runs at the top of setup.py, before setup()."""
    mod = _normalize(name)
    files = {f"{mod}/__init__.py": f"VERSION = {version!r}\n",
             "setup.py": (setup_top.rstrip("\n") + "\n\n"
                          "from setuptools import setup\n"
                          f"setup(name={name!r}, version={version!r}, packages=[{mod!r}])\n")}
    files.update(extra_files or {})
    path = make_sdist(dist, name, version, files)
    _drop_member(path, f"{_normalize(name)}-{version}/pyproject.toml")
    return path


def _drop_member(path, member):
    buf = io.BytesIO()
    with tarfile.open(path, "r:gz") as src, \
            tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as dst:
        for info in src.getmembers():
            if info.name == member:
                continue
            dst.addfile(info, src.extractfile(info) if info.isfile() else None)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


BACKEND_HOOKS = ("get_requires_for_build_wheel", "prepare_metadata_for_build_wheel",
                 "build_wheel")


def backend_sdist(dist, name, version, payload="", hook="build_wheel"):
    """An sdist built by its own in-tree PEP 517 backend (backend.py,
    build-backend = "backend", backend-path = ["."], no build
    requirements): it writes its wheel with zipfile.  payload (Python code)
    runs in `hook`."""
    assert hook in BACKEND_HOOKS, hook
    calls = {h: ("    _payload()\n" if h == hook else "") for h in BACKEND_HOOKS}
    body = textwrap.indent(textwrap.dedent(payload).strip("\n") or "pass", "    ")
    backend = f'''\
import base64, hashlib, os, zipfile

NAME = {name!r}
VERSION = {version!r}
SAFE = {_normalize(name)!r}  # the name as wheel and dist-info names spell it
DIST_INFO = SAFE + "-" + VERSION + ".dist-info"
METADATA = "Metadata-Version: 2.1\\nName: " + NAME + "\\nVersion: " + VERSION + "\\n"
WHEEL = "Wheel-Version: 1.0\\nGenerator: pipjail-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"


def _payload():
{body}


def get_requires_for_build_wheel(config_settings=None):
{calls["get_requires_for_build_wheel"]}    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
{calls["prepare_metadata_for_build_wheel"]}    os.makedirs(os.path.join(metadata_directory, DIST_INFO))
    with open(os.path.join(metadata_directory, DIST_INFO, "METADATA"), "w") as f:
        f.write(METADATA)
    return DIST_INFO


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return arcname + ",sha256=" + digest + "," + str(len(data)) + "\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
{calls["build_wheel"]}    filename = SAFE + "-" + VERSION + "-py3-none-any.whl"
    with open(os.path.join(SAFE, "__init__.py"), "rb") as f:
        init = f.read()
    members = [(SAFE + "/__init__.py", init),
               (DIST_INFO + "/METADATA", METADATA.encode()),
               (DIST_INFO + "/WHEEL", WHEEL.encode())]
    record = "".join(_record_line(a, d) for a, d in members) + DIST_INFO + "/RECORD,,\\n"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for arcname, data in members + [(DIST_INFO + "/RECORD", record.encode())]:
            info = zipfile.ZipInfo(arcname, date_time=(2023, 11, 14, 22, 13, 20))
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return filename
'''
    files = {
        f"{_normalize(name)}/__init__.py": f"VERSION = {version!r}\n",
        "backend.py": backend,
        "pyproject.toml": ('[build-system]\n'
                           'requires = []\n'
                           'build-backend = "backend"\n'
                           'backend-path = ["."]\n'),
        "setup.py": "raise SystemExit('pipjail tests: this project is built by backend.py')\n",
    }
    return make_sdist(dist, name, version, files)


# ---------------------------------------------------------------- traces

def read_trace(path):
    """[(line number, object)] of a JSON Lines trace."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            out.append((n, json.loads(line)))
    return out


def events(trace):
    return [o for _, o in trace if o.get("type") == "event"]


def notes(trace, kind=None):
    return [o for _, o in trace if o.get("type") == "note" and (kind is None or o.get("kind") == kind)]


def header(trace):
    return trace[0][1]


def summary(trace):
    return trace[-1][1]


__all__ = ["MTIME", "base_venv", "copy_venv", "chown_tree", "pip_args", "site_packages",
           "legacy_sdist", "backend_sdist", "read_trace", "events", "notes", "header",
           "summary", "PYTHON", "WHEELS"]
