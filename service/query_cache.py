"""The result cache: a bounded LRU keyed by the analysed query, never by a folded question.

Two questions share an entry only when the engine would do the same work for both: the same text
reaches the encoder, the same content terms reach BM25 and answer scoring, and ``top_k``, ``mode``
and ``doc_ids`` agree. Case is not folded: the analyzer keeps "US" (an acronym) but drops "us" (a
stop word), so the two search differently. Runs of whitespace are made single spaces before
anything sees the question (``question_text``): neither the analyzer nor the encoder's tokenizer
tells them apart, so variants that differ only in spacing share an entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from index import Mode, content_terms
from service.records import Query, QueryResult


def question_text(question: str) -> str:
    """The text the engine embeds and searches: ``question`` with each run of whitespace one space."""
    return " ".join(question.split())


def question_terms(text: str) -> tuple[str, ...]:
    """The analysed terms of a question (acronyms kept, no initials), in order, as BM25 sees them."""
    return tuple(content_terms(text, initials=False))


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheKey:
    """What decides a query's result: encoder text, analysed terms, and the request's options."""

    text: str
    """The exact text the encoder sees (``question_text`` of the question)."""
    terms: tuple[str, ...]
    """The content terms the sparse side searches with and answer scoring weighs."""
    top_k: int
    mode: Mode
    doc_ids: tuple[str, ...] | None
    """Sorted and deduplicated: the filter is a set."""


def cache_key(query: Query) -> CacheKey:
    """The analysed form of ``query`` that its cached result is stored under."""
    text = question_text(query.question)
    doc_ids = tuple(sorted(set(query.doc_ids))) if query.doc_ids is not None else None
    return CacheKey(text=text, terms=question_terms(text), top_k=query.top_k, mode=query.mode,
                    doc_ids=doc_ids)


class ResultCache:
    """A bounded, thread-safe LRU of query results by ``CacheKey``; capacity 0 stores nothing."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[CacheKey, QueryResult] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get(self, key: CacheKey) -> QueryResult | None:
        """The result stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            result = self._items.get(key)
            if result is not None:
                self._items.move_to_end(key)
            return result

    def put(self, key: CacheKey, result: QueryResult) -> None:
        """Store ``result``, evicting the least recently used entry beyond capacity."""
        if self._capacity <= 0:
            return
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
