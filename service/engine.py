"""The query engine: embed -> retrieve -> rescore -> answer over one loaded index version.

Ready when constructed. Thread-safe: the index and model are read-only after loading, and the
result cache takes a lock.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from grounding import Checker, CheckResult, Citation, ClaimVerifier, load_verifier
from index import (
    Embedder,
    Index,
    QueryRuntime,
    check_model,
    content_terms,
    current_version,
    load_index,
    load_query_encoder,
)
from ranking import (
    CandidateSentence,
    PairScorer,
    QueryContext,
    RankingConfig,
    RankingPipeline,
    RetrievalConfig,
    ScoredPassage,
    SentenceSimilarities,
    answer_candidates,
    default_stages,
    load_reader,
)
from service.heap import trim_heap
from service.query_cache import ResultCache, cache_key
from service.records import DocumentInfo, Passage, Query, QueryResult, Timings


class IndexLoader(Protocol):
    """Loads the current version of an index folder (``index.load.load_index`` or a remote-shard loader)."""

    def __call__(self, root: Path, *, expected_model_id: str | None = None,
                 expected_dimension: int | None = None) -> Index:
        """The verified current version of ``root``; raises the errors of ``load_index``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    """Every ranking knob, the trained reader and claim verifier to load (None: the rules alone) and
    the cache size."""

    ranking: RankingConfig = field(default_factory=RankingConfig)
    reader: Path | None = None
    verifier: Path | None = None
    cache_size: int = 256


class QueryEngine:
    """Answers queries over one loaded index with one embedder (the one the manifest names)."""

    def __init__(self, index: Index, embedder: Embedder, config: EngineConfig | None = None,
                 pipeline: RankingPipeline | None = None, reader: PairScorer | None = None, *,
                 verifier: ClaimVerifier | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config or EngineConfig()
        self.reader = reader
        self.verifier = verifier
        self.pipeline = pipeline or RankingPipeline(default_stages(reader))
        self._cache = ResultCache(self.config.cache_size)
        sentences = index.sentences
        # Content terms of a sentence, computed on first use (bounded, so memory stays flat).
        self._sentence_terms = lru_cache(maxsize=65536)(
            lambda row: frozenset(content_terms(sentences[row].text)))
        # One checker per loaded version: a reload builds a new engine, and with it a new checker.
        self.checker = Checker(index, embedder.encode, verifier=verifier)
        chunk_counts = index.chunk_counts()
        self._document_infos = tuple(
            DocumentInfo(doc_id=doc_id, title=title, source=source, chunk_count=chunk_counts[doc_id])
            for doc_id, title, source in index.document_summaries()
        )

    @property
    def index_version(self) -> str:
        return self.index.index_version

    def documents(self) -> tuple[DocumentInfo, ...]:
        return self._document_infos

    def document_text(self, doc_id: str) -> str | None:
        document = self.index.documents.get(doc_id)
        return None if document is None else document.text

    def document_pages(self, doc_id: str) -> tuple[int, ...]:
        document = self.index.documents.get(doc_id)
        return () if document is None else document.pages

    def check(self, answer_text: str, citations: Sequence[Citation] = (),
              question: str | None = None) -> CheckResult:
        """Verdicts on every sentence of ``answer_text`` against this index version (evidence with its pages)."""
        result = self.checker.check(answer_text, citations, question)
        return CheckResult(sentences=tuple(
            replace(check, evidence=replace(check.evidence, pages=self.pages_of(
                check.evidence.doc_id, check.evidence.start_char, check.evidence.end_char)))
            if check.evidence is not None else check
            for check in result.sentences))

    def pages_of(self, doc_id: str, start: int, end: int) -> tuple[int, ...]:
        """The pages of a PDF the range ``[start, end)`` of ``doc_id`` lies on; () without pages."""
        document = self.index.documents.get(doc_id)
        return () if document is None else document.pages_of(start, end)

    def query(self, query: Query, *, retrieval: RetrievalConfig | None = None,
              use_cache: bool = True) -> QueryResult:
        """Answer ``query``; ``retrieval`` overrides the configured retrieval (the eval ablation)."""
        started = time.perf_counter()
        key = cache_key(query)
        if use_cache and retrieval is None:
            cached = self._cache.get(key)
            if cached is not None:
                total = (time.perf_counter() - started) * 1000
                return QueryResult(question=query.question, answer=cached.answer,
                                   abstention_reason=cached.abstention_reason, passages=cached.passages,
                                   index_version=cached.index_version,
                                   timings=Timings(total=total), cached=True,
                                   answer_score=cached.answer_score, ranker=cached.ranker)
        ranking = self.config.ranking if retrieval is None else replace(self.config.ranking, retrieval=retrieval)
        if ranking.retrieval.mode != query.mode:
            ranking = replace(ranking, retrieval=replace(ranking.retrieval, mode=query.mode))

        # Everything below sees only the key's text and terms, so equal keys mean equal results.
        query_vector = self.embedder.encode([key.text])[0]
        embedded = time.perf_counter()
        rows = (self.index.rows_for_documents(query.doc_ids) if query.doc_ids is not None else None)
        context = self._context(key.text, key.terms, query_vector, query.top_k, rows)
        run = self.pipeline.run(context, ranking)
        passages_started = time.perf_counter()
        passages = tuple(self._passage(rank, scored) for rank, scored in enumerate(run.state.passages, 1))
        spent = run.milliseconds
        rescore_ms = spent["rescore"] + (time.perf_counter() - passages_started) * 1000
        decision = run.state.decision
        if decision is None:
            raise RuntimeError("the ranking pipeline ended without an answer decision: "
                               "its last stage must be ranking.stages.AnswerSelection (or one like it)")
        answer = decision.answer
        if answer is not None:
            answer = replace(answer, citations=tuple(
                replace(citation, pages=self.pages_of(citation.doc_id, citation.start, citation.end))
                for citation in answer.citations))
        answered = time.perf_counter()
        result = QueryResult(
            question=query.question, answer=answer, abstention_reason=decision.abstention_reason,
            passages=passages, index_version=self.index.index_version, answer_score=decision.best_score,
            ranker=dict(run.state.notes).get("reranker", "rules"),
            timings=Timings(embed=_ms(started, embedded), search=round(spent["search"], 3),
                            rescore=round(rescore_ms, 3), answer=round(spent["answer"], 3),
                            total=_ms(started, answered)),
        )
        if use_cache and retrieval is None:
            self._cache.put(key, result)
        return result

    def _passage(self, rank: int, scored: ScoredPassage) -> Passage:
        chunk = self.index.chunks[scored.row]
        document = self.index.documents[chunk.doc_id]
        return Passage(rank=rank, score=round(scored.score, 6), text=chunk.text, doc_id=chunk.doc_id,
                       title=document.title, source=document.source, chunk_id=chunk.chunk_id,
                       start=chunk.start, end=chunk.end, pages=document.pages_of(chunk.start, chunk.end))

    def context(self, query: Query) -> QueryContext:
        """The ranking context of ``query`` (its key text and terms, vector, filter): what stages read."""
        key = cache_key(query)
        rows = self.index.rows_for_documents(query.doc_ids) if query.doc_ids is not None else None
        return self._context(key.text, key.terms, self.embedder.encode([key.text])[0], query.top_k, rows)

    def _context(self, question: str, terms: Sequence[str], query_vector: npt.NDArray[np.float32], top_k: int,
                 rows: npt.NDArray[np.int64] | None) -> QueryContext:
        return QueryContext(index=self.index, question=question, terms=tuple(terms), query_vector=query_vector,
                            top_k=top_k, rows=rows, similarities=SentenceSimilarities(self.index, query_vector),
                            sentence_terms=self._sentence_terms)

    def answer_candidates(self, passages: list[ScoredPassage],
                          similarities_of: SentenceSimilarities, question: str = "") -> list[CandidateSentence]:
        """The sentences an answer is chosen from (``ranking.stages.answer_candidates``)."""
        context = QueryContext(index=self.index, question=question, terms=(), query_vector=similarities_of.query_vector,
                               top_k=len(passages), rows=None, similarities=similarities_of,
                               sentence_terms=self._sentence_terms)
        return answer_candidates(context, passages, self.config.ranking)


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 3)


def load_engine(index_dir: Path, *, config: EngineConfig | None = None, threads: int | None = 1,
                model_path: str | None = None, query_runtime: QueryRuntime = "onnx",
                encoder: Embedder | None = None, index_loader: IndexLoader = load_index) -> QueryEngine:
    """Load the index and the encoder its manifest names (``index.query_encoder.load_query_encoder``).

    ``model_path`` must be the index's model; an ``encoder`` already loaded (the one that just built
    the index) is checked against the manifest and used as is. ``index_loader`` loads the index
    (``index.ray_shards`` passes one whose shards are searched on Ray Serve). Raises the index
    errors of ``load_index`` and ``ModelMismatchError``.
    """
    index = index_loader(index_dir)
    source = f"index {index_dir}"
    if encoder is None:
        encoder = load_query_encoder(index.manifest, model_path=model_path, threads=threads,
                                     runtime=query_runtime, source=source)
    else:
        check_model(encoder, index.manifest, source=source)
    reader = load_reader(config.reader) if config is not None and config.reader is not None else None
    verifier = load_verifier(config.verifier) if config is not None and config.verifier is not None else None
    engine = QueryEngine(index, encoder, config, reader=reader, verifier=verifier)
    freeze_long_lived_objects()
    trim_heap()
    return engine


def reload_engine(engine: QueryEngine, *, index_loader: IndexLoader = load_index) -> QueryEngine:
    """An engine over the newest published version of the same folder, sharing the loaded model.

    Returns ``engine`` itself when the published version has not changed. Raises the index errors
    of ``load_index`` (corrupted, other model) and leaves ``engine`` untouched. Not warmed up: the
    service's ``EngineHolder`` warms every engine once before serving it.
    """
    if current_version(engine.index.root) == engine.index_version:
        return engine
    # Hand everything frozen so far back to the collector: parts of an engine replaced earlier
    # that only a reference cycle keeps alive are garbage now, and frozen they would never go.
    gc.unfreeze()
    try:
        index = index_loader(engine.index.root, expected_model_id=engine.embedder.model_id,
                             expected_dimension=engine.embedder.dimension)
        fresh = QueryEngine(index, engine.embedder, engine.config, reader=engine.reader, verifier=engine.verifier)
    finally:
        # Loaded or not, what is served now leaves the collector's scans again.
        freeze_long_lived_objects()
    return fresh


def freeze_long_lived_objects() -> None:
    """Collect once, then move every object alive now out of the garbage collector's scans.

    Called once an engine is loaded: the index's records (tens of thousands of tuples, strings
    and dataclasses) and the libraries' objects live until the next reload, yet every full
    collection walked all of them with the GIL held: ~130 ms of CPU for the ~234,000 objects of a
    server on a 1,877-chunk index, a stall far longer than the admission queue holds
    (docs/reliability.md, finding 7).
    Frozen objects are still freed by reference counting when their last reference goes; only
    ones kept alive by a reference cycle wait for the next ``reload_engine``, which unfreezes
    first. The engine a reload replaces is frozen again with the new one (requests may still be
    using it); it holds no reference cycle, so it is freed as soon as they finish (tested).
    """
    gc.collect()
    gc.freeze()
