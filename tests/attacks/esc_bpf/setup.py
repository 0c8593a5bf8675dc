import os
import sys


import ctypes
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(128)
libc.syscall(321, 5, attr, 128)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
