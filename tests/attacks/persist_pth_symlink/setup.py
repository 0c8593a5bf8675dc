import os

from setuptools import setup
from setuptools.command.install import install as _install

LINK = "pjatk-boot.pth"


class Install(_install):
    """setup.py install: the package, then a .pth that is a symlink to one
    of its data files, listed among the outputs (pip's installed-files.txt)."""

    def run(self):
        super().run()
        link = os.path.join(self.install_lib, LINK)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.join("pjatk", "boot.cfg"), link)

    def get_outputs(self):
        return super().get_outputs() + [os.path.join(self.install_lib, LINK)]


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      package_data={"pjatk": ["boot.cfg"]},
      cmdclass={"install": Install})
