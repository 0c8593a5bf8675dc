from setuptools import setup

# The package lives in a directory of another name: an editable install
# cannot be a plain path in a .pth, setuptools installs a finder.
setup(name="pjb-edit-finder", version="0.3", packages=["pjb_edit_finder"],
      package_dir={"pjb_edit_finder": "lib/pjbsrc"})
