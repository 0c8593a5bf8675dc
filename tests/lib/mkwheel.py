"""Build wheels in pure Python (zipfile), with nothing executed: the
dist-info (METADATA, WHEEL, RECORD with sha256 hashes, entry_points.txt)
is written here, as bdist_wheel would.  Used to install packages with plain
pip outside the jail (no setup.py ever runs on the host) and to build
wheels whose content is an attack (a start-up .pth listed in RECORD, a file
of another distribution)."""
import base64
import hashlib
import os
import re
import zipfile

_ZIP_TIME = (2023, 11, 14, 22, 13, 20)  # fixed: reproducible wheels


def normalize(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_wheel(dir, name, version, files, console_scripts=None, data_scripts=None,
               record_extra=(), tag="py3-none-any", stored=False, data=None, requires=()):
    """Write <dir>/<name>-<version>-<tag>.whl and return its path.

    files: {path in the wheel (relative to site-packages): str or bytes}.
    console_scripts: {script name: "module:function"} (entry_points.txt).
    data_scripts: {script name: text} installed to bin/ (.data/scripts/).
    data: {"SCHEME/path": str or bytes} for the wheel's .data/ directory:
        purelib and platlib (site-packages), data (the environment's root:
        share/..., etc/...), scripts (bin/), headers (include/...).
    record_extra: more RECORD rows, verbatim (tests of a lying RECORD).
    stored: no compression (a wheel as large as its content).
    requires: Requires-Dist lines of METADATA (its dependencies).
    """
    dist = normalize(name)
    info = f"{dist}-{version}.dist-info"
    data_files = dict(data or {})
    members = {}
    for rel, data in files.items():
        members[rel] = data.encode() if isinstance(data, str) else data
    for script, text in (data_scripts or {}).items():
        members[f"{dist}-{version}.data/scripts/{script}"] = text.encode()
    for rel, body in data_files.items():
        assert rel.split("/")[0] in ("purelib", "platlib", "data", "scripts", "headers"), rel
        members[f"{dist}-{version}.data/{rel}"] = body.encode() if isinstance(body, str) else body
    members[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                   "Summary: pipjail test package\n" +
                                   "".join(f"Requires-Dist: {q}\n" for q in requires)).encode()
    members[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: pipjail-tests\n"
                                f"Root-Is-Purelib: true\nTag: {tag}\n").encode()
    tops = {p.split("/")[0].removesuffix(".py") for p in files
            if "/" in p or p.endswith(".py")}
    members[f"{info}/top_level.txt"] = "".join(t + "\n" for t in sorted(tops)).encode()
    if console_scripts:
        members[f"{info}/entry_points.txt"] = (
            "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in console_scripts.items())
        ).encode()
    rows = [f"{rel},{record_hash(data)},{len(data)}" for rel, data in members.items()]
    rows += list(record_extra)
    rows.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = ("\n".join(rows) + "\n").encode()
    path = os.path.join(dir, f"{dist}-{version}-{tag}.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in members.items():
            zi = zipfile.ZipInfo(rel, date_time=_ZIP_TIME)
            zi.external_attr = (0o755 if "/scripts/" in rel else 0o644) << 16
            zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return path

