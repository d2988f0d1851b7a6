"""BM25 search: rare words, stopword-only queries, filters, ties, and pickle-free files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.sparse import (
    BM25_PARAMS,
    SPARSE_FILES,
    build_sparse,
    document_count,
    load_sparse,
    save_sparse,
    score_rows,
    search_sparse,
)

TEXTS = [
    "The harbour froze in January and the ferries stopped.",
    "A rare xylophone was sold at auction for gold coins.",
    "Rain fell on the valley and the river rose quickly.",
    "The senate voted on the harbour budget in March.",
    "Engineers said the bridge over the river was safe.",
    "Runners were running along the river every morning.",
]


def test_the_document_with_a_rare_word_comes_first() -> None:
    retriever = build_sparse(TEXTS)
    hits = search_sparse(retriever, "Who bought the xylophone?", 5)
    assert [hit.row for hit in hits] == [1]
    assert hits[0].score > 0


def test_words_are_stemmed_and_scores_rank_term_matches() -> None:
    retriever = build_sparse(TEXTS)
    hits = search_sparse(retriever, "run by the river", 10)
    assert hits[0].row == 5  # "running" and "Runners" stem to "run"; also has "river"
    assert {hit.row for hit in hits} == {2, 4, 5}
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


@pytest.mark.parametrize("query", ["", "the of and", "What is it?", "zzzqqq unknownword", "!!!"])
def test_queries_without_known_terms_return_nothing(query: str) -> None:
    assert search_sparse(build_sparse(TEXTS), query, 5) == []


def test_k_is_clamped_and_zero_scores_are_dropped() -> None:
    retriever = build_sparse(TEXTS)
    assert len(search_sparse(retriever, "harbour", 10**9)) == 2
    assert search_sparse(retriever, "harbour", 0) == []


def test_row_filter_restricts_results() -> None:
    retriever = build_sparse(TEXTS)
    assert {hit.row for hit in search_sparse(retriever, "river", 10, rows=[2, 4])} == {2, 4}
    assert {hit.row for hit in search_sparse(retriever, "river harbour", 10, rows=[0, 3])} == {0, 3}
    assert search_sparse(retriever, "xylophone", 10, rows=[0, 2]) == []
    assert search_sparse(retriever, "river", 10, rows=np.zeros(0, dtype=np.int64)) == []
    assert [hit.row for hit in search_sparse(retriever, "xylophone", 10, rows=[1, 99, -3])] == [1]


def test_filtered_scores_equal_unfiltered_scores() -> None:
    retriever = build_sparse(TEXTS)
    everything = {hit.row: hit.score for hit in search_sparse(retriever, "river harbour", 10)}
    for hit in search_sparse(retriever, "river harbour", 10, rows=[0, 2, 4]):
        assert hit.score == pytest.approx(everything[hit.row])


def test_ties_are_broken_by_row_ascending() -> None:
    retriever = build_sparse(["gold coins", "silver", "gold coins", "gold coins", "copper"])
    assert [hit.row for hit in search_sparse(retriever, "gold", 10)] == [0, 2, 3]
    assert [hit.row for hit in search_sparse(retriever, "gold", 2)] == [0, 2]


def test_a_corpus_of_only_stopwords_builds_and_matches_nothing() -> None:
    retriever = build_sparse(["the of and", "", "is it"])
    assert document_count(retriever) == 3
    assert search_sparse(retriever, "the", 3) == []
    assert search_sparse(retriever, "anything", 3) == []
    with pytest.raises(ValueError):
        build_sparse([])


def test_save_and_load_round_trip_without_pickle(tmp_path: Path) -> None:
    retriever = build_sparse(TEXTS)
    save_sparse(retriever, tmp_path / "bm25")
    assert sorted(path.name for path in (tmp_path / "bm25").iterdir()) == sorted(SPARSE_FILES)
    for path in (tmp_path / "bm25").iterdir():
        if path.suffix == ".npy":
            assert np.load(path, allow_pickle=False).dtype != object
        else:
            json.loads(path.read_text())
    params = json.loads((tmp_path / "bm25" / "params.index.json").read_text())
    assert (params["method"], params["k1"], params["b"]) == (
        BM25_PARAMS["method"], BM25_PARAMS["k1"], BM25_PARAMS["b"])
    loaded = load_sparse(tmp_path / "bm25")
    # Mapped, not read into memory; the mapping outlives the folder (a replaced version is removed
    # while its loaded index may still answer).
    assert isinstance(loaded.scores["data"], np.memmap)
    shutil.rmtree(tmp_path / "bm25")
    for query in ("river", "harbour budget", "xylophone gold"):
        assert search_sparse(loaded, query, 5) == search_sparse(retriever, query, 5)


def test_score_rows_gives_the_scores_the_search_ranks_by() -> None:
    retriever = build_sparse(TEXTS)
    hits = search_sparse(retriever, "run by the river harbour", len(TEXTS))
    rows = [hit.row for hit in hits]
    scores = score_rows(retriever, "run by the river harbour", rows)
    assert scores.tolist() == pytest.approx([hit.score for hit in hits])
    unmatched = [row for row in range(len(TEXTS)) if row not in rows]
    assert not score_rows(retriever, "run by the river harbour", unmatched).any()
    assert score_rows(retriever, "the of", [0, 1]).tolist() == [0.0, 0.0]


def test_scores_equal_bm25s_own_scoring_on_the_seed_corpus(seed_corpus: Path, tmp_path: Path) -> None:
    from index.analysis import content_terms

    texts = [paragraph for path in sorted(seed_corpus.glob("*.txt"))
             for paragraph in path.read_text(encoding="utf-8").split("\n\n") if paragraph.strip()]
    save_sparse(build_sparse(texts), tmp_path / "bm25")
    retriever = load_sparse(tmp_path / "bm25")
    rows = np.arange(0, len(texts), 3)
    for question in ("What did the council decide about the harbour?", "rain river flood water",
                     "the the the", "Who won the election in March and April?"):
        token_ids = [retriever.vocab_dict[term] for term in content_terms(question, initials=False)
                     if term in retriever.vocab_dict]
        expected = np.asarray(retriever.get_scores_from_ids(token_ids), dtype=np.float32)
        assert np.array_equal(score_rows(retriever, question, rows), expected[rows])
        hits = search_sparse(retriever, question, 10)
        assert [hit.score for hit in hits] == sorted(expected[expected > 0].tolist(), reverse=True)[:10]
