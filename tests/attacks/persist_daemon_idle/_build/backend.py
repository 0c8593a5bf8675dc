"""An in-tree PEP 517 backend: setuptools, plus a little extra."""
import os

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            # A daemon: no stdio of the build's (pip waits for their EOF).
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            import time
            try:
                time.sleep(600)
            finally:
                os._exit(0)
        os._exit(0)
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
