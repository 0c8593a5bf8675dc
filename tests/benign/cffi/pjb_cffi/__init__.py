from ._clamp import ffi, lib  # noqa: F401


def clamp(value, low, high):
    return lib.pjb_clamp(value, low, high)
