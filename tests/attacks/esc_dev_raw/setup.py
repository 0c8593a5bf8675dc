import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        for dev in ("/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem", "/dev/kmem", "/dev/port"):
            try:
                os.close(os.open(dev, os.O_RDONLY))
                print("pjatk: opened", dev)
            except OSError as e:
                print("pjatk: %s: %s" % (dev, e.strerror))
        raise SystemExit("pjatk: no raw device")
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
