"""Retrieval metrics (through ir-measures) and character-span metrics over gold evidence.

Retrieval: ``retrieval_measures`` scores ranked id lists against qrels with ir-measures
(trec_eval semantics: nDCG uses linear gains, i.e. the relevance grade itself).
Spans: a passage is ``(doc_id, start, end)``; it *covers* a gold span when their overlap is at
least half of the gold span's length, so a passage that holds most of the answer sentence counts
and one that merely touches it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import ir_measures
from ir_measures import RR, Measure, R, nDCG

from eval.errors import MetricInputError
from eval.gold import EvidenceSpan, GoldQuestion

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]
PassageLocation = tuple[str, int, int]
"""``(doc_id, start, end)``: a half-open character range of one document."""
ChunkLocation = tuple[str, str, int, int]
"""``(chunk_id, doc_id, start, end)``."""

DEFAULT_MEASURES = (nDCG @ 10, R @ 5, R @ 10, R @ 100, RR @ 10)


def retrieval_measures(
    qrels: Qrels, run: Run, measures: Sequence[Measure] = DEFAULT_MEASURES
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Score ranked lists of ids; returns (aggregate, per-query), keyed by ir-measures' names.

    ``run`` maps a query id to its ids best first. Ranks become strictly decreasing scores so
    trec_eval's tie-breaking (by id) can never reorder them, and a repeated id keeps only its first
    occurrence: duplicates otherwise count a relevant document twice and push nDCG above 1
    (LlamaIndex bug #17070).

    The evaluated queries are those with at least one relevant (relevance > 0) document in
    ``qrels``; others are excluded from both results, whatever the run holds. An evaluated query
    with an empty or missing run scores 0 on every measure. Aggregates are means over the
    evaluated queries (empty dicts when there are none).
    """
    evaluated = {
        query_id: {doc_id: int(relevance) for doc_id, relevance in judgments.items()}
        for query_id, judgments in qrels.items()
        if any(relevance > 0 for relevance in judgments.values())
    }
    scored_run = {query_id: _ranked_scores(run.get(query_id, ())) for query_id in evaluated}
    scored_run = {query_id: scores for query_id, scores in scored_run.items() if scores}
    names = [str(measure) for measure in measures]
    per_query = {query_id: dict.fromkeys(names, 0.0) for query_id in evaluated}
    if scored_run:
        for metric in ir_measures.iter_calc(list(measures), evaluated, scored_run):
            if metric.query_id in per_query:
                per_query[metric.query_id][str(metric.measure)] = float(metric.value)
    if not per_query:
        return {}, {}
    aggregate = {
        name: sum(values[name] for values in per_query.values()) / len(per_query) for name in names
    }
    return aggregate, per_query


def deduplicate_ranking(ids: Iterable[str]) -> list[str]:
    """The ids in order with repeats dropped, keeping each id's first (best) rank."""
    return list(dict.fromkeys(ids))


def covers(passage: PassageLocation, span: EvidenceSpan) -> bool:
    """True when the passage overlaps at least half of the gold span (same document)."""
    doc_id, start, end = passage
    if doc_id != span.doc_id:
        return False
    overlap = max(0, min(end, span.end) - max(start, span.start))
    # Doubling instead of halving keeps the "exactly half" case exact for odd lengths.
    return overlap > 0 and 2 * overlap >= span.end - span.start


def sentence_hits(passage: PassageLocation, span: EvidenceSpan) -> bool:
    """True when a cited sentence and a gold span overlap by at least half of either one."""
    doc_id, start, end = passage
    if doc_id != span.doc_id:
        return False
    overlap = max(0, min(end, span.end) - max(start, span.start))
    return overlap > 0 and (2 * overlap >= end - start or 2 * overlap >= span.end - span.start)


def evidence_hit_at_k(
    passages: Sequence[PassageLocation], spans: Sequence[EvidenceSpan], k: int
) -> float:
    """1.0 when any of the top ``k`` passages covers any gold span, else 0.0.

    Raises ``MetricInputError`` for ``k < 1`` or no spans (skip unanswerable questions).
    """
    _check_span_inputs(spans, k)
    top = passages[:k]
    return 1.0 if any(covers(passage, span) for passage in top for span in spans) else 0.0


def evidence_recall_at_k(
    passages: Sequence[PassageLocation], spans: Sequence[EvidenceSpan], k: int
) -> float:
    """The share of gold spans covered by at least one of the top ``k`` passages.

    Raises ``MetricInputError`` for ``k < 1`` or no spans (skip unanswerable questions).
    """
    _check_span_inputs(spans, k)
    top = passages[:k]
    covered = sum(1 for span in spans if any(covers(passage, span) for passage in top))
    return covered / len(spans)


def span_qrels(
    questions: Iterable[GoldQuestion], chunks: Sequence[ChunkLocation]
) -> dict[str, dict[str, int]]:
    """Passage-level qrels: relevance 1 for every chunk that covers one of a question's spans.

    Unanswerable questions are left out. An answerable question whose spans no chunk covers (for
    example evidence inside text the index excluded) gets an empty dict, which
    ``retrieval_measures`` then leaves out of its aggregates: report such questions separately.
    """
    by_document: dict[str, list[ChunkLocation]] = {}
    for chunk in chunks:
        by_document.setdefault(chunk[1], []).append(chunk)
    qrels: dict[str, dict[str, int]] = {}
    for question in questions:
        if not question.answerable:
            continue
        relevant: dict[str, int] = {}
        for span in question.evidence:
            for chunk_id, doc_id, start, end in by_document.get(span.doc_id, ()):
                if covers((doc_id, start, end), span):
                    relevant[chunk_id] = 1
        qrels[question.query_id] = relevant
    return qrels


def doc_qrels(questions: Iterable[GoldQuestion]) -> dict[str, dict[str, int]]:
    """Document-level qrels: relevance 1 per document holding evidence; unanswerable omitted."""
    return {
        question.query_id: dict.fromkeys(question.doc_ids, 1)
        for question in questions
        if question.answerable
    }


def citation_exact(text: str, doc_text: str, start: int, end: int) -> bool:
    """True when ``doc_text[start:end] == text`` with ``0 <= start <= end <= len(doc_text)``.

    The bounds check matters: Python slicing would accept negative or overlong offsets silently.
    """
    return 0 <= start <= end <= len(doc_text) and doc_text[start:end] == text


def _ranked_scores(ids: Sequence[str]) -> dict[str, float]:
    """Ranked ids to strictly decreasing scores (first id highest), duplicates dropped."""
    ranking = deduplicate_ranking(ids)
    return {doc_id: float(len(ranking) - rank) for rank, doc_id in enumerate(ranking)}


def _check_span_inputs(spans: Sequence[EvidenceSpan], k: int) -> None:
    """Reject inputs for which a span metric is undefined."""
    if k < 1:
        raise MetricInputError(f"k must be at least 1, got {k}")
    if not spans:
        raise MetricInputError(
            "no gold spans: evidence metrics are undefined for unanswerable questions; skip them"
        )
