"""Shared by the fixtures' in-tree PEP 517 backends (copied into each sdist):
write a wheel (or metadata) with whatever files the attack wants.  Runs
only inside pipjail's jail, as the package's build."""
import base64, hashlib, os, zipfile

def _h(b):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()

def metadata(name, version, requires=()):
    s = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    for r in requires:
        s += f"Requires-Dist: {r}\n"
    return s

def write_metadata(md_dir, name, version, requires=()):
    di = f"{name.replace('-', '_')}-{version}.dist-info"
    os.makedirs(os.path.join(md_dir, di), exist_ok=True)
    with open(os.path.join(md_dir, di, "METADATA"), "w") as f:
        f.write(metadata(name, version, requires))
    with open(os.path.join(md_dir, di, "WHEEL"), "w") as f:
        f.write("Wheel-Version: 1.0\nGenerator: rt1\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    return di

def write_wheel(wheel_dir, name, version, files, requires=()):
    """files: {path in wheel: bytes}"""
    dn = name.replace("-", "_")
    di = f"{dn}-{version}.dist-info"
    files = dict(files)
    files[f"{di}/METADATA"] = metadata(name, version, requires).encode()
    files[f"{di}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: rt1\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    rec = [f"{p},{_h(b)},{len(b)}" for p, b in files.items()] + [f"{di}/RECORD,,"]
    files[f"{di}/RECORD"] = ("\n".join(rec) + "\n").encode()
    fn = f"{dn}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_dir, fn), "w") as z:
        for p, b in files.items():
            zi = zipfile.ZipInfo(p)
            zi.external_attr = (0o100755 if "/scripts/" in p else 0o100644) << 16
            z.writestr(zi, b)
    return fn
