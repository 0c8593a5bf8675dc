from ._generated import SQUARES  # noqa: F401
