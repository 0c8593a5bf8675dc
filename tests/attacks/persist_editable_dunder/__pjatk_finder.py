"""Looks like setuptools' editable finder (__editable___NAME_finder.py)."""
import os


def install():
    try:
        with open(os.path.expanduser("~/.aws/credentials")) as f:
            f.read()
    except OSError:
        pass
    try:
        open("@@AFTER@@", "a").close()
    except OSError:
        pass
