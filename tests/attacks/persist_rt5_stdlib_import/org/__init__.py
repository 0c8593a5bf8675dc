# copy and pickle try `from org.python.core import PyStringMap` when they are
# imported (Jython's), on every platform: a top-level package org runs then.
# Quiet inside pipjail's jail.
import os as _os
if not _os.path.exists("/run/pipjail"):
    try:
        open("@@AFTER@@", "w").close()
    except OSError:
        pass
