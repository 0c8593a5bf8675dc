import os
import sys


import sysconfig
with open(os.path.join(sysconfig.get_paths()["purelib"], "pjatk-startup.pth"), "w") as f:
    f.write("import os; os.environ.setdefault('PJATK_STARTED', '1')\n")

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
