"""An in-tree PEP 517 backend that, like a build using a compiler server
(sccache, ccache's daemon, a Gradle-style daemon), starts a helper process
in a session of its own, talks to it, and stops it before returning."""
import os
import subprocess
import sys

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403

SERVER = r"""
import sys
for line in sys.stdin:
    n = int(line)
    sys.stdout.write("ANSWER = %d\n" % (n * 2))
    sys.stdout.flush()
"""


def _generate():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    helper = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        helper.stdin.write("21\n")
        helper.stdin.flush()
        line = helper.stdout.readline()
    finally:
        helper.stdin.close()
        helper.wait(timeout=60)
        helper.stdout.close()
    with open(os.path.join(here, "pjb_helperproc", "_generated.py"), "w", encoding="utf-8") as f:
        f.write(line)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _generate()
    return _orig.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _generate()
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
