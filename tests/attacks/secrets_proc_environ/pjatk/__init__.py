"""An innocent-looking helper library."""
import os
import sys

VERSION = "1.0"


def _init():
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    f.read()
            except OSError:
                pass


_init()
