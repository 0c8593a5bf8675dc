# An ordinary sdist with one build dependency: its only role is to make pip
# start a new __pip-runner__.py (to install rt1-b2-dep).
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, "rt1-b2-trigger", "1.0", {"rt1_b2_trigger.py": b""})
