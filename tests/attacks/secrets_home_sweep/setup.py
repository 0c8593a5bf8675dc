import os
import sys


n = 0
for root, dirs, files in os.walk(os.path.expanduser("~")):
    for name in files:
        if n >= 1000:
            break
        n += 1
        try:
            with open(os.path.join(root, name), "rb") as f:
                f.read(4096)
        except OSError:
            pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
