"""Internal records of a query and its result (the wire schema in ``schemas.py`` maps from these)."""

from __future__ import annotations

from dataclasses import dataclass

from index import Mode
from ranking import Answer


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """A validated question."""

    question: str
    top_k: int = 5
    mode: Mode = "hybrid"
    doc_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Passage:
    """A ranked passage; ``text == document.text[start:end]``; ``pages`` as ``ranking.Citation.pages``."""

    rank: int
    score: float
    text: str
    doc_id: str
    title: str
    source: str
    chunk_id: str
    start: int
    end: int
    pages: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Timings:
    """Per-stage wall time in milliseconds."""

    embed: float = 0.0
    search: float = 0.0
    rescore: float = 0.0
    answer: float = 0.0
    total: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryResult:
    """What the engine returns for one query. ``answer is None`` means the engine abstained."""

    question: str
    answer: Answer | None
    abstention_reason: str | None
    passages: tuple[Passage, ...]
    index_version: str
    timings: Timings
    cached: bool = False
    answer_score: float = 0.0
    ranker: str = "rules"
    """What ranked the passages and chose the answer: "rules", or the trained reader's name@version."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentInfo:
    """A document as listed by ``GET /documents``."""

    doc_id: str
    title: str
    source: str
    chunk_count: int
