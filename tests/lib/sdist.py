"""Build small source distributions in pure Python (tarfile), never by
running a setup.py on the host: the attack corpora built with this are
meant to run only inside the jail."""
import io
import os
import re
import tarfile

# Wheels are zip files, which cannot hold times before 1980: give every
# member a fixed, recent time so that builds are reproducible and valid.
MTIME = 1700000000


def _normalize(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def _default_setup_py(name, version, files):
    packages = sorted({p.split("/")[0] for p in files
                       if "/" in p and p.endswith(".py") and p.split("/")[0].isidentifier()})
    modules = sorted(p[:-3] for p in files if "/" not in p and p.endswith(".py")
                     and p != "setup.py")
    return ("from setuptools import setup, find_packages\n"
            f"setup(name={name!r}, version={version!r},\n"
            f"      packages=find_packages(include={[p + '*' for p in packages]!r}),\n"
            f"      py_modules={modules!r})\n")


DEFAULT_PYPROJECT = ('[build-system]\n'
                     'requires = ["setuptools>=40.8.0", "wheel"]\n'
                     'build-backend = "setuptools.build_meta"\n')


def make_sdist(dir, name, version, files, default_setup=True):
    """Write <dir>/<name>-<version>.tar.gz and return its path.

    files maps paths inside the project ("mypkg/__init__.py") to str or bytes.
    PKG-INFO is always generated; setup.py (unless default_setup is false:
    a project whose pyproject.toml says it all) and pyproject.toml are
    added (setuptools backend) unless files provides them.  A setup.py given
    in files is a build-time payload: it runs only when pip builds the sdist.
    """
    files = dict(files)
    if default_setup:
        files.setdefault("setup.py", _default_setup_py(name, version, files))
    files.setdefault("pyproject.toml", DEFAULT_PYPROJECT)
    files["PKG-INFO"] = ("Metadata-Version: 2.1\n"
                         f"Name: {name}\n"
                         f"Version: {version}\n"
                         "Summary: pipjail test package\n")
    base = f"{_normalize(name)}-{version}"
    path = os.path.join(dir, base + ".tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for rel in sorted(files):
            parts = rel.split("/")[:-1]
            for i in range(len(parts)):
                dirs.add("/".join(parts[: i + 1]))
        for d in [""] + sorted(dirs):
            info = tarfile.TarInfo(base + ("/" + d if d else ""))
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = MTIME
            tar.addfile(info)
        for rel in sorted(files):
            data = files[rel]
            if isinstance(data, str):
                data = data.encode()
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = MTIME
            tar.addfile(info, io.BytesIO(data))
    return path
