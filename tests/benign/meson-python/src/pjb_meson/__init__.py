from ._mesonmod import gcd  # noqa: F401
