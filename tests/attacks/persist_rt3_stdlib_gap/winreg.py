# Fills in a standard library module that this Python lacks: mimetypes
# imports it by name when it is found.  Quiet inside pipjail's jail.
import os as _os
if not _os.path.exists("/run/pipjail"):
    try:
        open("@@AFTER@@", "w").close()
    except OSError:
        pass
raise ImportError("no winreg here")
