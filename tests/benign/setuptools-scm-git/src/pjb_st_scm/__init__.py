from ._version import version as __version__  # noqa: F401
