from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
