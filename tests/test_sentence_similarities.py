"""Sentence cosines are computed only where a stage needs them, once per chunk, with the same rankings."""

from __future__ import annotations

import numpy as np
import pytest

from index.build import ingest
from index.load import load_index
from index.searcher import Index
from ingest.embedding import HashingEmbedder
from ranking import RetrievalConfig, ScoredPassage
from ranking.retrieval import SentenceSimilarities, diversify, first_stage, rescore
from ranking.stages import retrieve
from tests.support.fakes import FAKE_DOCUMENTS, FakeDocument, write_fake_corpus

EXTRA = tuple(
    FakeDocument(doc_id=f"harbour-{number}", title=f"Harbour note {number}", source=f"fixtures/h{number}.txt",
                 text=(f"The harbour society met for the {number}th time on Saturday. The lighthouse lens was "
                       f"cleaned again and the beam reaches {number} miles. Volunteers repainted the tower. "
                       "The restoration fund paid for the keeper's cottage and the museum."))
    for number in range(2, 14)
)
QUESTIONS = ("How far does the lighthouse beam reach?", "Who repainted the tower?",
             "What did the cooperative buy with the farm grant?", "restoration museum cottage")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("similarities")
    corpus = write_fake_corpus(root / "corpus", (*FAKE_DOCUMENTS, *EXTRA))
    ingest([corpus], root / "index", HashingEmbedder())
    return load_index(root / "index")


def eager_retrieve(index: Index, question: str, query_vector: np.ndarray, *, top_k: int,
                   config: RetrievalConfig) -> list[ScoredPassage]:
    """The former retrieval: every candidate's best sentence computed up front."""
    candidates = first_stage(index, question, query_vector, config, None)
    best: dict[int, tuple[int | None, float]] = {}
    for hit in candidates:
        rows = index.sentence_rows(hit.row)
        if len(rows) == 0:
            best[hit.row] = (None, 0.0)
            continue
        similarities = index.sentence_vectors[rows.start : rows.stop] @ query_vector
        position = int(np.argmax(similarities))
        best[hit.row] = (rows.start + position, float(similarities[position]))
    if config.rescore:
        scored = rescore(candidates, best, config.sentence_weight)
    else:
        scored = [ScoredPassage(row=hit.row, score=hit.score, best_sentence_row=best[hit.row][0]) for hit in candidates]
    return diversify(scored, index.chunks, top_k, config.max_overlap, config.max_per_document)


@pytest.mark.parametrize("config", [RetrievalConfig(), RetrievalConfig(rescore=True),
                                    RetrievalConfig(max_per_document=1), RetrievalConfig(mode="sparse")],
                         ids=["first-stage", "rescored", "per-document-cap", "sparse"])
@pytest.mark.parametrize("top_k", [1, 3, 10])
def test_lazy_cosines_give_the_eager_rankings(index: Index, config: RetrievalConfig, top_k: int) -> None:
    for question in QUESTIONS:
        query_vector = HashingEmbedder().encode([question])[0]
        assert retrieve(index, question, query_vector, top_k=top_k, config=config) == eager_retrieve(
            index, question, query_vector, top_k=top_k, config=config), question


def test_without_the_second_stage_only_the_passages_looked_at_are_compared(index: Index) -> None:
    question = QUESTIONS[0]
    query_vector = HashingEmbedder().encode([question])[0]
    config = RetrievalConfig(rescore=False)
    candidates = first_stage(index, question, query_vector, config, None)
    assert len(candidates) > 10
    similarities = SentenceSimilarities(index, query_vector)
    top = retrieve(index, question, query_vector, top_k=3, config=config, similarities=similarities)
    assert len(top) == 3
    assert 3 <= similarities.computed_chunks < len(candidates)
    rescored = SentenceSimilarities(index, query_vector)
    retrieve(index, question, query_vector, top_k=3, config=RetrievalConfig(rescore=True), similarities=rescored)
    assert rescored.computed_chunks == len(candidates)


def test_a_chunks_cosines_are_computed_once_and_reused(index: Index) -> None:
    query_vector = HashingEmbedder().encode([QUESTIONS[1]])[0]
    similarities = SentenceSimilarities(index, query_vector)
    first = similarities.of_chunk(0)
    assert similarities.of_chunk(0) is first
    rows = index.sentence_rows(0)
    assert np.array_equal(first, index.sentence_vectors[rows.start : rows.stop] @ query_vector)
    best_row, best_score = similarities.best(0)
    assert best_row is not None and best_score == float(first.max())
    assert similarities.computed_chunks == 1


def test_the_engine_compares_each_chunk_once_per_query(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.engine import QueryEngine
    from service.records import Query

    products: list[int] = []
    original = SentenceSimilarities.of_chunk

    def counting(self: SentenceSimilarities, row: int) -> np.ndarray:
        before = self.computed_chunks
        result = original(self, row)
        if self.computed_chunks > before:
            products.append(row)
        return result

    monkeypatch.setattr(SentenceSimilarities, "of_chunk", counting)
    engine = QueryEngine(index, HashingEmbedder())
    engine.query(Query(question=QUESTIONS[0], top_k=5), use_cache=False)
    assert len(products) == len(set(products))
    assert len(products) < RetrievalConfig().candidates


def test_the_second_stage_is_a_serving_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.settings import load_settings

    monkeypatch.delenv("GROUNDED_SECOND_STAGE", raising=False)
    assert load_settings().engine_config().ranking.retrieval == RetrievalConfig()
    assert RetrievalConfig().rescore, "the evaluated default serves the second stage"
    monkeypatch.setenv("GROUNDED_SECOND_STAGE", "false")
    monkeypatch.setenv("GROUNDED_CACHE_SIZE", "7")
    config = load_settings().engine_config()
    assert (config.ranking.retrieval, config.cache_size) == (RetrievalConfig(rescore=False), 7)
