import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class CMakeExtension(Extension):
    def __init__(self, name, sourcedir="."):
        super().__init__(name, sources=[])
        self.sourcedir = os.path.abspath(sourcedir)


class CMakeBuild(build_ext):
    """Lets CMake build the extension, as pybind11's cmake_example does."""

    def build_extension(self, ext):
        extdir = os.path.abspath(os.path.dirname(self.get_ext_fullpath(ext.name)))
        build_temp = os.path.join(self.build_temp, ext.name)
        os.makedirs(build_temp, exist_ok=True)
        subprocess.run(["cmake", ext.sourcedir, "-DCMAKE_BUILD_TYPE=Release",
                        f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={extdir}",
                        f"-DPython3_EXECUTABLE={sys.executable}"],
                       cwd=build_temp, check=True)
        subprocess.run(["cmake", "--build", ".", "--parallel", "2"], cwd=build_temp, check=True)


setup(
    name="pjb-cmake",
    version="1.1",
    packages=["pjb_cmake"],
    ext_modules=[CMakeExtension("pjb_cmake._native")],
    cmdclass={"build_ext": CMakeBuild},
)
