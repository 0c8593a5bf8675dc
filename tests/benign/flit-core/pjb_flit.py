"""A single-module package built by flit_core."""

__version__ = "0.3.1"


def double(x):
    return 2 * x
