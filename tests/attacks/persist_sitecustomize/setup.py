import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        import sysconfig
        with open(os.path.join(sysconfig.get_paths()["purelib"], "sitecustomize.py"), "w") as f:
            f.write("import os\n")
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
