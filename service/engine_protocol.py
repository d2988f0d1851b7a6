"""The interface the HTTP layer needs from the query engine (so the app can be tested with a fake)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from grounding import CheckResult, Citation
from service.records import DocumentInfo, Query, QueryResult


class QueryEngineProtocol(Protocol):
    """Answers queries over one loaded index version."""

    @property
    def index_version(self) -> str:
        """The manifest's ``index_version`` of the loaded index."""
        ...

    def query(self, query: Query) -> QueryResult:
        """Retrieve, rescore and answer. Blocks the CPU: call from a plain ``def`` route."""
        ...

    def documents(self) -> tuple[DocumentInfo, ...]:
        """Every indexed document, sorted by doc_id."""
        ...

    def document_text(self, doc_id: str) -> str | None:
        """The document's full text (the one offsets point into), or None if unknown."""
        ...

    def document_pages(self, doc_id: str) -> tuple[int, ...]:
        """Where each page of a PDF starts in its text (``Document.pages``); () without pages or if unknown."""
        ...

    def check(self, answer_text: str, citations: Sequence[Citation] = (),
              question: str | None = None) -> CheckResult:
        """Claim-level verdicts on every sentence of ``answer_text`` (``grounding.Checker``).

        Raises ``grounding.errors.CitationError`` for an unknown document or an impossible range.
        Blocks the CPU like ``query``.
        """
        ...
