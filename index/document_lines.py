"""``documents.jsonl`` read a document at a time: what a loaded index holds instead of every text.

A million-chunk index has over a hundred thousand documents whose texts, as Python strings, would
stay resident (about 1.4 KB per chunk, docs/scale.md) although a query reads the texts of a few
dozen chunks. The loader parses and checks every line once, as before, but keeps only each
document's line position, id, title, source and text length; ``DocumentLines[doc_id]`` reads the
line again with ``pread`` and parses it (the last ``CACHED_DOCUMENTS`` documents read stay parsed).
The version folder never changes and the file was verified when loaded, so a line that no longer
parses or names another document is reported as damage (``IndexCorruptedError``).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import IndexCorruptedError
from index.manifest import documents_from_jsonl
from ingest import Document

CACHED_DOCUMENTS = 512
"""Parsed documents kept per loaded index (the texts one query's candidates and answer read)."""
_PARSE_LINES = 4096
"""Lines parsed at a time while loading, so the whole file is never a list of lines at once."""


class DocumentLines(Mapping[str, Document]):
    """The documents of a loaded version by doc_id (file order), each parsed from its line on access."""

    def __init__(self, path: Path, *, line_offsets: npt.NDArray[np.int64], doc_ids: Sequence[str],
                 titles: Sequence[str], sources: Sequence[str], text_lengths: npt.NDArray[np.int64]) -> None:
        if not len(line_offsets) == len(doc_ids) + 1 == len(titles) + 1 == len(sources) + 1 \
                == len(text_lengths) + 1:
            raise ValueError("one line offset per document and one past the last are required")
        self.path = path
        self.doc_ids: tuple[str, ...] = tuple(doc_ids)
        self.titles: tuple[str, ...] = tuple(titles)
        self.sources: tuple[str, ...] = tuple(sources)
        self.text_lengths = text_lengths
        self._line_offsets = line_offsets
        self._row_of = {doc_id: row for row, doc_id in enumerate(self.doc_ids)}
        self._descriptor = os.open(path, os.O_RDONLY)
        self.document = lru_cache(maxsize=CACHED_DOCUMENTS)(self._read_document)

    def __del__(self) -> None:
        descriptor = getattr(self, "_descriptor", None)
        if descriptor is not None:
            os.close(descriptor)

    def _read_document(self, row: int) -> Document:
        """Document ``row`` (file order), parsed from its line; checked against what the load saw."""
        start, stop = int(self._line_offsets[row]), int(self._line_offsets[row + 1])
        line = os.pread(self._descriptor, stop - start, start)
        documents = documents_from_jsonl(line, self.path, first_line=row + 1)
        if len(documents) != 1 or documents[0].doc_id != self.doc_ids[row] \
                or len(documents[0].text) != int(self.text_lengths[row]):
            raise IndexCorruptedError(
                f"{self.path}: line {row + 1} is not the document {self.doc_ids[row]!r} the index "
                "loaded (the file changed after it was verified); reload or re-run `grounded ingest`")
        return documents[0]

    def text(self, row: int) -> str:
        """The text of document ``row`` (file order)."""
        return self.document(row).text

    def __getitem__(self, doc_id: str) -> Document:
        return self.document(self._row_of[doc_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.doc_ids)

    def __len__(self) -> int:
        return len(self.doc_ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row_of


class DocumentLineTexts(Sequence[str]):
    """The texts of ``DocumentLines`` by row, read on access (what ``index.tables`` slices)."""

    __slots__ = ("_lines",)

    def __init__(self, lines: DocumentLines) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, row: int) -> str:  # type: ignore[override]
        count = len(self._lines.doc_ids)
        if not -count <= row < count:
            raise IndexError(f"document row {row} out of range")
        return self._lines.text(row if row >= 0 else row + count)


def read_document_lines(path: Path) -> DocumentLines:
    """Parse and check every line of ``documents.jsonl`` and keep what ``DocumentLines`` needs.

    Raises ``IndexCorruptedError`` naming ``path`` and the line, as ``documents_from_jsonl`` does.
    """
    offsets = [0]
    doc_ids: list[str] = []
    titles: list[str] = []
    sources: list[str] = []
    lengths: list[int] = []
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        try:
            while offsets[-1] < size:
                first = offsets[-1]
                # The end of the next block of lines (or of the file: a missing last newline is
                # reported by the parser).
                end, count = first, 0
                while count < _PARSE_LINES and end < size:
                    newline = data.find(b"\n", end)
                    end = size if newline < 0 else newline + 1
                    offsets.append(end)
                    count += 1
                for document in documents_from_jsonl(bytes(data[first:end]), path, first_line=len(doc_ids) + 1):
                    doc_ids.append(document.doc_id)
                    titles.append(document.title)
                    sources.append(document.source)
                    lengths.append(len(document.text))
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
    return DocumentLines(path, line_offsets=np.asarray(offsets, dtype=np.int64), doc_ids=doc_ids,
                         titles=titles, sources=sources, text_lengths=np.asarray(lengths, dtype=np.int64))
