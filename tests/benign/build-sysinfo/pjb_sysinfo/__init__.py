from ._buildinfo import HAVE_SSE2, KERNEL, MACHINE, ZLIB_VERSION  # noqa: F401
from ._zlib import crc32, version  # noqa: F401
