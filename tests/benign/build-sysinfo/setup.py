"""A build that looks at the machine, as configure-style builds do: it asks
pkg-config for zlib's flags, uname for the machine, getpass for the user
(for its build log), and /proc/cpuinfo for the CPU's features."""
import getpass
import os
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


ZLIB_VERSION = run("pkg-config", "--modversion", "zlib")
ZLIB_CFLAGS = run("pkg-config", "--cflags", "zlib").split()
ZLIB_LIBS = run("pkg-config", "--libs", "zlib").split()
MACHINE = run("uname", "-m")
KERNEL = run("uname", "-s")
USER = getpass.getuser()
with open("/proc/cpuinfo", encoding="utf-8") as f:
    CPU_FLAGS = set()
    for line in f:
        if line.startswith(("flags", "Features")):
            CPU_FLAGS.update(line.split(":", 1)[1].split())
print(f"pjb-sysinfo: building as {USER} on {KERNEL}/{MACHINE}, zlib {ZLIB_VERSION}, "
      f"{len(CPU_FLAGS)} CPU flags")
if not USER:
    raise SystemExit("getpass.getuser() returned nothing")


class BuildPyWithInfo(build_py):
    def run(self):
        super().run()
        path = os.path.join(self.build_lib, "pjb_sysinfo", "_buildinfo.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"MACHINE = {MACHINE!r}\nKERNEL = {KERNEL!r}\n"
                    f"ZLIB_VERSION = {ZLIB_VERSION!r}\n"
                    f"HAVE_SSE2 = {'sse2' in CPU_FLAGS!r}\n")


setup(
    name="pjb-sysinfo",
    version="1.0",
    packages=["pjb_sysinfo"],
    ext_modules=[Extension(
        "pjb_sysinfo._zlib",
        ["pjb_sysinfo/_zlib.c"],
        extra_compile_args=ZLIB_CFLAGS,
        libraries=[a[2:] for a in ZLIB_LIBS if a.startswith("-l")],
        library_dirs=[a[2:] for a in ZLIB_LIBS if a.startswith("-L")],
    )],
    cmdclass={"build_py": BuildPyWithInfo},
)
