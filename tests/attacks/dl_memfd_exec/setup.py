import os
import sys


import ctypes
libc = ctypes.CDLL(None, use_errno=True)
fd = os.memfd_create("pjatk", 0)
with open("/bin/true", "rb") as f:
    os.write(fd, f.read())
pid = os.fork()
if pid == 0:
    argv = (ctypes.c_char_p * 2)(b"true", None)
    envp = (ctypes.c_char_p * 1)(None)
    libc.syscall(322, fd, b"", argv, envp, 0x1000)  # execveat(fd, "", ..., AT_EMPTY_PATH)
    os._exit(127)
os.waitpid(pid, 0)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
