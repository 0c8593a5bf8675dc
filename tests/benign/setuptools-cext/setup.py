from setuptools import Extension, setup

setup(
    name="pjb-st-cext",
    version="1.0",
    packages=["pjb_st_cext"],
    ext_modules=[Extension("pjb_st_cext._fast", ["pjb_st_cext/_fast.c"])],
)
