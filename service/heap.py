"""Hand the C heap's free pages back to the system once an index is loaded (glibc only).

Loading a large index parses hundreds of megabytes of record lines; the transient objects are
freed, but glibc keeps the freed heap pages mapped, and they count in the server's resident memory
until it exits (about 140 MiB of a 1M-chunk server's 2.4 GB at ready, docs/scale.md).
``malloc_trim(0)`` returns them. Elsewhere (musl, macOS) there is nothing to call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache
from typing import cast


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        library = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    function = getattr(library, "malloc_trim", None)
    if function is None:
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return cast(Callable[[int], int], function)


def trim_heap() -> bool:
    """Return the heap's free memory to the system; True when some was returned."""
    function = _malloc_trim()
    return bool(function(0)) if function is not None else False
