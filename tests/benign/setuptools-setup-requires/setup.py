import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

# An in-tree helper, as many old projects ship next to setup.py.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from buildtools.versioning import read_version  # noqa: E402
from buildtools.generate import write_constants  # noqa: E402


class BuildPyWithConstants(build_py):
    """Generates _constants.py into the build tree, as code generators do."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "pjb_st_setupreq", "_constants.py")
        write_constants(target, {"ANSWER": 42, "NAME": "pjb-st-setupreq"})


setup(
    name="pjb-st-setupreq",
    version=read_version("pjb_st_setupreq/__init__.py"),
    packages=["pjb_st_setupreq"],
    # Helpers fetched by setuptools before the build, satisfied here by the
    # environment (pip passes no index to setuptools' own fetcher).
    setup_requires=["wheel>=0.30", "setuptools>=40"],
    cmdclass={"build_py": BuildPyWithConstants},
)
