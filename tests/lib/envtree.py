"""Python environments for the staging tests: make venvs fast, and take
exact pictures of a tree (every entry's type, mode, owner and content hash)
to compare before/after and against plain pip.

Venvs.  `python3 -m venv` takes ~6 s here (ensurepip), too slow per test and
per binary.  A session fixture makes one base venv; make_venv() copies it
with `cp -a` and rewrites the base's absolute path in the few files that
hold it (bin/ scripts' shebangs, bin/activate*, pyvenv.cfg), which gives what
`python3 -m venv` would have made at the new path (only the .pyc files keep
their compile-time co_filename, and pip's RECORD keeps the hashes of the
original bin/pip* scripts: neither matters for these tests, which never
touch pip itself).
"""
import hashlib
import os
import shutil
import stat
import subprocess

PY = "/usr/bin/python3"
SITE = "lib/python3.11/site-packages"


def create_base_venv(path, uid, gid):
    """A venv at path owned by uid:gid; made once (test modules share it)."""
    if os.path.exists(os.path.join(path, "pyvenv.cfg")):
        return path
    subprocess.run([PY, "-m", "venv", path], check=True, capture_output=True)
    chown_tree(path, uid, gid)
    return path


def chown_tree(path, uid, gid):
    os.lchown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def make_venv(base, dest):
    """Copy the venv `base` to `dest` (which must not exist), fixing paths."""
    subprocess.run(["cp", "-a", base, dest], check=True)
    old, new = base.encode(), dest.encode()
    candidates = [os.path.join(dest, "pyvenv.cfg")]
    bindir = os.path.join(dest, "bin")
    candidates += [os.path.join(bindir, n) for n in os.listdir(bindir)]
    for path in candidates:
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if old in data:
            st = os.stat(path)
            with open(path, "wb") as f:
                f.write(data.replace(old, new))
            os.chmod(path, stat.S_IMODE(st.st_mode))
            os.chown(path, st.st_uid, st.st_gid)
    return dest


def _pyc_key(data):
    # A timestamp-based .pyc: magic, flags, source mtime, source size, code.
    # The source mtime is when pip unpacked the file: it differs between any
    # two installs and is the one thing not compared.
    if len(data) >= 16 and data[4:8] == b"\0\0\0\0":
        data = data[:8] + data[12:]
    return hashlib.sha256(data).hexdigest()


def snapshot(root):
    """{relative path: (kind, mode, uid, gid, content)} for root and every
    entry below it, symlinks not followed.  content: sha256 of a file (for
    a .pyc, without its source-mtime field), the target of a symlink."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in [""] + sorted(dirnames + filenames):
            if name == "" and dirpath != root:
                continue
            path = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                entry = ("link", mode, st.st_uid, st.st_gid, os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                entry = ("dir", mode, st.st_uid, st.st_gid, None)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    data = f.read()
                digest = (_pyc_key(data) if path.endswith(".pyc")
                          else hashlib.sha256(data).hexdigest())
                entry = ("file", mode, st.st_uid, st.st_gid, digest)
            else:
                entry = ("other", st.st_mode, st.st_uid, st.st_gid, st.st_rdev)
            out[rel] = entry
    return out


def diff(a, b, limit=40):
    """Human-readable differences from snapshot a to snapshot b."""
    lines = []
    for rel in sorted(set(a) | set(b)):
        if rel not in b:
            lines.append(f"- {rel} {a[rel][:4]}")
        elif rel not in a:
            lines.append(f"+ {rel} {b[rel][:4]}")
        elif a[rel] != b[rel]:
            lines.append(f"~ {rel}: {a[rel]} -> {b[rel]}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return "\n".join(lines)


def stage_leftovers(target):
    """.pipjail-stage.* entries next to target (and pipjail-stage.* in /var/tmp
    whose meta names target)."""
    parent = os.path.dirname(os.path.abspath(target))
    found = [os.path.join(parent, n) for n in os.listdir(parent)
             if n.startswith(".pipjail-stage.")]
    try:
        tmp = os.listdir("/var/tmp")
    except OSError:
        tmp = []
    for n in tmp:
        if not n.startswith("pipjail-stage."):
            continue
        meta = os.path.join("/var/tmp", n, "meta")
        try:
            with open(meta, "rb") as f:
                if os.path.abspath(target).encode() in f.read():
                    found.append(os.path.join("/var/tmp", n))
        except OSError:
            pass
    return found


def restore(saved, dest):
    """Make dest an exact copy of saved again (same path: same RECORDs)."""
    if os.path.lexists(dest):
        shutil.rmtree(dest)
    subprocess.run(["cp", "-a", saved, dest], check=True)
