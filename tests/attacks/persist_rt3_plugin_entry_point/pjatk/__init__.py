# A plugin: pytest loads every pytest11 entry point, setuptools runs every
# finalize_distribution_options hook.  Quiet inside pipjail's jail.
import os as _os
if not _os.path.exists("/run/pipjail"):
    try:
        open("@@AFTER@@", "w").close()
    except OSError:
        pass


def hook(dist):
    pass
