__version__ = "2.3"

from ._constants import ANSWER, NAME  # noqa: E402,F401
