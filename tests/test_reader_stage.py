"""The trained reader's stages with a stand-in scorer: pool, reranking, answer, de-crowding, fallback."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from index.load import load_index
from ingest.embedding import HashingEmbedder
from ranking import RankingConfig, ScoredPassage, with_knobs
from ranking.reader import PoolSentence, blend_passages, join_window, read_answer, rerank_passages, sentence_window
from ranking.reader_model import ReaderModelError, reader_folder, verify_folder
from service.engine import EngineConfig, QueryEngine
from service.records import Query

QUESTION = "What did the US offer?"


class KeywordScorer:
    """Scores a window 0.9 when it holds ``word``, else 0.1: a reader whose choice is known."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls: list[int] = []

    @property
    def name(self) -> str:
        return f"keyword:{self.word}@test"

    def score(self, question: str, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        return np.asarray([0.9 if self.word in text.split(" [context: ")[0] else 0.1 for text in texts],
                          dtype=np.float32)


REPLACE = with_knobs(RankingConfig(), {"rerank.use": "replace"})


def test_the_reader_chooses_the_answer_and_says_so(hashing_seed_index: Path) -> None:
    scorer = KeywordScorer("sanctions")
    engine = QueryEngine(load_index(hashing_seed_index), HashingEmbedder(384),
                         EngineConfig(ranking=REPLACE, cache_size=0), reader=scorer)
    result = engine.query(Query(question=QUESTION, top_k=5))
    assert result.ranker == "keyword:sanctions@test"
    assert result.answer is not None
    assert all("sanctions" in citation.text for citation in result.answer.citations)
    # The reader reads a bounded pool: each passage's best sentence plus rerank.sentences more.
    config = RankingConfig()
    assert scorer.calls and max(scorer.calls) <= config.rerank.passages + config.rerank.sentences
    # Every citation is exact and points into a returned passage.
    index = engine.index
    for citation in result.answer.citations:
        assert index.documents[citation.doc_id].text[citation.start:citation.end] == citation.text
        passage = result.passages[citation.passage_rank - 1]
        assert passage.doc_id == citation.doc_id and passage.start <= citation.start < passage.end


def test_the_reader_abstains_below_its_threshold_and_can_be_turned_off(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    for config in (REPLACE, RankingConfig()):
        nothing = QueryEngine(index, HashingEmbedder(384), EngineConfig(ranking=config, cache_size=0),
                              reader=KeywordScorer("zzzz"))
        result = nothing.query(Query(question=QUESTION, top_k=5))
        assert result.answer is None and result.abstention_reason is not None
        assert "reader" in result.abstention_reason
    off = with_knobs(RankingConfig(), {"rerank.enabled": False})
    rules = QueryEngine(index, HashingEmbedder(384), EngineConfig(ranking=off, cache_size=0),
                        reader=KeywordScorer("zzzz"))
    plain = QueryEngine(index, HashingEmbedder(384), EngineConfig(cache_size=0))
    query = Query(question=QUESTION, top_k=5)
    assert rules.query(query).ranker == "rules"
    assert rules.query(query).passages == plain.query(query).passages
    assert rules.query(query).answer == plain.query(query).answer


def test_rerank_orders_the_head_by_best_sentence_and_keeps_the_tail_below() -> None:
    passages = [ScoredPassage(row=row, score=1.0 - row / 10, best_sentence_row=None) for row in range(5)]
    pool = [PoolSentence(row=10 + row, passage_row=row, relevance=0.0) for row in range(3)]
    scores = {10: 0.2, 11: 0.9, 12: 0.5}
    ranked = rerank_passages(passages, scores, pool, limit=3)
    assert [passage.row for passage in ranked] == [1, 2, 0, 3, 4]
    assert [passage.best_sentence_row for passage in ranked[:3]] == [11, 12, 10]
    assert ranked[2].score > ranked[3].score > ranked[4].score


def test_blending_adds_the_readers_scores_to_the_rules(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    query = Query(question=QUESTION, top_k=5)
    plain = QueryEngine(index, HashingEmbedder(384), EngineConfig(cache_size=0)).query(query)
    # With both weights at zero and no reader threshold, blending changes nothing but the ranker's name.
    silent = with_knobs(RankingConfig(), {"rerank.passage_weight": 0.0, "rerank.sentence_weight": 0.0,
                                          "rerank.min_score": 0.0})
    level = QueryEngine(index, HashingEmbedder(384), EngineConfig(ranking=silent, cache_size=0),
                        reader=KeywordScorer("sanctions")).query(query)
    assert level.passages == plain.passages and level.answer == plain.answer
    # A heavy sentence weight makes the reader's choice the answer; the rules still rank the rest.
    heavy = with_knobs(RankingConfig(), {"rerank.sentence_weight": 10.0, "rerank.min_score": 0.0})
    blended = QueryEngine(index, HashingEmbedder(384), EngineConfig(ranking=heavy, cache_size=0),
                          reader=KeywordScorer("sanctions")).query(query)
    assert blended.ranker == "keyword:sanctions@test" and blended.answer is not None
    assert all("sanctions" in citation.text for citation in blended.answer.citations)


def test_blend_adds_each_passages_best_reader_score() -> None:
    passages = [ScoredPassage(row=row, score=1.0 - row / 10, best_sentence_row=None) for row in range(4)]
    pool = [PoolSentence(row=10, passage_row=0, relevance=0.0), PoolSentence(row=11, passage_row=2, relevance=0.0),
            PoolSentence(row=12, passage_row=2, relevance=0.0)]
    ranked = blend_passages(passages, {10: 0.1, 11: 0.3, 12: 0.6}, pool, weight=1.0)
    assert [passage.row for passage in ranked] == [2, 0, 1, 3]
    assert ranked[0].score == pytest.approx(0.8 + 0.6) and ranked[1].score == pytest.approx(1.0 + 0.1)


def test_decrowding_keeps_the_passage_of_the_readers_best_sentence(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    # Three passages of one document; the cap of two would demote the third.
    rows = [int(row) for row in index.rows_for_documents([index.chunks[0].doc_id])[:3]]
    if len(rows) < 3:
        pytest.skip("the first seed document has fewer than three chunks")
    from ranking.retrieval import diversify

    passages = [ScoredPassage(row=row, score=1.0 - i / 10, best_sentence_row=None) for i, row in enumerate(rows)]
    cut = diversify(passages, index.chunks, 3, max_overlap=1.0, max_per_document=2)
    kept = diversify(passages, index.chunks, 3, max_overlap=1.0, max_per_document=2, protected=frozenset({rows[2]}))
    assert [p.row for p in cut][:2] == rows[:2]
    assert rows[2] in [p.row for p in kept[:3]]


def test_windows_read_the_previous_sentence_as_context(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    first, second = index.sentences[0], index.sentences[1]
    assert sentence_window(index, 0) == first.text
    if second.doc_id == first.doc_id:
        assert sentence_window(index, 1) == join_window(second.text, first.text)
    assert join_window("A.", None) == "A."


def test_read_answer_requires_the_numbers_the_question_names(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    passages = [ScoredPassage(row=0, score=1.0, best_sentence_row=None)]
    rows = list(index.sentence_rows(0))
    decision = read_answer(index, "What happened in 1887?", dict.fromkeys(rows, 0.99), passages, RankingConfig())
    assert decision.answer is None and "1887" in (decision.abstention_reason or "")


def test_a_reader_folder_is_checked_against_its_card(tmp_path: Path) -> None:
    assert reader_folder("off") is None and reader_folder("shipped") is not None
    with pytest.raises(ReaderModelError, match=r"card\.json"):
        verify_folder(tmp_path)
