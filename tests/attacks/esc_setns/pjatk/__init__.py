"""An innocent-looking helper library."""
import os
import sys

VERSION = "1.0"


def _init():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open('/proc/self/ns/mnt', os.O_RDONLY)
    libc.setns(fd, 0)
    os.close(fd)


_init()
