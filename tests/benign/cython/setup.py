from Cython.Build import cythonize
from setuptools import setup

setup(
    name="pjb-cython",
    version="0.9",
    packages=["pjb_cython"],
    ext_modules=cythonize(["pjb_cython/_primes.pyx"], language_level=3),
)
