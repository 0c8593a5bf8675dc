# No pyproject.toml, and the venv has no `wheel`: pip 23.0 runs
# `setup.py install`.  The install adds a .pth that is a symlink to a file
# of the package that only names a directory (as some plugin systems do).
import os

from setuptools import setup
from setuptools.command.install import install as _install

LINK = "pjb_legacylink.pth"


class Install(_install):
    def run(self):
        super().run()
        link = os.path.join(self.install_lib, LINK)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.join("pjb_legacylink", "paths.cfg"), link)

    def get_outputs(self):
        return super().get_outputs() + [os.path.join(self.install_lib, LINK)]


setup(name="pjb-legacylink", version="0.5", packages=["pjb_legacylink"],
      package_data={"pjb_legacylink": ["paths.cfg", "plugins/*.py"]},
      cmdclass={"install": Install})
