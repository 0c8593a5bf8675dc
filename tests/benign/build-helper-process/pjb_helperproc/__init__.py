from ._generated import ANSWER  # noqa: F401
