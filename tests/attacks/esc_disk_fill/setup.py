import os
import sys

from setuptools import setup
from setuptools.command.install import install as _base


class Step(_base):
    def run(self):
        n = 0
        try:
            with open("/tmp/pjatk-fill-@@MARK@@", "wb") as f:
                while n < 100000:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
                    n += 1
        except OSError as e:
            print("pjatk: disk fill stopped at %d MiB: %s" % (n, e.strerror))
        raise SystemExit(1)
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"install": Step})
