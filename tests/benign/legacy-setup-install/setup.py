# No pyproject.toml, and the venv has no `wheel`: pip 23.0 runs
# `setup.py install` (the legacy path), which records the files in
# .egg-info/installed-files.txt instead of a RECORD.
from setuptools import setup

setup(
    name="pjb-legacy",
    version="0.8",
    packages=["pjb_legacy"],
    entry_points={"console_scripts": ["pjb-legacy = pjb_legacy:main"]},
)
