# A package directory main/ beside pip's main.py: Python's import system
# prefers the package, so every later pip runs this first.  No byte of a
# file pip declared changes.  Quiet inside pipjail's jail.
import os as _os
if not _os.path.exists("/run/pipjail"):
    try:
        open("@@AFTER@@", "w").close()
    except OSError:
        pass
_p = _os.path.join(_os.path.dirname(_os.path.dirname(__file__)), "main.py")
exec(compile(open(_p).read(), _p, "exec"), globals())
