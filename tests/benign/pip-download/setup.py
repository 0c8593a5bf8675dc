import os
import platform

from setuptools import setup

# Metadata computed by code, as many projects do: pip download must run
# this (prepare_metadata_for_build_wheel) to learn the dependencies.
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "README.txt"), encoding="utf-8") as f:
    long_description = f.read()

requires = []
if platform.python_implementation() == "PyPy":
    requires.append("cffi")

setup(
    name="pjb-download",
    version="5.5",
    long_description=long_description,
    packages=["pjb_download"],
    install_requires=requires,
)
