"""Base virtual environments for the corpora, made once per test session
and copied for each case (the `attack_bases` fixture of conftest.py): every
test module that installs attack packages starts from the same two."""
import os
import subprocess

from lib.mkwheel import make_wheel

WHEELS = "/usr/share/python-wheels"
PYTHON = "/usr/bin/python3"
VICTIM = "pjvictim"  # an innocent package installed in the base venv


def chown_tree(root, user):
    """Give root and everything below it to the test user (no symlink followed)."""
    os.lchown(root, user.uid, user.gid)
    for dirpath, dirnames, filenames in os.walk(root):
        os.lchown(dirpath, user.uid, user.gid)
        for n in dirnames + filenames:
            os.lchown(os.path.join(dirpath, n), user.uid, user.gid)


def make_attack_bases(session_dir, test_user):
    """`pep517` has `wheel` (pip builds through PEP 517 hooks) and the
    innocent pjvictim package; `legacy` has no `wheel`."""
    root = os.path.join(session_dir, "attack-bases")
    os.mkdir(root, 0o755)
    victim_dir = os.path.join(root, "victim")
    os.mkdir(victim_dir)
    make_wheel(victim_dir, VICTIM, "1.0", {
        f"{VICTIM}/__init__.py": "def greet():\n    return 'hello from pjvictim'\n"})
    bases = {}
    for kind in ("pep517", "legacy"):
        venv = os.path.join(root, kind)
        subprocess.run([PYTHON, "-m", "venv", venv], check=True)
        pkgs = ["wheel", VICTIM] if kind == "pep517" else [VICTIM]
        subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q",
                        "--no-index", "--find-links", WHEELS, "--find-links", victim_dir]
                       + pkgs, check=True, env={"PATH": "/usr/bin:/bin",
                                                "PYTHONDONTWRITEBYTECODE": "1"})
        chown_tree(venv, test_user)
        bases[kind] = venv
    return bases
