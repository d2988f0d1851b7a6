"""Chunk and sentence records held as columns: one integer array per field, a record built on access.

A loaded index of a million chunks would otherwise hold millions of small Python objects (about
13 KB per chunk with their texts, docs/scale.md); here a chunk costs its seven integers (plus a
heading-path id in HTML indexes, each distinct path held once) and a sentence its three, and
``text`` is sliced from the document text only when a record is read.
Both tables are immutable ``Sequence``\\ s, so code that indexed or iterated the old tuples reads
them unchanged (``tuple(table)`` equals the tuple the records came from).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import overload

import numpy as np
import numpy.typing as npt

from ingest import Chunk, Sentence

Column = npt.NDArray[np.integer]


def narrow_column(values: npt.ArrayLike) -> Column:
    """A read-only int32 column, or int64 when a value does not fit in 32 bits."""
    column = np.asarray(values, dtype=np.int64)
    if len(column) == 0 or (int(column.min()) >= 0 and int(column.max()) < 2**31):
        column = column.astype(np.int32)
    column.flags.writeable = False
    return column


def chunk_id_of(doc_id: str, ordinal: int) -> str:
    """The id chunking gives chunk ``ordinal`` of ``doc_id`` (``ingest.chunking``)."""
    return f"{doc_id}#{ordinal:04d}"


class DocumentTexts:
    """Document ids and texts by document row: what the tables slice record texts from."""

    __slots__ = ("_lengths", "doc_ids", "row_of", "texts")

    def __init__(self, doc_ids: Sequence[str], texts: Sequence[str], *,
                 lengths: npt.NDArray[np.int64] | None = None) -> None:
        """``texts`` is a tuple, or a sequence that reads a text on access (``index.document_lines``)
        together with every text's ``lengths``."""
        if len(doc_ids) != len(texts) or (lengths is not None and len(lengths) != len(texts)):
            raise ValueError(f"{len(doc_ids)} document ids but {len(texts)} texts")
        self.doc_ids: tuple[str, ...] = tuple(doc_ids)
        self.texts: Sequence[str] = tuple(texts) if lengths is None else texts
        self._lengths = lengths
        self.row_of: Mapping[str, int] = MappingProxyType(
            {doc_id: row for row, doc_id in enumerate(self.doc_ids)})

    def lengths(self) -> Column:
        """Each document's text length in characters."""
        if self._lengths is not None:
            return self._lengths
        return np.fromiter((len(text) for text in self.texts), dtype=np.int64, count=len(self.texts))


class ChunkTable(Sequence[Chunk]):
    """Chunks as columns (document row, ordinal, offsets, token count, sentence range)."""

    __slots__ = (
        "_context_ids",
        "_contexts",
        "_documents",
        "_odd_ids",
        "doc_rows",
        "ends",
        "ordinals",
        "sentence_ends",
        "sentence_starts",
        "starts",
        "token_counts",
    )

    def __init__(self, *, documents: DocumentTexts, doc_rows: npt.ArrayLike, ordinals: npt.ArrayLike,
                 starts: npt.ArrayLike, ends: npt.ArrayLike, token_counts: npt.ArrayLike,
                 sentence_starts: npt.ArrayLike, sentence_ends: npt.ArrayLike,
                 odd_ids: Mapping[int, str] | None = None, contexts: Sequence[str] | None = None) -> None:
        columns = tuple(np.asarray(column) for column in (
            doc_rows, ordinals, starts, ends, token_counts, sentence_starts, sentence_ends))
        if len({len(column) for column in columns}) > 1:
            raise ValueError(f"chunk columns differ in length: {[len(column) for column in columns]}")
        self._documents = documents
        (self.doc_rows, self.ordinals, self.starts, self.ends, self.token_counts,
         self.sentence_starts, self.sentence_ends) = (narrow_column(column) for column in columns)
        # Chunk ids that do not follow ``chunk_id_of`` (none from ``grounded ingest``), by row.
        self._odd_ids: Mapping[int, str] = MappingProxyType(dict(odd_ids or {}))
        # Heading paths (``Chunk.context``, HTML only): each distinct path once, one id per row.
        if contexts is not None and len(contexts) != len(self.doc_rows):
            raise ValueError(f"{len(contexts)} chunk contexts for {len(self.doc_rows)} chunks")
        distinct = dict.fromkeys(["", *(contexts or ())])
        self._contexts: tuple[str, ...] = tuple(distinct)
        self._context_ids: Column | None = None
        if len(self._contexts) > 1:
            id_of = {context: number for number, context in enumerate(self._contexts)}
            self._context_ids = narrow_column([id_of[context] for context in contexts or ()])

    @classmethod
    def from_chunks(cls, chunks: Sequence[Chunk], documents: DocumentTexts) -> ChunkTable:
        """The table of ``chunks`` (each ``doc_id`` must be one of ``documents``)."""
        odd = {row: chunk.chunk_id for row, chunk in enumerate(chunks)
               if chunk.chunk_id != chunk_id_of(chunk.doc_id, chunk.ordinal)}
        return cls(documents=documents,
                   doc_rows=[documents.row_of[chunk.doc_id] for chunk in chunks],
                   ordinals=[chunk.ordinal for chunk in chunks], starts=[chunk.start for chunk in chunks],
                   ends=[chunk.end for chunk in chunks], token_counts=[chunk.token_count for chunk in chunks],
                   sentence_starts=[chunk.sentence_start for chunk in chunks],
                   sentence_ends=[chunk.sentence_end for chunk in chunks], odd_ids=odd,
                   contexts=[chunk.context for chunk in chunks])

    def __len__(self) -> int:
        return len(self.doc_rows)

    @overload
    def __getitem__(self, row: int) -> Chunk: ...
    @overload
    def __getitem__(self, row: slice) -> tuple[Chunk, ...]: ...
    def __getitem__(self, row: int | slice) -> Chunk | tuple[Chunk, ...]:
        if isinstance(row, slice):
            return tuple(self._chunk(number) for number in range(*row.indices(len(self))))
        number = int(row)
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(f"chunk row {row} out of range 0..{len(self) - 1}")
        return self._chunk(number)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence (a tuple included) of equal records in the same order."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(mine == theirs for mine, theirs in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[Chunk]:
        return (self._chunk(number) for number in range(len(self)))

    def _chunk(self, row: int) -> Chunk:
        document = int(self.doc_rows[row])
        doc_id = self._documents.doc_ids[document]
        ordinal, start, end = int(self.ordinals[row]), int(self.starts[row]), int(self.ends[row])
        return Chunk(chunk_id=self._odd_ids.get(row) or chunk_id_of(doc_id, ordinal), doc_id=doc_id,
                     ordinal=ordinal, start=start, end=end,
                     text=self._documents.texts[document][start:end],
                     token_count=int(self.token_counts[row]),
                     sentence_start=int(self.sentence_starts[row]), sentence_end=int(self.sentence_ends[row]),
                     context=self.context(row))

    @property
    def document_texts(self) -> DocumentTexts:
        """The documents whose rows ``doc_rows`` holds."""
        return self._documents

    def doc_id(self, row: int) -> str:
        """The document id of chunk ``row`` without building the chunk."""
        return self._documents.doc_ids[int(self.doc_rows[row])]

    def context(self, row: int) -> str:
        """The heading path of chunk ``row`` (empty for plain text) without building the chunk."""
        return "" if self._context_ids is None else self._contexts[int(self._context_ids[row])]


class SentenceTable(Sequence[Sentence]):
    """Sentences as columns (document row, start, end)."""

    __slots__ = ("_documents", "doc_rows", "ends", "starts")

    def __init__(self, *, documents: DocumentTexts, doc_rows: npt.ArrayLike, starts: npt.ArrayLike,
                 ends: npt.ArrayLike) -> None:
        doc_rows, starts, ends = (np.asarray(column) for column in (doc_rows, starts, ends))
        if not len(doc_rows) == len(starts) == len(ends):
            raise ValueError(f"sentence columns differ in length: {len(doc_rows)}, {len(starts)}, {len(ends)}")
        self._documents = documents
        self.doc_rows, self.starts, self.ends = (narrow_column(column) for column in (doc_rows, starts, ends))

    @classmethod
    def from_sentences(cls, sentences: Sequence[Sentence], documents: DocumentTexts) -> SentenceTable:
        """The table of ``sentences`` (each ``doc_id`` must be one of ``documents``)."""
        return cls(documents=documents,
                   doc_rows=[documents.row_of[sentence.doc_id] for sentence in sentences],
                   starts=[sentence.start for sentence in sentences],
                   ends=[sentence.end for sentence in sentences])

    def __len__(self) -> int:
        return len(self.doc_rows)

    @overload
    def __getitem__(self, row: int) -> Sentence: ...
    @overload
    def __getitem__(self, row: slice) -> tuple[Sentence, ...]: ...
    def __getitem__(self, row: int | slice) -> Sentence | tuple[Sentence, ...]:
        if isinstance(row, slice):
            return tuple(self._sentence(number) for number in range(*row.indices(len(self))))
        number = int(row)
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(f"sentence row {row} out of range 0..{len(self) - 1}")
        return self._sentence(number)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence (a tuple included) of equal records in the same order."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(mine == theirs for mine, theirs in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[Sentence]:
        return (self._sentence(number) for number in range(len(self)))

    def _sentence(self, row: int) -> Sentence:
        document = int(self.doc_rows[row])
        start, end = int(self.starts[row]), int(self.ends[row])
        return Sentence(doc_id=self._documents.doc_ids[document], start=start, end=end,
                        text=self._documents.texts[document][start:end])

    @property
    def document_texts(self) -> DocumentTexts:
        """The documents whose rows ``doc_rows`` holds."""
        return self._documents

    def doc_id(self, row: int) -> str:
        """The document id of sentence ``row`` without building the sentence."""
        return self._documents.doc_ids[int(self.doc_rows[row])]
