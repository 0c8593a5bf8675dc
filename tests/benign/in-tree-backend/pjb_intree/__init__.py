from ._stamp import BUILT_BY  # noqa: F401
