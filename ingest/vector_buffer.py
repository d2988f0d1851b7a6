"""Room for a corpus's vectors: in memory when small, in an unnamed temporary file when large.

A million chunks have about 5.7 million sentences, whose float32 vectors alone (8.7 GB at 384
dimensions) would not fit beside everything else ingest holds. Above ``FILE_BACKED_BYTES`` the
rows live in a shared mapping of a deleted temporary file, so the kernel writes finished rows out
instead of keeping them in anonymous memory, and ``release`` drops the pages this process has
touched (a shared file mapping keeps its data in the file, so the rows read back unchanged).
"""

from __future__ import annotations

import mmap
import tempfile
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

FILE_BACKED_BYTES = 256 * 1024 * 1024
"""Arrays at least this large are file-backed; smaller ones are plain ``np.zeros``."""
BLOCK_BYTES = 32 * 1024 * 1024
"""Rows are read and released about this many bytes at a time (``blocks``)."""


def zero_vectors(rows: int, dimension: int) -> npt.NDArray[np.float32]:
    """A zeroed ``(rows, dimension)`` float32 array, file-backed when it is large."""
    size = rows * dimension * 4
    if size < FILE_BACKED_BYTES:
        return np.zeros((rows, dimension), dtype=np.float32)
    with tempfile.TemporaryFile(prefix="grounded-vectors-") as handle:
        handle.truncate(size)  # a sparse file reads as zeros
        # The mapping keeps the (already unlinked) file alive after the handle closes.
        return np.memmap(handle, dtype=np.float32, mode="r+", shape=(rows, dimension))


def release(vectors: npt.NDArray[np.float32]) -> None:
    """Drop the resident pages of a file-backed array from this process (a no-op for others)."""
    mapping = getattr(vectors, "_mmap", None)
    if mapping is None and isinstance(vectors.base, np.memmap):
        mapping = getattr(vectors.base, "_mmap", None)
    if isinstance(mapping, mmap.mmap):
        mapping.madvise(mmap.MADV_DONTNEED)


def blocks(vectors: npt.NDArray[np.float32]) -> Iterator[npt.NDArray[np.float32]]:
    """Consecutive row blocks of ``vectors``, about ``BLOCK_BYTES`` each, released after use."""
    step = max(1, BLOCK_BYTES // max(1, vectors.shape[1] * vectors.itemsize)) if vectors.ndim == 2 else 1
    for first in range(0, len(vectors), step):
        yield vectors[first : first + step]
        release(vectors)
