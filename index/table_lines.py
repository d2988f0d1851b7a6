"""Read ``chunks.jsonl`` and ``sentences.jsonl`` straight into columns (``index.tables``).

``index.manifest`` writes canonical lines (sorted keys, no spaces, non-negative integers), so a
file of only such lines is read with one regular expression over the whole buffer and numpy
conversions: no per-record Python object at any time. A file with any other line (hand-edited,
malformed) goes through the strict per-line readers of ``index.manifest``, which name the bad line;
either way every offset is checked against its document's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import IndexCorruptedError
from index.manifest import FieldReader, chunks_from_jsonl, sentences_from_jsonl
from index.tables import ChunkTable, DocumentTexts, SentenceTable

_STRING = rb'"((?:[^"\\\n]|\\.)*)"'
_COUNT = rb"(0|[1-9][0-9]{0,17})"
_CHUNK_LINE = re.compile(
    rb'^\{"chunk_id":' + _STRING + rb',"doc_id":' + _STRING + rb',"end":' + _COUNT
    + rb',"ordinal":' + _COUNT + rb',"sentence_end":' + _COUNT + rb',"sentence_start":' + _COUNT
    + rb',"start":' + _COUNT + rb',"token_count":' + _COUNT + rb"\}\n", re.MULTILINE)
_SENTENCE_LINE = re.compile(
    rb'^\{"doc_id":' + _STRING + rb',"end":' + _COUNT + rb',"start":' + _COUNT + rb"\}\n", re.MULTILINE)


def _counts(values: Sequence[bytes]) -> npt.NDArray[np.int64]:
    return np.array(values, dtype=np.bytes_).astype(np.int64) if values else np.zeros(0, np.int64)


def _decode(raw: bytes) -> str:
    """A JSON string body (without its quotes) as text."""
    if b"\\" not in raw:
        return raw.decode("utf-8")
    value = json.loads(b'"' + raw + b'"')
    assert isinstance(value, str)
    return value


def _canonical_rows(pattern: re.Pattern[bytes], data: bytes) -> list[tuple[bytes, ...]] | None:
    """Every line's groups when every line is canonical; ``None`` otherwise."""
    try:
        rows = pattern.findall(data)
    except UnicodeDecodeError:  # pragma: no cover - bytes patterns do not decode
        return None
    # Each match is one whole line (anchored at a line start, ending with its newline).
    if len(rows) != data.count(b"\n") or (data and not data.endswith(b"\n")):
        return None
    return rows


def _document_rows(raw_ids: Sequence[bytes], documents: DocumentTexts, path: Path) -> npt.NDArray[np.int64]:
    row_of_raw: dict[bytes, int] = {}
    for raw in dict.fromkeys(raw_ids):
        try:
            doc_id = _decode(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _malformed(path, f"a doc_id is not valid JSON text: {error}") from error
        row = documents.row_of.get(doc_id)
        if row is None:
            raise _malformed(path, f"unknown doc_id {doc_id!r}")
        row_of_raw[raw] = row
    return np.fromiter(map(row_of_raw.__getitem__, raw_ids), dtype=np.int64, count=len(raw_ids))


def _malformed(path: Path, problem: str) -> IndexCorruptedError:
    return FieldReader({}, path.name, path).error(problem)


def _check_spans(doc_rows: npt.NDArray[np.int64], starts: npt.NDArray[np.int64],
                 ends: npt.NDArray[np.int64], documents: DocumentTexts, path: Path) -> None:
    bad = np.flatnonzero((starts > ends) | (ends > documents.lengths()[doc_rows]))
    if len(bad):
        row = int(bad[0])
        raise _malformed(path, f"line {row + 1}: offsets [{starts[row]}, {ends[row]}) lie outside "
                               f"document {documents.doc_ids[int(doc_rows[row])]!r}")


def read_chunk_table(data: bytes, path: Path, documents: DocumentTexts) -> ChunkTable:
    """Parse ``chunks.jsonl`` bytes into a ``ChunkTable``; raises ``IndexCorruptedError`` naming ``path``."""
    rows = _canonical_rows(_CHUNK_LINE, data)
    if rows is None:
        text_of = dict(zip(documents.doc_ids, documents.texts, strict=True))
        return ChunkTable.from_chunks(chunks_from_jsonl(data, path, text_of), documents)
    raw_chunk_ids, raw_doc_ids, *numbers = zip(*rows, strict=True) if rows else ((), (), *[()] * 6)
    ends, ordinals, sentence_ends, sentence_starts, starts, token_counts = (
        _counts(values) for values in numbers)
    doc_rows = _document_rows(raw_doc_ids, documents, path)
    _check_spans(doc_rows, starts, ends, documents, path)
    # A chunk id is its document id, '#' and the zero-padded ordinal (neither escapes in JSON).
    odd = {row: _decode(raw) for row, (raw, raw_doc, raw_ordinal)
           in enumerate(zip(raw_chunk_ids, raw_doc_ids, numbers[1], strict=True))
           if raw != raw_doc + b"#" + raw_ordinal.rjust(4, b"0")}
    return ChunkTable(documents=documents, doc_rows=doc_rows, ordinals=ordinals, starts=starts, ends=ends,
                      token_counts=token_counts, sentence_starts=sentence_starts,
                      sentence_ends=sentence_ends, odd_ids=odd)


def read_sentence_table(data: bytes, path: Path, documents: DocumentTexts) -> SentenceTable:
    """Parse ``sentences.jsonl`` bytes into a ``SentenceTable``; raises ``IndexCorruptedError`` naming ``path``."""
    rows = _canonical_rows(_SENTENCE_LINE, data)
    if rows is None:
        text_of = dict(zip(documents.doc_ids, documents.texts, strict=True))
        return SentenceTable.from_sentences(sentences_from_jsonl(data, path, text_of), documents)
    raw_doc_ids, raw_ends, raw_starts = zip(*rows, strict=True) if rows else ((), (), ())
    doc_rows = _document_rows(raw_doc_ids, documents, path)
    starts, ends = _counts(raw_starts), _counts(raw_ends)
    _check_spans(doc_rows, starts, ends, documents, path)
    return SentenceTable(documents=documents, doc_rows=doc_rows, starts=starts, ends=ends)

