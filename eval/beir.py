"""Reader for BEIR-format datasets: corpus.jsonl, queries.jsonl and qrels/<split>.tsv."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.errors import BeirFormatError
from index import json_objects

QRELS_HEADER = ("query-id", "corpus-id", "score")


@dataclass(frozen=True, slots=True, kw_only=True)
class BeirDoc:
    """One corpus document (``title`` is empty when the dataset has none)."""

    doc_id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BeirDataset:
    """One split of a BEIR dataset: every corpus document, the split's queries and their qrels."""

    corpus: tuple[BeirDoc, ...]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def read_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read a BEIR folder; ``queries`` keeps only the queries judged in ``qrels/<split>.tsv``.

    queries.jsonl usually holds every split's queries, hence the filter (BEIR's own loader does
    the same). Qrels may name documents absent from the corpus; they simply cannot be retrieved.
    Raises ``BeirFormatError`` naming the missing file or the file and line that is malformed,
    including a qrels line for a query that queries.jsonl lacks.
    """
    corpus_path = folder / "corpus.jsonl"
    queries_path = folder / "queries.jsonl"
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for path in (corpus_path, queries_path, qrels_path):
        if not path.is_file():
            raise BeirFormatError(
                f"BEIR file missing: {path} (expected corpus.jsonl, "
                f"queries.jsonl and qrels/{split}.tsv in {folder})"
            )
    corpus = _read_corpus(corpus_path)
    all_queries = _read_queries(queries_path)
    qrels = _read_qrels(qrels_path, all_queries)
    queries = {query_id: all_queries[query_id] for query_id in qrels}
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels)


def _read_corpus(path: Path) -> tuple[BeirDoc, ...]:
    """corpus.jsonl: objects with string ``_id`` and ``text`` and an optional ``title``."""
    documents: list[BeirDoc] = []
    seen: set[str] = set()
    for where, record in _json_lines(path):
        doc_id = _string_field(record, "_id", where)
        text = _string_field(record, "text", where)
        title = record.get("title", "")
        if not isinstance(title, str):
            raise BeirFormatError(f"{where}: title must be a string")
        if doc_id in seen:
            raise BeirFormatError(f"{where}: document _id {doc_id!r} appears twice")
        seen.add(doc_id)
        documents.append(BeirDoc(doc_id=doc_id, title=title, text=text))
    return tuple(documents)


def _read_queries(path: Path) -> dict[str, str]:
    """queries.jsonl: objects with string ``_id`` and ``text``."""
    queries: dict[str, str] = {}
    for where, record in _json_lines(path):
        query_id = _string_field(record, "_id", where)
        if query_id in queries:
            raise BeirFormatError(f"{where}: query _id {query_id!r} appears twice")
        queries[query_id] = _string_field(record, "text", where)
    return queries


def _read_qrels(path: Path, queries: dict[str, str]) -> dict[str, dict[str, int]]:
    """qrels TSV with the header ``query-id corpus-id score`` and integer scores."""
    qrels: dict[str, dict[str, int]] = {}
    lines = _text_lines(path)
    header = next(lines, None)
    if header is None or tuple(header[1].split("\t")) != QRELS_HEADER:
        raise BeirFormatError(f"{path}:1: header must be {chr(9).join(QRELS_HEADER)!r}")
    for line_number, line in lines:
        if not line.strip():
            continue
        where = f"{path}:{line_number}"
        fields = line.split("\t")
        if len(fields) != 3:
            raise BeirFormatError(f"{where}: expected 3 tab-separated fields, got {len(fields)}")
        query_id, doc_id, score = fields
        try:
            relevance = int(score)
        except ValueError as error:
            raise BeirFormatError(f"{where}: score {score!r} is not an integer") from error
        if query_id not in queries:
            raise BeirFormatError(f"{where}: query-id {query_id!r} is not in queries.jsonl")
        qrels.setdefault(query_id, {})[doc_id] = relevance
    return qrels


def _json_lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each non-blank line parsed as a JSON object, with its ``path:line`` for messages."""
    lines = (line for _, line in _text_lines(path))
    for _, where, record in json_objects(lines, source=str(path), error=BeirFormatError):
        yield where, record


def _text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines without their line ending; undecodable bytes name the file."""
    try:
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                yield line_number, line.rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise BeirFormatError(f"{path}: not UTF-8 ({error.reason})") from error


def _string_field(record: dict[str, Any], key: str, where: str) -> str:
    """A required string field (ids are strings in BEIR even when they look like numbers)."""
    value = record.get(key)
    if not isinstance(value, str):
        raise BeirFormatError(f"{where}: {key!r} must be a string, got {type(value).__name__}")
    return value
