from setuptools import setup

setup(
    name="pjb-cffi",
    version="1.5",
    packages=["pjb_cffi"],
    setup_requires=["cffi>=1.0.0"],
    cffi_modules=["pjb_cffi/build_ffi.py:ffibuilder"],
    install_requires=["cffi>=1.0.0"],
)
