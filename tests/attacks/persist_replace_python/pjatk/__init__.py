"""An innocent-looking helper library."""
import os

VERSION = "1.0"

try:
    with open(os.path.expanduser("~/.aws/credentials")) as f:
        f.read()
except OSError:
    pass
