"""De-crowding demotes overlapping passages instead of dropping them."""

from __future__ import annotations

from ingest.records import Chunk
from ranking import ScoredPassage
from ranking.retrieval import diversify


def chunk(doc_id: str, start: int, end: int) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}#{start}", doc_id=doc_id, ordinal=0, start=start, end=end, text="x" * (end - start),
                 token_count=1, sentence_start=0, sentence_end=1)


CHUNKS = [chunk("a", 0, 100), chunk("a", 20, 120), chunk("b", 0, 100), chunk("a", 90, 200)]


def passage(row: int, score: float, sentence: int | None = None) -> ScoredPassage:
    return ScoredPassage(row=row, score=score, best_sentence_row=sentence if sentence is not None else 100 + row)


def test_mostly_overlapping_chunk_is_demoted_below_the_others() -> None:
    ranked = [passage(0, 0.9), passage(1, 0.8), passage(2, 0.7), passage(3, 0.6)]
    assert [p.row for p in diversify(ranked, CHUNKS, top_k=4, max_overlap=0.5)] == [0, 2, 3, 1]
    assert [p.row for p in diversify(ranked, CHUNKS, top_k=2, max_overlap=0.5)] == [0, 2]


def test_same_best_sentence_is_demoted() -> None:
    ranked = [passage(0, 0.9, sentence=7), passage(3, 0.8, sentence=7), passage(2, 0.7)]
    assert [p.row for p in diversify(ranked, CHUNKS, top_k=3, max_overlap=0.5)] == [0, 2, 3]


def test_nothing_is_lost_when_everything_crowds() -> None:
    ranked = [passage(0, 0.9, sentence=1), passage(1, 0.8, sentence=1)]
    assert [p.row for p in diversify(ranked, CHUNKS, top_k=5, max_overlap=0.5)] == [0, 1]


def test_a_document_beyond_its_share_is_demoted_below_other_documents() -> None:
    chunks = [chunk("a", 0, 100), chunk("a", 200, 300), chunk("a", 400, 500), chunk("b", 0, 100)]
    ranked = [passage(0, 0.9), passage(1, 0.8), passage(2, 0.7), passage(3, 0.1)]
    capped = diversify(ranked, chunks, top_k=4, max_overlap=0.5, max_per_document=2)
    assert [p.row for p in capped] == [0, 1, 3, 2]
    assert [p.row for p in diversify(ranked, chunks, top_k=4, max_overlap=0.5)] == [0, 1, 2, 3]
