import os
import sys


import time
time.sleep(60)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
