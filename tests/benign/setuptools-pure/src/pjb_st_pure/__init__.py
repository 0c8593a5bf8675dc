from .util import greet

__all__ = ["greet"]
