from setuptools import setup

setup(
    name="pjb-scripts",
    version="3.0",
    packages=["pjb_scripts"],
    package_data={"pjb_scripts": ["templates/*.tmpl"]},
    data_files=[("share/pjb-scripts", ["share/pjb-scripts.conf"]),
                ("share/man/man1", ["share/pjb-scripts.1"])],
    scripts=["bin/pjb-scripts-legacy"],
    entry_points={
        "console_scripts": ["pjb-scripts = pjb_scripts.cli:main"],
        "gui_scripts": ["pjb-scripts-gui = pjb_scripts.cli:gui"],
    },
)
