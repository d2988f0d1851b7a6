"""Scoring a run (pure): ``score_gold`` (character-span gold evidence, answers, abstention,
calibration, page furniture) and ``score_beir`` (document-level qrels of a BEIR dataset)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eval.calibration import calibrate
from eval.confidence import aggregate, compare
from eval.gold import GoldQuestion
from eval.metrics import (
    ChunkLocation,
    covers,
    evidence_hit_at_k,
    evidence_recall_at_k,
    retrieval_measures,
    sentence_hits,
    span_qrels,
)
from eval.records import (
    BEIR_COMPARED,
    DEPTH,
    GOLD_COMPARED,
    HIT_CURVE_DEPTH,
    TOP_PASSAGES,
    ConfigResult,
    DocumentNoise,
    EvalResult,
    NamedConfig,
    QueryOutcome,
    QueryRecord,
    RetrievedPassage,
)
from index import Document


def score_gold(outcomes: Sequence[QueryOutcome], questions: Sequence[GoldQuestion],
               configs: Sequence[NamedConfig], *, chunks: Sequence[ChunkLocation],
               documents: Mapping[str, Document], threshold: float, index_version: str,
               model_id: str, depth: int = DEPTH, resamples: int = 2000) -> EvalResult:
    """Score a gold run: span-level qrels from ``chunks``, evidence, answers, calibration, noise."""
    qrels = span_qrels(questions, chunks)
    by_id = {question.query_id: question for question in questions}
    results = []
    for config in configs:
        mine = [outcome for outcome in outcomes if outcome.config == config.name]
        run = {outcome.query_id: [p.chunk_id for p in outcome.passages] for outcome in mine}
        _, retrieval = retrieval_measures(qrels, run)
        records = tuple(
            score_gold_outcome(outcome, by_id[outcome.query_id],
                               retrieval.get(outcome.query_id, {}), documents, threshold)
            for outcome in mine)
        results.append(ConfigResult(config=config, records=records,
                                    aggregates=aggregate(records, resamples=resamples)))
    default = next(result for result in results if result.config.is_default)
    answerable = [r.outcome.answer_score for r in default.records
                  if r.outcome.kind != "unanswerable"]
    unanswerable = [r.outcome.answer_score for r in default.records
                    if r.outcome.kind == "unanswerable"]
    return EvalResult(
        mode="gold", configs=tuple(results),
        comparisons=compare(results, GOLD_COMPARED, resamples=resamples),
        calibration=calibrate(answerable, unanswerable, threshold) if default.records else None,
        furniture=furniture_by_document([r.outcome for r in default.records], documents),
        uncovered=tuple(query_id for query_id, relevant in qrels.items() if not relevant),
        threshold=threshold, index_version=index_version, model_id=model_id, depth=depth,
    )


def score_gold_outcome(outcome: QueryOutcome, question: GoldQuestion,
                       retrieval: Mapping[str, float], documents: Mapping[str, Document],
                       threshold: float) -> QueryRecord:
    """Per-query values of every metric that applies to one gold question."""
    locations = [(p.doc_id, p.start, p.end) for p in outcome.passages]
    measures: dict[str, float] = dict(retrieval)
    answered = outcome.answer is not None
    measures.update(_answer_measures(outcome, documents))
    span_ranks: tuple[int | None, ...] = ()
    answer_hit: bool | None = None
    if question.answerable:
        spans = question.evidence
        for k in range(1, HIT_CURVE_DEPTH + 1):
            measures[f"evidence_hit@{k}"] = evidence_hit_at_k(locations, spans, k)
        for k in (5, 10):
            measures[f"evidence_recall@{k}"] = evidence_recall_at_k(locations, spans, k)
        span_ranks = tuple(
            next((rank for rank, location in enumerate(locations, 1) if covers(location, span)),
                 None)
            for span in spans)
        measures["false_abstention_rate"] = 0.0 if answered else 1.0
        if outcome.answer is not None:
            answer_hit = any(sentence_hits((citation.doc_id, citation.start, citation.end), span)
                             for citation in outcome.answer.citations for span in spans)
            measures["answer_hit_rate"] = 1.0 if answer_hit else 0.0
    else:
        measures["abstention_rate"] = 0.0 if answered else 1.0
    measures["abstention_accuracy"] = 1.0 if answered == question.answerable else 0.0
    return QueryRecord(outcome=outcome, measures=measures, span_ranks=span_ranks,
                       ranking=tuple(passage.chunk_id for passage in outcome.passages),
                       answer_hit=answer_hit,
                       verdict=verdict(outcome, question.answerable, span_ranks, answer_hit,
                                       threshold))


def _answer_measures(outcome: QueryOutcome, documents: Mapping[str, Document]) -> dict[str, float]:
    """Citation and answer exactness, the checker's answer grounding and furniture noise of one
    outcome (any question)."""
    measures: dict[str, float] = {}
    if outcome.citations_checked:
        exact = outcome.citations_checked - len(outcome.citation_problems)
        measures["citation_exactness"] = exact / outcome.citations_checked
    if outcome.grounded is not None:
        measures["answer_exactness"] = 1.0 if outcome.grounded else 0.0
    if outcome.supported_share is not None:
        # The claim-level checker's figure, not string equality (issue 13).
        measures["answer_grounding"] = outcome.supported_share
    top = outcome.passages[:TOP_PASSAGES]
    if top and documents:
        noisy = sum(1 for passage in top if overlaps_furniture(passage, documents))
        measures["furniture_noise@5"] = noisy / len(top)
    return measures




def verdict(outcome: QueryOutcome, answerable: bool, span_ranks: Sequence[int | None],
            answer_hit: bool | None, threshold: float) -> str:
    """A one-line judgement of the default behaviour on one question, and why it went wrong."""
    found = [rank for rank in span_ranks if rank is not None]
    where = (f"first evidence at passage rank {min(found)}" if found
             else f"no evidence in the top {len(outcome.passages)} passages")
    score = f"best answer score {outcome.answer_score:.3f}"
    if not answerable:
        if outcome.answer is None:
            return "ok: abstained"
        return f"wrong: answered an unanswerable question ({score} >= threshold {threshold:.3f})"
    if outcome.answer is None:
        return f"wrong: false abstention ({score} < threshold {threshold:.3f}; {where})"
    if answer_hit:
        return "ok: answer cites gold evidence"
    return f"wrong: answer cites no gold evidence ({where})"


def overlaps_furniture(passage: RetrievedPassage, documents: Mapping[str, Document]) -> bool:
    """True when the passage shares characters with a region ingestion marked as page furniture."""
    document = documents.get(passage.doc_id)
    if document is None:
        return False
    return any(region.is_furniture and region.start < passage.end and passage.start < region.end
               for region in document.excluded)


def furniture_by_document(outcomes: Sequence[QueryOutcome],
                          documents: Mapping[str, Document]) -> tuple[DocumentNoise, ...]:
    """Per document (all of them, sorted by id): top passages retrieved and how many are noisy."""
    counts = {doc_id: [0, 0] for doc_id in documents}
    for outcome in outcomes:
        for passage in outcome.passages[:TOP_PASSAGES]:
            if passage.doc_id in counts:
                counts[passage.doc_id][0] += 1
                counts[passage.doc_id][1] += overlaps_furniture(passage, documents)
    return tuple(
        DocumentNoise(doc_id=doc_id, passages=passages, noisy_passages=noisy,
                      furniture_chars=sum(region.end - region.start
                                          for region in documents[doc_id].excluded
                                          if region.is_furniture))
        for doc_id, (passages, noisy) in sorted(counts.items()))


def doc_ranking(passages: Sequence[RetrievedPassage], original_ids: Mapping[str, str]) -> list[str]:
    """A passage ranking as a document ranking: documents in order of first appearance,
    named by their original ids (``original_ids`` maps index doc ids back)."""
    ranking = [original_ids.get(passage.doc_id, passage.doc_id) for passage in passages]
    return list(dict.fromkeys(ranking))


def score_beir(outcomes: Sequence[QueryOutcome], qrels: Mapping[str, Mapping[str, int]],
               configs: Sequence[NamedConfig], *, original_ids: Mapping[str, str],
               threshold: float, index_version: str, model_id: str, depth: int = DEPTH,
               resamples: int = 2000) -> EvalResult:
    """Score a BEIR run with document-level qrels (graded relevance kept)."""
    results = []
    for config in configs:
        mine = [outcome for outcome in outcomes if outcome.config == config.name]
        run = {outcome.query_id: doc_ranking(outcome.passages, original_ids) for outcome in mine}
        _, retrieval = retrieval_measures(qrels, run)
        records = tuple(
            QueryRecord(outcome=outcome, ranking=tuple(run[outcome.query_id]), span_ranks=(),
                        answer_hit=None, verdict="",
                        measures={**retrieval.get(outcome.query_id, {}),
                                  **_answer_measures(outcome, {})})
            for outcome in mine)
        results.append(ConfigResult(config=config, records=records,
                                    aggregates=aggregate(records, resamples=resamples)))
    return EvalResult(
        mode="beir", configs=tuple(results),
        comparisons=compare(results, BEIR_COMPARED, resamples=resamples), calibration=None,
        furniture=(), uncovered=(), threshold=threshold, index_version=index_version,
        model_id=model_id, depth=depth)
