# Metadata is in pyproject.toml; setup.py only declares the extension.
from setuptools import Extension, setup

setup(ext_modules=[Extension("pjb_wheel_cext._sum", ["pjb_wheel_cext/_sum.c"])])
