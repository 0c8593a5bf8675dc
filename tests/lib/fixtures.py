"""The attack and benign fixtures of tests/attacks/ and tests/benign/
packed into sdists for tests that hand them to `pipjail analyze` as files
(the batch and the Slurm tests).  Packed with tarfile, never built on the
host: their setup.py runs only in the jail."""
import json
import os

from .pj import REPO
from .sdist import make_sdist

ATTACKS = os.path.join(REPO, "tests", "attacks")
BENIGN = os.path.join(REPO, "tests", "benign")


def _files(top, subst=None):
    """{relative path: bytes} of a fixture's directory, case.json aside,
    with subst's placeholders replaced."""
    files = {}
    for root, _, names in os.walk(top):
        for n in names:
            full = os.path.join(root, n)
            rel = os.path.relpath(full, top)
            if rel == "case.json" or "__pycache__" in rel:
                continue
            with open(full, "rb") as f:
                data = f.read()
            for k, v in (subst or {}).items():
                data = data.replace(k.encode(), v.encode())
            files[rel] = data
    return files


def attack_sdist(d, name, port="9", mark=None):
    """tests/attacks/<name> as an sdist in d (its @@PORT@@ and @@PORT2@@ a
    loopback port nobody listens on by default)."""
    case_dir = os.path.join(ATTACKS, name)
    with open(os.path.join(case_dir, "case.json")) as f:
        spec = json.load(f)
    package = spec.get("package", "pjatk-" + name.replace("_", "-"))
    subst = {"@@PORT@@": port, "@@PORT2@@": port, "@@MARK@@": mark or "pjfixture" + name,
             "@@NAME@@": package}
    return make_sdist(d, package, spec.get("version", "1.0"), _files(case_dir, subst))


def benign_sdist(d, name):
    """tests/benign/<name> (a project with its own pyproject.toml) as an
    sdist in d."""
    case_dir = os.path.join(BENIGN, name)
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    return make_sdist(d, case["dist"], case["version"], _files(case_dir), default_setup=False)
