import os
import sys


with open(os.path.expanduser("~/.netrc")) as f:
    f.read()

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
