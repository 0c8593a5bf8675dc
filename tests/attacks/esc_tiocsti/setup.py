import os
import sys


import fcntl, termios
for fd in (0, 1, 2):
    try:
        fcntl.ioctl(fd, termios.TIOCSTI, b'x')
    except OSError:
        pass
try:
    t = os.open('/dev/tty', os.O_RDWR)
    fcntl.ioctl(t, termios.TIOCSTI, b'x')
except OSError:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
