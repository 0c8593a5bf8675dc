from setuptools import setup

setup(name="clean-demo", version="1.0", py_modules=["clean_demo"])
