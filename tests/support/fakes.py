"""A small deterministic ``QueryEngineProtocol`` over hand-made documents, and a live test server.

The fake retrieves by shared content words (so rankings mean something), cites whole sentences and
keeps the system's invariant: ``document.text[start:end] == text`` for every passage and citation.
It abstains when no retrieved sentence shares two content words with the question.
"""

from __future__ import annotations

import itertools
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from grounding.errors import CitationError
from grounding.records import CheckResult, Evidence, Reason, SentenceCheck
from grounding.records import Citation as CheckedCitation
from ranking import Answer, Citation
from service.engine_protocol import QueryEngineProtocol
from service.records import DocumentInfo, Passage, Query, QueryResult, Timings


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeDocument:
    """A document of the fake index."""

    doc_id: str
    title: str
    source: str
    text: str
    pages: tuple[int, ...] = ()


# Invented texts. The emoji and accents sit before cited sentences on purpose: API offsets count
# code points, and a client that indexes UTF-16 code units would highlight the wrong characters.
LIGHTHOUSE = FakeDocument(
    doc_id="harbour-light",
    title="Harbour lighthouse reopens with its old lens",
    source="fixtures/harbour-light.txt",
    text=(
        "The Port Aven lighthouse reopened on Saturday after a two-year restoration. "
        "Volunteers from the harbour society \U0001f30a repainted the tower and rebuilt the "
        "keeper's cottage.\n\n"
        "The original Fresnel lens was cleaned by a glazier from Brest. "
        "Its beam now reaches twenty-two nautical miles on a clear night. "
        "The café at the foot of the tower serves crêpes to visitors.\n\n"
        "The restoration cost four million euros. "
        "Most of the money came from a regional heritage fund and a public appeal. "
        "The mayor said the lighthouse would host a small maritime museum from next spring."
    ),
)
ORCHARD = FakeDocument(
    doc_id="valley-orchard",
    title="Valley orchard cooperative doubles its harvest",
    source="fixtures/valley-orchard.txt",
    text=(
        "A cooperative of apple growers in the Lune valley doubled its harvest this autumn. "
        "Members shared two cider presses and a cold store bought with a farm grant.\n\n"
        "The cooperative sells juice to schools in the district. "
        "Its chairwoman, Maria Okafor, said the cold store let growers keep fruit fresh until "
        "March. Frost in April had damaged blossom on the higher slopes.\n\n"
        "Next year the members plan to plant pear trees on six hectares. "
        "They also want to open a shop beside the main press."
    ),
)
FAKE_DOCUMENTS = (LIGHTHOUSE, ORCHARD)
SENTENCES_PER_CHUNK = 2
MIN_ANSWER_OVERLAP = 2
MAX_ANSWER_SENTENCES = 2
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "at", "by", "did", "do", "does", "for", "from", "how", "in",
        "is", "it", "its", "of", "on", "the", "to", "was", "what", "when", "where", "which",
        "who", "why", "with", "would",
    }
)  # fmt: skip


def content_terms(text: str) -> frozenset[str]:
    """Lower-cased words minus a few function words."""
    return frozenset(re.findall(r"\w+", text.lower())) - _STOPWORDS


@dataclass(frozen=True, slots=True, kw_only=True)
class _Span:
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Chunk:
    chunk_id: str
    span: _Span
    sentences: tuple[_Span, ...]


def _sentences(document: FakeDocument) -> list[_Span]:
    """Sentences as exact offsets: a run from a non-space to terminal punctuation."""
    return [
        _Span(doc_id=document.doc_id, start=match.start(), end=match.end(), text=match.group())
        for match in re.finditer(r"\S[^.!?]*[.!?]", document.text)
    ]


def _chunks(document: FakeDocument) -> list[_Chunk]:
    sentences = _sentences(document)
    chunks = []
    for ordinal, first in enumerate(range(0, len(sentences), SENTENCES_PER_CHUNK)):
        group = tuple(sentences[first : first + SENTENCES_PER_CHUNK])
        start, end = group[0].start, group[-1].end
        span = _Span(doc_id=document.doc_id, start=start, end=end, text=document.text[start:end])
        chunks.append(_Chunk(chunk_id=f"{document.doc_id}#{ordinal:04d}", span=span, sentences=group))
    return chunks


class FakeEngine:
    """Answers by word overlap over ``documents``; records every query it receives."""

    def __init__(
        self,
        documents: tuple[FakeDocument, ...] = FAKE_DOCUMENTS,
        *,
        index_version: str = "fake-index-0001",
        fail_with: Exception | None = None,
    ) -> None:
        self._documents = {document.doc_id: document for document in documents}
        self._chunks = [chunk for document in documents for chunk in _chunks(document)]
        self._index_version = index_version
        self.fail_with = fail_with
        self.queries: list[Query] = []

    @property
    def index_version(self) -> str:
        """The fake's version string."""
        return self._index_version

    def documents(self) -> tuple[DocumentInfo, ...]:
        """Every document, sorted by doc_id."""
        return tuple(
            DocumentInfo(
                doc_id=document.doc_id,
                title=document.title,
                source=document.source,
                chunk_count=sum(1 for chunk in self._chunks if chunk.span.doc_id == document.doc_id),
            )
            for document in sorted(self._documents.values(), key=lambda document: document.doc_id)
        )

    def document_text(self, doc_id: str) -> str | None:
        """The text offsets point into."""
        document = self._documents.get(doc_id)
        return document.text if document is not None else None

    def document_pages(self, doc_id: str) -> tuple[int, ...]:
        """Where each page starts in the text (the fake's documents may have pages)."""
        document = self._documents.get(doc_id)
        return document.pages if document is not None else ()

    def check(self, answer_text: str, citations: Sequence[CheckedCitation] = (),
              question: str | None = None) -> CheckResult:
        """Word-overlap verdicts (not the real checker): the share of a sentence's words in the best
        cited sentence; with no citations, the sentences of the passages ``question`` retrieves."""
        for citation in citations:
            document = self._documents.get(citation.doc_id)
            if document is None:
                raise CitationError(f"citation names unknown document {citation.doc_id!r}")
            if not 0 <= citation.start_char < citation.end_char <= len(document.text):
                raise CitationError(f"citation range {citation.start_char}-{citation.end_char} is not inside its text")
        pool = [
            sentence
            for citation in citations
            for sentence in _sentences(self._documents[citation.doc_id])
            if sentence.start < citation.end_char and citation.start_char < sentence.end
        ]
        if not citations and question:
            retrieved = self.query(Query(question=question)).passages
            pool = [sentence for passage in retrieved for sentence in _sentences(self._documents[passage.doc_id])
                    if passage.start <= sentence.start and sentence.end <= passage.end]
        checks = []
        for match in re.finditer(r"\S[^.!?]*(?:[.!?]|$)", answer_text):
            claim = content_terms(match.group())
            scored = [(len(claim & content_terms(sentence.text)) / max(len(claim), 1), sentence) for sentence in pool]
            score, best = max(scored, key=lambda item: item[0], default=(0.0, None))
            verdict = "no_citation" if best is None else (
                "supported" if score >= 0.75 else "partially_supported" if score >= 0.5 else "unsupported")
            reasons = () if verdict in ("supported", "no_citation") else (
                Reason(code="low_similarity", message=f"the closest cited sentence shares {score:.0%} of the words"),)
            evidence = None if best is None else Evidence(
                doc_id=best.doc_id, start_char=best.start, end_char=best.end, text=best.text)
            checks.append(SentenceCheck(text=match.group(), start=match.start(), end=match.end(), verdict=verdict,
                                        score=round(score, 4), evidence=evidence, reasons=reasons))
        return CheckResult(sentences=tuple(checks))

    def query(self, query: Query) -> QueryResult:
        """Rank chunks by shared words (the mode changes the weighting) and cite sentences."""
        self.queries.append(query)
        if self.fail_with is not None:
            raise self.fail_with
        started = time.perf_counter()
        terms = content_terms(query.question)
        scored = [
            (score, order, chunk)
            for order, chunk in enumerate(self._chunks)
            if query.doc_ids is None or chunk.span.doc_id in query.doc_ids
            if (score := _score(terms, chunk, query.mode)) > 0
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        ranked = scored[: query.top_k]
        searched = time.perf_counter()
        passages = tuple(self._passage(rank, score, chunk) for rank, (score, _, chunk) in enumerate(ranked, start=1))
        answer, reason = _answer(terms, [chunk for _, _, chunk in ranked])
        answered = time.perf_counter()
        return QueryResult(
            question=query.question,
            answer=answer,
            abstention_reason=reason,
            passages=passages,
            index_version=self._index_version,
            timings=Timings(
                embed=0.0,
                search=(searched - started) * 1000,
                rescore=0.0,
                answer=(answered - searched) * 1000,
                total=(answered - started) * 1000,
            ),
        )

    def _passage(self, rank: int, score: float, chunk: _Chunk) -> Passage:
        document = self._documents[chunk.span.doc_id]
        return Passage(
            rank=rank,
            score=score,
            text=chunk.span.text,
            doc_id=document.doc_id,
            title=document.title,
            source=document.source,
            chunk_id=chunk.chunk_id,
            start=chunk.span.start,
            end=chunk.span.end,
        )


class SlowEngine(FakeEngine):
    """A ``FakeEngine`` with a slow stage: each query first sleeps ``delay_s`` (settable any time).

    Counts the queries inside ``query`` now (``running``) and the most at once (``peak``), so tests
    can check that admission control never lets more run than it has slots.
    """

    def __init__(self, *args: Any, delay_s: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delay_s = delay_s
        self.running = 0
        self.peak = 0
        self.finished = 0
        self._lock = threading.Lock()

    def query(self, query: Query) -> QueryResult:
        """Sleep ``delay_s``, then answer like the fake."""
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(self.delay_s)
            return super().query(query)
        finally:
            with self._lock:
                self.running -= 1
                self.finished += 1


def alternating_reloader(*engines: QueryEngineProtocol) -> Callable[[QueryEngineProtocol], QueryEngineProtocol]:
    """A reloader that serves the next of ``engines`` (cyclically) on each reload: a new version."""
    following = itertools.cycle(engines)
    lock = threading.Lock()

    def reload(current: QueryEngineProtocol) -> QueryEngineProtocol:
        with lock:
            candidate = next(following)
            return next(following) if candidate is current else candidate

    return reload


def _score(terms: frozenset[str], chunk: _Chunk, mode: str) -> float:
    """sparse: shared words; dense: shared words over the chunk's length; hybrid: both."""
    chunk_terms = content_terms(chunk.span.text)
    shared = len(terms & chunk_terms)
    dense = shared / math.sqrt(len(chunk_terms) or 1)
    if mode == "sparse":
        return float(shared)
    if mode == "dense":
        return round(dense, 6)
    return round(shared + dense, 6)


def _answer(terms: frozenset[str], ranked: list[_Chunk]) -> tuple[Answer | None, str | None]:
    """The best-overlapping sentences of the retrieved chunks, or a reason to abstain."""
    candidates = [
        (len(terms & content_terms(sentence.text)), rank, sentence)
        for rank, chunk in enumerate(ranked, start=1)
        for sentence in chunk.sentences
    ]
    chosen = sorted(
        (item for item in candidates if item[0] >= MIN_ANSWER_OVERLAP),
        key=lambda item: (-item[0], item[1], item[2].start),
    )[:MAX_ANSWER_SENTENCES]
    if not chosen:
        return None, (f"no retrieved sentence shares {MIN_ANSWER_OVERLAP} content words with the question")
    citations = tuple(
        Citation(
            doc_id=sentence.doc_id,
            start=sentence.start,
            end=sentence.end,
            text=sentence.text,
            passage_rank=rank,
        )
        for _, rank, sentence in chosen
    )
    return Answer(text=" ".join(c.text for c in citations), citations=citations), None


@contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 and a free port in a thread; yields the base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # ws="none": no websocket library import (and its deprecation warnings) for a plain HTTP app.
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            listener.close()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        listener.close()


def write_fake_corpus(folder: Path, documents: tuple[FakeDocument, ...]) -> Path:
    """Write each fake document as ``<doc_id>.txt`` (title, blank line, text) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for document in documents:
        (folder / f"{document.doc_id}.txt").write_text(f"{document.title}\n\n{document.text}\n", encoding="utf-8")
    return folder
