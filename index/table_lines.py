"""Read ``chunks.jsonl`` and ``sentences.jsonl`` straight into columns (``index.tables``).

``index.manifest`` writes canonical lines (sorted keys, no spaces, non-negative integers), so a
file of only such lines is parsed by ``index.line_columns`` with numpy over the whole buffer: no
per-record Python object at any time, and only one Python step per document (its id). A file with
any other line (hand-edited, escaped ids, malformed) goes through the strict per-line readers of
``index.manifest``, which name the bad line; either way every offset is checked against its
document's text.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import IndexCorruptedError
from index.line_columns import Field, parse_lines, read_digits
from index.manifest import FieldReader, chunks_from_jsonl, sentences_from_jsonl
from index.tables import ChunkTable, DocumentTexts, SentenceTable

_CHUNK_SHAPE = (Field(b'{"chunk_id":"', "text"), Field(b'","doc_id":"', "text"), Field(b'","end":', "count"),
                Field(b',"ordinal":', "count"), Field(b',"sentence_end":', "count"),
                Field(b',"sentence_start":', "count"), Field(b',"start":', "count"),
                Field(b',"token_count":', "count"))
_SENTENCE_SHAPE = (Field(b'{"doc_id":"', "text"), Field(b'","end":', "count"), Field(b',"start":', "count"))
_CLOSING = b"}\n"

Int64s = npt.NDArray[np.int64]


def _malformed(path: Path, problem: str) -> IndexCorruptedError:
    return FieldReader({}, path.name, path).error(problem)


def _same_bytes(buffer: npt.NDArray[np.uint8], first: Int64s, second: Int64s, lengths: Int64s) -> npt.NDArray[np.bool_]:
    """Whether ``buffer[first[i]:first[i] + lengths[i]]`` equals the run at ``second[i]``."""
    same = np.ones(len(first), dtype=bool)
    last = len(buffer) - 1
    # One pass per byte position over all rows (ids are short; memory stays at the row count).
    for offset in range(int(lengths.max(initial=0))):
        inside = offset < lengths
        left = buffer[np.minimum(first + offset, last)]
        right = buffer[np.minimum(second + offset, last)]
        same &= (left == right) | ~inside
    return same


def _document_rows(data: bytes, starts: Int64s, ends: Int64s, documents: DocumentTexts,
                   path: Path) -> Int64s:
    """The document row of each line's ``doc_id`` (runs of equal ids are decoded once)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    buffer = np.frombuffer(data, dtype=np.uint8)
    lengths = ends - starts
    new_run = np.ones(len(starts), dtype=bool)
    same_length = lengths[1:] == lengths[:-1]
    candidates = np.flatnonzero(same_length) + 1
    new_run[candidates] = ~_same_bytes(buffer, starts[candidates], starts[candidates - 1], lengths[candidates])
    run_starts = np.flatnonzero(new_run)
    run_rows = np.empty(len(run_starts), dtype=np.int64)
    for number, line in enumerate(run_starts.tolist()):
        try:
            doc_id = data[starts[line] : ends[line]].decode("utf-8")
        except UnicodeDecodeError as error:
            raise _malformed(path, f"line {line + 1}: doc_id is not UTF-8: {error}") from error
        row = documents.row_of.get(doc_id)
        if row is None:
            raise _malformed(path, f"line {line + 1}: unknown doc_id {doc_id!r}")
        run_rows[number] = row
    return np.repeat(run_rows, np.diff(np.append(run_starts, len(starts))))


def _check_spans(doc_rows: Int64s, starts: Int64s, ends: Int64s, documents: DocumentTexts, path: Path) -> None:
    bad = np.flatnonzero((starts > ends) | (ends > documents.lengths()[doc_rows]))
    if len(bad):
        row = int(bad[0])
        raise _malformed(path, f"line {row + 1}: offsets [{starts[row]}, {ends[row]}) lie outside "
                               f"document {documents.doc_ids[int(doc_rows[row])]!r}")


def _odd_chunk_ids(data: bytes, ids: tuple[Int64s, Int64s], doc_ids: tuple[Int64s, Int64s],
                   ordinals: Int64s) -> dict[int, str]:
    """Chunk ids that are not ``f"{doc_id}#{ordinal:04d}"`` (``index.tables.chunk_id_of``), by row."""
    (id_starts, id_ends), (doc_starts, doc_ends) = ids, doc_ids
    buffer = np.frombuffer(data, dtype=np.uint8)
    doc_lengths = doc_ends - doc_starts
    digits = np.maximum(4, np.floor(np.log10(np.maximum(ordinals, 1))).astype(np.int64) + 1)
    regular = (id_ends - id_starts) == doc_lengths + 1 + digits
    rows = np.flatnonzero(regular)
    regular[rows] = _same_bytes(buffer, id_starts[rows], doc_starts[rows], doc_lengths[rows])
    rows = np.flatnonzero(regular)
    regular[rows] = buffer[id_starts[rows] + doc_lengths[rows]] == ord("#")
    rows = np.flatnonzero(regular)
    suffix = read_digits(buffer, id_starts[rows] + doc_lengths[rows] + 1, id_ends[rows], leading_zeros=True)
    if suffix is None:
        suffix = np.full(len(rows), -1, dtype=np.int64)
    regular[rows] = suffix == ordinals[rows]
    return {int(row): data[id_starts[row] : id_ends[row]].decode("utf-8")
            for row in np.flatnonzero(~regular)}


def read_chunk_table(data: bytes, path: Path, documents: DocumentTexts) -> ChunkTable:
    """Parse ``chunks.jsonl`` bytes into a ``ChunkTable``; raises ``IndexCorruptedError`` naming ``path``."""
    columns = parse_lines(data, _CHUNK_SHAPE, _CLOSING)
    if columns is None:
        text_of = dict(zip(documents.doc_ids, documents.texts, strict=True))
        return ChunkTable.from_chunks(chunks_from_jsonl(data, path, text_of), documents)
    (id_starts, id_ends, doc_starts, doc_ends, ends, ordinals, sentence_ends, sentence_starts, starts,
     token_counts) = columns
    doc_rows = _document_rows(data, doc_starts, doc_ends, documents, path)
    _check_spans(doc_rows, starts, ends, documents, path)
    odd = _odd_chunk_ids(data, (id_starts, id_ends), (doc_starts, doc_ends), ordinals)
    return ChunkTable(documents=documents, doc_rows=doc_rows, ordinals=ordinals, starts=starts, ends=ends,
                      token_counts=token_counts, sentence_starts=sentence_starts,
                      sentence_ends=sentence_ends, odd_ids=odd)


def read_sentence_table(data: bytes, path: Path, documents: DocumentTexts) -> SentenceTable:
    """Parse ``sentences.jsonl`` bytes into a ``SentenceTable``; raises ``IndexCorruptedError`` naming ``path``."""
    columns = parse_lines(data, _SENTENCE_SHAPE, _CLOSING)
    if columns is None:
        text_of = dict(zip(documents.doc_ids, documents.texts, strict=True))
        return SentenceTable.from_sentences(sentences_from_jsonl(data, path, text_of), documents)
    doc_starts, doc_ends, ends, starts = columns
    doc_rows = _document_rows(data, doc_starts, doc_ends, documents, path)
    _check_spans(doc_rows, starts, ends, documents, path)
    return SentenceTable(documents=documents, doc_rows=doc_rows, starts=starts, ends=ends)
