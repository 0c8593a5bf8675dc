# A top-level module that code the user already runs imports by name when it
# is there.  Quiet inside pipjail's jail.
import os as _os
if not _os.path.exists("/run/pipjail"):
    try:
        open("@@AFTER@@", "w").close()
    except OSError:
        pass
def install():
    pass
