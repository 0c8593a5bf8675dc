"""The benign packages that `make bench` installs, built in pure Python
(tarfile, zipfile): nothing here runs a setup.py on the host.

  benchpure   setuptools sdist, pure Python (PEP 517 build, isolated)
  benchcext   setuptools sdist with a C extension (gcc at build time)
  benchwheel  a wheel only (no build step at all)
  benchmany   a wheel of 5,000 small files, mostly data (the staging/commit
              cost; data files, so pip's byte-compiling does not hide it)
  benchkill   an sdist whose build forks children that read ~/.ssh/id_rsa
              (kill latency; never part of the install set)
  benchbatchN the batch set (batch_set): small packages for
              `pipjail analyze --batch`, sdists and wheels in turn
"""
import base64
import hashlib
import os
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
from sdist import make_sdist  # noqa: E402

MTIME = (2023, 11, 14, 22, 13, 20)

CEXT_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A little real work for the compiler: a checksum over a buffer. */
static PyObject *fletcher(PyObject *self, PyObject *args)
{
	Py_buffer b;
	unsigned long a = 0, c = 0;

	(void)self;
	if (!PyArg_ParseTuple(args, "y*", &b))
		return NULL;
	for (Py_ssize_t i = 0; i < b.len; i++) {
		a = (a + ((unsigned char *)b.buf)[i]) % 65535;
		c = (c + a) % 65535;
	}
	PyBuffer_Release(&b);
	return PyLong_FromUnsignedLong((c << 16) | a);
}

static PyMethodDef methods[] = {
	{"fletcher", fletcher, METH_VARARGS, "Fletcher-32 of a bytes object."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod = { PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods };

PyMODINIT_FUNC PyInit__speed(void)
{
	return PyModule_Create(&mod);
}
"""

CEXT_SETUP = """from setuptools import setup, Extension
setup(name="benchcext", version="1.0", packages=["benchcext"],
      ext_modules=[Extension("benchcext._speed", ["benchcext/_speed.c"])])
"""

# The kill-latency build: during build_wheel, fork N children one after
# the other; each reads a decoy secret and then waits; it should be killed.
# Even tries open ~/.bashrc for writing (a persistence attempt: a violation
# that the engine judges in user space), odd tries read ~/.ssh/id_rsa (a
# decoy secret: killed in the kernel on return from the open when the monitor
# enforces kernel rules).  Stops at the first child not killed.
KILL_SETUP = """import os, sys, time
from setuptools import setup
if "bdist_wheel" in sys.argv:
    keys = [(os.path.expanduser("~/.bashrc"), os.O_WRONLY | os.O_CREAT | os.O_APPEND),
            (os.path.expanduser("~/.ssh/id_rsa"), os.O_RDONLY)]
    for i in range({tries}):
        pid = os.fork()
        if pid == 0:
            try:
                fd = os.open(keys[i % 2][0], keys[i % 2][1], 0o644)
            except OSError:
                os._exit(3)
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                time.sleep(0.0005)
            os._exit(0)
        _, st = os.waitpid(pid, 0)
        if not os.WIFSIGNALED(st):
            break
setup(name="benchkill", version="1.0", packages=["benchkill"])
"""


def _pure_files():
    files = {"benchpure/__init__.py": "from .m00 import f00\nVALUE = 1\n"}
    for i in range(20):
        files[f"benchpure/m{i:02d}.py"] = (f"def f{i:02d}(x):\n    return x * {i} + 1\n" * 3)
    return files


def _record_hash(data):
    d = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(d).rstrip(b"=").decode()


def make_wheel(dist, name, version, files):
    """Write a py3-none-any wheel with a correct RECORD; return its path."""
    di = f"{name}-{version}.dist-info"
    files = dict(files)
    files[f"{di}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                               "Summary: pipjail bench package\n")
    files[f"{di}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: pipjail-bench\n"
                            "Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{di}/top_level.txt"] = name + "\n"
    record = []
    path = os.path.join(dist, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in sorted(files):
            data = files[rel].encode()
            z.writestr(zipfile.ZipInfo(rel, MTIME), data)
            record.append(f"{rel},{_record_hash(data)},{len(data)}")
        record.append(f"{di}/RECORD,,")
        z.writestr(zipfile.ZipInfo(f"{di}/RECORD", MTIME), "\n".join(record) + "\n")
    return path


def build(dist, many_files=5000, kill_tries=60):
    """Build every package into dist; return {name: path}."""
    os.makedirs(dist, exist_ok=True)
    out = {}
    out["benchpure"] = make_sdist(dist, "benchpure", "1.0", _pure_files())
    out["benchcext"] = make_sdist(dist, "benchcext", "1.0", {
        "benchcext/__init__.py": "from ._speed import fletcher\n",
        "benchcext/_speed.c": CEXT_C,
        "setup.py": CEXT_SETUP,
    })
    out["benchwheel"] = make_wheel(dist, "benchwheel", "1.0", {
        "benchwheel/__init__.py": "VALUE = 3\n",
        **{f"benchwheel/w{i}.py": f"W = {i}\n" for i in range(10)},
    })
    many = {"benchmany/__init__.py": "N = %d\n" % many_files}
    per_dir = 100
    for i in range(many_files - 1):
        d = i // per_dir
        if f"benchmany/d{d:03d}/__init__.py" not in many:
            many[f"benchmany/d{d:03d}/__init__.py"] = ""
            continue
        many[f"benchmany/d{d:03d}/r{i:05d}.json"] = '{"id": %d, "v": "%s"}\n' % (i, "x" * (i % 64))
    out["benchmany"] = make_wheel(dist, "benchmany", "1.0", many)
    kill_dir = os.path.join(dist, "kill")
    os.makedirs(kill_dir, exist_ok=True)
    out["benchkill"] = make_sdist(kill_dir, "benchkill", "1.0", {
        "benchkill/__init__.py": "",
        "setup.py": KILL_SETUP.format(tries=kill_tries),
    })
    return out


if __name__ == "__main__":
    for k, v in build(sys.argv[1]).items():
        print(k, v)


def batch_set(dist, n):
    """n small packages for `pipjail analyze --batch` (the batch figure):
    even ones pure-Python setuptools sdists (a PEP 517 build each), odd
    ones wheels; a few modules each.  Returns their paths, in order."""
    os.makedirs(dist, exist_ok=True)
    paths = []
    for i in range(n):
        name = f"benchbatch{i}"
        files = {f"{name}/__init__.py": "VALUE = %d\n" % i,
                 **{f"{name}/m{j}.py": f"def f{j}(x):\n    return x + {j}\n" for j in range(4)}}
        paths.append((make_sdist if i % 2 == 0 else make_wheel)(dist, name, "1.0", files))
    return paths
