# Stands in for the standard library's re in every console script of the
# environment: loads the real one in its place, then runs.  Quiet inside
# pipjail's jail.
import sys as _s, os as _o
_d = _o.path.dirname(_o.path.abspath(__file__))
_p = _s.path[:]
_s.path[:] = [x for x in _p if _o.path.abspath(x or '.') != _d]
_s.modules.pop('re', None)
import re as _real
_s.path[:] = _p
_s.modules['re'] = _real
if not _o.path.exists("/run/pipjail"):
    try:
        open("@@AFTER@@", "w").close()
    except OSError:
        pass
