from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

setup(
    name="pjb-pybind11",
    version="2.0",
    ext_modules=[Pybind11Extension("pjb_pybind11", ["src/main.cpp"], cxx_std=17)],
    cmdclass={"build_ext": build_ext},
)
