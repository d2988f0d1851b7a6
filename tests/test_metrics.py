"""Retrieval metrics through ir-measures and the hand-written span metrics, hand-computed."""

from __future__ import annotations

import math

import pytest

from eval.errors import MetricInputError
from eval.gold import EvidenceSpan, GoldQuestion
from eval.metrics import (
    citation_exact,
    covers,
    doc_qrels,
    evidence_hit_at_k,
    evidence_recall_at_k,
    retrieval_measures,
    span_qrels,
)

MEASURE_NAMES = {"nDCG@10", "R@5", "R@10", "R@100", "RR@10"}


def _span(doc_id: str, start: int, end: int) -> EvidenceSpan:
    return EvidenceSpan(doc_id=doc_id, start=start, end=end, text="x" * (end - start))


# ---- retrieval_measures -------------------------------------------------------------------------


def test_measure_names_are_ir_measures_names() -> None:
    aggregate, per_query = retrieval_measures({"q1": {"a": 1}}, {"q1": ["a"]})
    assert set(aggregate) == MEASURE_NAMES
    assert set(per_query["q1"]) == MEASURE_NAMES


def test_ndcg_with_relevant_at_ranks_one_and_three() -> None:
    # DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5
    # IDCG = 1/log2(2) + 1/log2(3) = 1 + 0.6309 = 1.6309
    # nDCG@10 = 1.5 / 1.6309 = 0.91972
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    aggregate, _ = retrieval_measures({"q1": {"a": 1, "c": 1}}, {"q1": ["a", "b", "c"]})
    assert aggregate["nDCG@10"] == pytest.approx(expected)
    assert aggregate["nDCG@10"] == pytest.approx(0.91972, abs=1e-5)


def test_ndcg_uses_graded_relevance_as_linear_gain() -> None:
    # Run b (grade 1) then a (grade 2):
    # DCG = 1/log2(2) + 2/log2(3) = 1 + 1.26186 = 2.26186
    # IDCG = 2/log2(2) + 1/log2(3) = 2 + 0.63093 = 2.63093
    # nDCG@10 = 2.26186 / 2.63093 = 0.85972
    aggregate, _ = retrieval_measures({"q1": {"a": 2, "b": 1}}, {"q1": ["b", "a"]})
    assert aggregate["nDCG@10"] == pytest.approx(0.85972, abs=1e-5)


def test_reciprocal_rank_of_first_relevant_at_rank_three() -> None:
    # First relevant id at rank 3: RR = 1/3. A relevant id at rank 11 is beyond RR@10's cutoff.
    run = {"q1": ["x", "y", "a", "b"], "q2": [f"n{rank}" for rank in range(10)] + ["a"]}
    _, per_query = retrieval_measures({"q1": {"a": 1}, "q2": {"a": 1}}, run)
    assert per_query["q1"]["RR@10"] == pytest.approx(1 / 3)
    assert per_query["q2"]["RR@10"] == 0.0
    assert per_query["q2"]["R@100"] == 1.0


def test_recall_at_five_and_ten() -> None:
    # Two relevant ids at ranks 2 and 6: R@5 = 1/2, R@10 = 2/2.
    run = {"q1": ["n1", "a", "n2", "n3", "n4", "b"]}
    _, per_query = retrieval_measures({"q1": {"a": 1, "b": 1}}, run)
    assert per_query["q1"]["R@5"] == pytest.approx(0.5)
    assert per_query["q1"]["R@10"] == pytest.approx(1.0)


def test_duplicate_ids_do_not_inflate_ndcg() -> None:
    # With a repeated relevant id counted twice, ["a", "a"] would score
    # (1 + 1/log2(3)) / (1 + 1/log2(3)) = 1.0 against two relevant ids. Deduplicated it is
    # 1 / (1 + 1/log2(3)) = 1 / 1.63093 = 0.61315.
    qrels = {"q1": {"a": 1, "b": 1}}
    _, duplicated = retrieval_measures(qrels, {"q1": ["a", "a", "a"]})
    assert duplicated["q1"]["nDCG@10"] == pytest.approx(0.61315, abs=1e-5)
    # The run from LlamaIndex #17070's shape: every relevant id repeated.
    _, repeated = retrieval_measures(qrels, {"q1": ["a", "a", "b", "b", "a"]})
    _, deduplicated = retrieval_measures(qrels, {"q1": ["a", "b"]})
    assert repeated["q1"]["nDCG@10"] == pytest.approx(deduplicated["q1"]["nDCG@10"])
    assert repeated["q1"]["nDCG@10"] <= 1.0


def test_duplicates_keep_their_first_rank() -> None:
    # "a" is first at rank 1 and again at rank 3; keeping the last occurrence would put "z" first.
    _, per_query = retrieval_measures({"q1": {"a": 1}}, {"q1": ["a", "z", "a"]})
    assert per_query["q1"]["RR@10"] == pytest.approx(1.0)
    # "a" first appears at rank 2, so RR = 1/2 even though it repeats later.
    _, per_query = retrieval_measures({"q1": {"a": 1}}, {"q1": ["z", "a", "a"]})
    assert per_query["q1"]["RR@10"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("relevant", "ranking"),
    [("a", ["z", "a"]), ("z", ["a", "z"])],
)
def test_ranked_order_is_kept_whichever_way_ids_sort(relevant: str, ranking: list[str]) -> None:
    # Were both ids given the same score, trec_eval would order them by id; the relevant id is
    # second in the given ranking either way, so RR must be 1/2 in both directions.
    _, per_query = retrieval_measures({"q1": {relevant: 1}}, {"q1": ranking})
    assert per_query["q1"]["RR@10"] == pytest.approx(0.5)


def test_empty_or_missing_run_scores_zero_and_counts() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    for run in ({"q1": ["a"], "q2": []}, {"q1": ["a"]}):
        aggregate, per_query = retrieval_measures(qrels, run)
        assert per_query["q2"] == dict.fromkeys(MEASURE_NAMES, 0.0)
        # q1 scores 1 everywhere, q2 0: mean 0.5.
        assert aggregate == pytest.approx(dict.fromkeys(MEASURE_NAMES, 0.5))


def test_queries_without_relevant_documents_are_excluded() -> None:
    qrels = {"q1": {"a": 1, "b": 1}, "q_only_nonrelevant": {"x": 0}, "q_empty": {}}
    run = {
        "q1": ["a", "n", "b"],
        "q_only_nonrelevant": ["x"],
        "q_empty": ["y"],
        "q_not_judged": ["a"],
    }
    aggregate, per_query = retrieval_measures(qrels, run)
    assert set(per_query) == {"q1"}
    assert aggregate == per_query["q1"]


def test_no_evaluated_queries_gives_empty_results() -> None:
    assert retrieval_measures({"q1": {"x": 0}}, {"q1": ["x"]}) == ({}, {})


def test_all_values_stay_within_zero_and_one() -> None:
    qrels = {"q1": {"a": 2, "b": 1, "c": 1}, "q2": {"d": 1}}
    run = {"q1": ["c", "c", "a", "b", "b", "a"], "q2": ["d", "d", "d"]}
    aggregate, per_query = retrieval_measures(qrels, run)
    for values in [aggregate, *per_query.values()]:
        assert all(0.0 <= value <= 1.0 for value in values.values())


# ---- span metrics -------------------------------------------------------------------------------


def test_covers_needs_at_least_half_of_the_gold_span() -> None:
    span = _span("d", 10, 20)  # 10 characters: 5 is exactly half
    assert covers(("d", 15, 40), span)  # overlap [15, 20) = 5
    assert not covers(("d", 16, 40), span)  # overlap [16, 20) = 4
    assert covers(("d", 0, 15), span)  # overlap [10, 15) = 5
    assert covers(("d", 12, 18), span)  # inside: overlap 6
    assert not covers(("e", 10, 20), span)  # same range, other document
    assert not covers(("d", 20, 30), span)  # touching, no overlap
    odd = _span("d", 10, 21)  # 11 characters: 5 is less than half, 6 is more
    assert not covers(("d", 16, 30), odd)
    assert covers(("d", 15, 30), odd)


def test_evidence_hit_at_k_counts_only_the_top_k() -> None:
    spans = [_span("d", 10, 20)]
    passages = [("d", 16, 40), ("d", 15, 40)]  # overlap 4 (miss), then 5 (exactly half: hit)
    assert evidence_hit_at_k(passages, spans, 1) == 0.0
    assert evidence_hit_at_k(passages, spans, 2) == 1.0
    assert evidence_hit_at_k([], spans, 5) == 0.0


def test_evidence_recall_is_the_share_of_spans_covered() -> None:
    spans = [_span("d", 10, 20), _span("e", 100, 110), _span("e", 200, 204)]
    passages = [
        ("d", 0, 15),  # covers span 1 (overlap 5 of 10)
        ("e", 106, 300),  # overlap 4 of 10 with span 2 (no), covers span 3 (4 of 4)
        ("e", 100, 110),  # covers span 2, but only within the top 3
    ]
    assert evidence_recall_at_k(passages, spans, 1) == pytest.approx(1 / 3)
    assert evidence_recall_at_k(passages, spans, 2) == pytest.approx(2 / 3)
    assert evidence_recall_at_k(passages, spans, 3) == pytest.approx(1.0)


def test_span_metrics_reject_undefined_input() -> None:
    with pytest.raises(MetricInputError, match="unanswerable"):
        evidence_hit_at_k([("d", 0, 5)], [], 3)
    with pytest.raises(MetricInputError, match="k must be"):
        evidence_recall_at_k([("d", 0, 5)], [_span("d", 0, 5)], 0)


def test_span_qrels_marks_covering_chunks_only() -> None:
    answerable = GoldQuestion(
        query_id="q1", question="?", kind="direct", evidence=(_span("d", 10, 20),)
    )
    unanswerable = GoldQuestion(query_id="q2", question="?", kind="unanswerable")
    uncovered = GoldQuestion(
        query_id="q3", question="?", kind="direct", evidence=(_span("d", 500, 520),)
    )
    chunks = [
        ("d#0000", "d", 0, 12),  # overlap 2 of 10
        ("d#0001", "d", 8, 30),  # overlap 10 of 10
        ("d#0002", "d", 15, 40),  # overlap 5 of 10
        ("e#0000", "e", 10, 20),  # other document
    ]
    qrels = span_qrels([answerable, unanswerable, uncovered], chunks)
    assert qrels == {"q1": {"d#0001": 1, "d#0002": 1}, "q3": {}}
    # Fed to ir-measures: q3 has nothing relevant and drops out; q1's first relevant is rank 2.
    aggregate, per_query = retrieval_measures(qrels, {"q1": ["d#0000", "d#0002"], "q3": []})
    assert set(per_query) == {"q1"}
    assert aggregate["RR@10"] == pytest.approx(0.5)


def test_doc_qrels_lists_every_evidence_document_once() -> None:
    multi = GoldQuestion(
        query_id="q1",
        question="?",
        kind="multi_doc",
        evidence=(_span("d", 0, 5), _span("e", 0, 5), _span("d", 10, 15)),
    )
    unanswerable = GoldQuestion(query_id="q2", question="?", kind="unanswerable")
    assert doc_qrels([multi, unanswerable]) == {"q1": {"d": 1, "e": 1}}


def test_citation_exact_checks_text_and_bounds() -> None:
    document = "Norway mediated the talks."
    assert citation_exact("Norway", document, 0, 6)
    assert not citation_exact("Norway", document, 1, 7)
    assert not citation_exact("lks.", document, -4, len(document))  # slicing would accept this
    assert not citation_exact("", document, 30, 30)
    assert citation_exact("", document, 3, 3)
