"""Parse canonical JSON lines of one fixed shape into columns with numpy, never one object per line.

``index.manifest`` writes record lines with sorted keys, no spaces and non-negative integers, so a
line of ``chunks.jsonl`` is a fixed sequence of literals (``{"doc_id":"``, ``","end":``, ...)
and fields. ``parse_lines`` checks every line has exactly that shape (byte-exact literals, digits
only, no leading zero, at most 18 digits, strings without escapes) and returns each field as an
array: integers as int64, strings as the ``(start, end)`` byte offsets of their text. It returns
``None`` for anything else (escaped strings, spaces, other fields), so the caller can fall back to
a strict per-line reader that names the bad line. Work proceeds in blocks of lines, so temporary
arrays stay at a few times the block size whatever the file size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Offsets = npt.NDArray[np.int64]

_QUOTE, _COMMA, _BRACE, _NEWLINE, _ZERO = ord('"'), ord(","), ord("}"), ord("\n"), ord("0")
_MAX_DIGITS = 18
_BLOCK_BYTES = 8 << 20


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the line shape: ``literal`` precedes it; ``kind`` is ``"text"`` or ``"count"``."""

    literal: bytes
    kind: str


def _matches(buffer: npt.NDArray[np.uint8], positions: Offsets, literal: bytes) -> bool:
    if len(positions) == 0:
        return True
    if int(positions.max()) + len(literal) > len(buffer):
        return False
    # One pass per literal byte over all lines: memory stays at one array of the line count.
    return all(bool(np.all(buffer[positions + offset] == byte)) for offset, byte in enumerate(literal))


def _next(marks: Offsets, positions: Offsets) -> Offsets | None:
    """For each position, the first mark at or after it (``None`` when one has none)."""
    found = np.searchsorted(marks, positions, side="left")
    if len(found) and int(found.max()) >= len(marks):
        return None
    return marks[found]


def read_digits(buffer: npt.NDArray[np.uint8], starts: Offsets, ends: Offsets, *,
                leading_zeros: bool = False) -> npt.NDArray[np.int64] | None:
    """The integers written in ``buffer[starts[i]:ends[i]]``; ``None`` unless each is 1 to 18
    digits (without a leading zero unless ``leading_zeros``)."""
    lengths = ends - starts
    if len(lengths) == 0:
        return np.zeros(0, dtype=np.int64)
    if int(lengths.min()) < 1 or int(lengths.max()) > _MAX_DIGITS:
        return None
    if not leading_zeros and bool(np.any((lengths > 1) & (buffer[starts] == _ZERO))):
        return None
    values = np.zeros(len(starts), dtype=np.int64)
    last = len(buffer) - 1
    # One pass per digit position: value = value * 10 + digit while inside the number.
    for offset in range(int(lengths.max())):
        inside = offset < lengths
        digits = buffer[np.minimum(starts + offset, last)].astype(np.int64) - _ZERO
        if bool(np.any(inside & ((digits < 0) | (digits > 9)))):
            return None
        values = np.where(inside, values * 10 + digits, values)
    return values


def _parse_block(buffer: npt.NDArray[np.uint8], base: int, fields: Sequence[Field],
                 closing: bytes) -> list[npt.NDArray[np.int64]] | None:
    newlines = np.flatnonzero(buffer == _NEWLINE).astype(np.int64)
    starts = np.concatenate(([0], newlines[:-1] + 1)).astype(np.int64)
    quotes = np.flatnonzero(buffer == _QUOTE).astype(np.int64)
    stops = np.flatnonzero((buffer == _COMMA) | (buffer == _BRACE)).astype(np.int64)
    positions = starts
    columns: list[npt.NDArray[np.int64]] = []
    for field in fields:
        if not _matches(buffer, positions, field.literal):
            return None
        positions = positions + len(field.literal)
        if field.kind == "text":
            ends = _next(quotes, positions)
            if ends is None:
                return None
            columns += [positions + base, ends + base]
        else:
            ends = _next(stops, positions)
            if ends is None:
                return None
            values = read_digits(buffer, positions, ends)
            if values is None:
                return None
            columns.append(values)
        positions = ends
    # The line must end right after the closing literal: no text field ran past its line.
    if not _matches(buffer, positions, closing) or not np.array_equal(positions + len(closing) - 1, newlines):
        return None
    return columns


def parse_lines(data: bytes, fields: Sequence[Field], closing: bytes) -> list[npt.NDArray[np.int64]] | None:
    """Columns of every line of ``data`` (text fields give two: start and end byte offsets).

    ``closing`` is the literal after the last field, ending with the newline. ``None`` when any
    line is not of this exact canonical shape, or the data holds a backslash (an escaped string).
    """
    if data and not data.endswith(b"\n"):
        return None
    if b"\\" in data:
        return None
    width = sum(2 if field.kind == "text" else 1 for field in fields)
    parts: list[list[npt.NDArray[np.int64]]] = []
    buffer = np.frombuffer(data, dtype=np.uint8)
    start = 0
    while start < len(data):
        stop = data.find(b"\n", min(start + _BLOCK_BYTES, len(data)) - 1) + 1
        block = _parse_block(buffer[start:stop], start, fields, closing)
        if block is None:
            return None
        parts.append(block)
        start = stop
    if not parts:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    return [np.concatenate([part[column] for part in parts]) for column in range(width)]
