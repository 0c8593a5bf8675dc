from ._native import popcount  # noqa: F401
