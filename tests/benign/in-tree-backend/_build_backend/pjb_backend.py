"""An in-tree PEP 517 backend (as projects such as CPython's tooling or
numpy's old vendored builders have): it delegates to setuptools and adds a
step of its own."""
import os

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403


def _stamp():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(here, "pjb_intree", "_stamp.py"), "w", encoding="utf-8") as f:
        f.write("BUILT_BY = 'pjb_backend'\n")


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _stamp()
    return _orig.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _stamp()
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
