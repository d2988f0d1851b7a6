"""``VectorFile``: the rows of a verified ``.npy`` matrix, read from the file when asked for.

A memory map would do the same with less code, but the kernel maps whole page-cache folios (up to
2 MB) around every touched row, so a few hundred queries made a 100k-chunk server's resident
memory grow by a gigabyte of mapped sentence vectors. ``pread`` copies only the rows asked for,
through the page cache, and nothing stays mapped. Reads are thread-safe (no shared file offset).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
_SCAN_ROWS = 1 << 14


class VectorFile:
    """A read-only ``(rows, dimension)`` float32 matrix in a C-order ``.npy`` file."""

    def __init__(self, path: Path, *, offset: int, rows: int, dimension: int) -> None:
        self.path = path
        self.shape = (rows, dimension)
        self.dtype = np.dtype(np.float32)
        self._offset = offset
        self._row_bytes = dimension * 4
        self._descriptor = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        descriptor = getattr(self, "_descriptor", None)
        if descriptor is not None:
            os.close(descriptor)

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, start: int, stop: int) -> Matrix:
        count = max(0, stop - start)
        data = os.pread(self._descriptor, count * self._row_bytes, self._offset + start * self._row_bytes)
        if len(data) != count * self._row_bytes:
            raise OSError(f"{self.path} ended early: rows {start}..{stop} are not all there")
        rows = np.frombuffer(data, dtype=np.float32).reshape(count, self.shape[1])
        return rows

    @overload
    def __getitem__(self, key: int) -> Matrix: ...
    @overload
    def __getitem__(self, key: slice | npt.ArrayLike) -> Matrix: ...
    def __getitem__(self, key: Any) -> Matrix:
        """A row (``int``), a run of rows (``slice`` with step 1) or the rows listed (integer array)."""
        if isinstance(key, int | np.integer):
            row = int(key) + (len(self) if int(key) < 0 else 0)
            if not 0 <= row < len(self):
                raise IndexError(f"row {key} out of range 0..{len(self) - 1}")
            single: Matrix = self._read(row, row + 1)[0]
            return single
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                return self._read(start, stop)
            key = np.arange(start, stop, step)
        rows = np.asarray(key, dtype=np.int64).reshape(-1)
        if len(rows) and (int(rows.min()) < -len(self) or int(rows.max()) >= len(self)):
            raise IndexError(f"a row of {rows.tolist()[:8]}... is out of range 0..{len(self) - 1}")
        rows = np.where(rows < 0, rows + len(self), rows)
        result = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        # One read per run of consecutive rows (a chunk's sentences are one run).
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for run in np.split(np.arange(len(rows)), breaks):
            if len(run):
                result[run] = self._read(int(rows[run[0]]), int(rows[run[-1]]) + 1)
        return result

    def __setitem__(self, key: object, value: object) -> None:
        """Refused, as numpy refuses it on a read-only array: an index version never changes."""
        raise ValueError(f"assignment destination is read-only ({self.path} belongs to a published version)")

    def __matmul__(self, vector: Matrix) -> Matrix:
        """Every row times ``vector``, read in blocks (a full scan: ``grounding``'s search elsewhere)."""
        return np.concatenate([self._read(start, min(start + _SCAN_ROWS, len(self))) @ vector
                               for start in range(0, len(self), _SCAN_ROWS)] or [np.zeros(0, np.float32)])

    def __iter__(self) -> Iterator[Matrix]:
        for start in range(0, len(self), _SCAN_ROWS):
            yield from self._read(start, min(start + _SCAN_ROWS, len(self)))

    def __array__(self, dtype: Any = None, copy: Any = None) -> Matrix:
        matrix = self._read(0, len(self))
        return matrix if dtype is None else matrix.astype(dtype)


def open_vector_file(path: Path) -> VectorFile:
    """Open a ``.npy`` file of a 2-d float32 C-order matrix (header parsed; no data read).

    Raises ``ValueError`` (or numpy's header errors) for another dtype, order or shape, and
    ``OSError`` when the file is shorter than its header says.
    """
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
        offset = handle.tell()
    if dtype != np.dtype("<f4") or fortran_order or len(shape) != 2:
        raise ValueError(f"holds {dtype} {shape}{' (Fortran order)' if fortran_order else ''}, "
                         "expected a float32 C-order matrix")
    rows, dimension = (int(value) for value in shape)
    if path.stat().st_size != offset + rows * dimension * 4:
        raise OSError(f"{path} holds {path.stat().st_size - offset} data bytes, expected {rows * dimension * 4}")
    return VectorFile(path, offset=offset, rows=rows, dimension=dimension)
