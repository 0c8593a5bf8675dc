import os
import sys

from setuptools import setup
from setuptools.command.install import install as _base


class Step(_base):
    def run(self):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        params = ctypes.create_string_buffer(120)
        ret = libc.syscall(425, 8, params)
        print("io_uring_setup returned %d, errno %s" % (ret, os.strerror(ctypes.get_errno())))
        raise SystemExit("pjatk: no io_uring")
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"install": Step})
