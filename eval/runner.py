"""The benchmark run: questions through the engine under each ablation configuration, then scored.

``run_queries`` is the only function that touches the engine; everything after it is pure and
works on typed records, so the scoring is tested on hand-made outcomes. Two scorings exist:
``score_gold`` (character-span gold evidence, answers, abstention, calibration, page furniture) and
``score_beir`` (document-level qrels of a BEIR dataset).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from eval.bootstrap import bootstrap_ci, paired_bootstrap
from eval.calibration import Calibration, calibrate
from eval.gold import EvidenceSpan, GoldQuestion
from eval.metrics import (
    ChunkLocation,
    citation_exact,
    covers,
    evidence_hit_at_k,
    evidence_recall_at_k,
    retrieval_measures,
    span_qrels,
)
from index.records import Document
from index.retrieval import RetrievalConfig
from service import QueryEngine
from service.records import Answer, Query, QueryResult

DEPTH = 100
"""Passages retrieved per question (for R@100)."""
HIT_CURVE_DEPTH = 20
"""Evidence hit@k is computed for k = 1..HIT_CURVE_DEPTH (the plot)."""
TOP_PASSAGES = 5
"""Passages a user reads: shown in the report and checked for page furniture."""
ALPHA_SWEEP = (0.3, 0.7)
"""Extra convex-fusion weights of dense scores tried beside the default alpha."""

RETRIEVAL_METRICS = ("nDCG@10", "R@5", "R@10", "R@100", "RR@10")
EVIDENCE_METRICS = ("evidence_hit@1", "evidence_hit@3", "evidence_hit@5", "evidence_hit@10",
                    "evidence_recall@5", "evidence_recall@10")
ANSWER_METRICS = ("citation_exactness", "answer_grounding", "answer_hit_rate", "abstention_rate",
                  "false_abstention_rate", "abstention_accuracy", "furniture_noise@5")
GOLD_SUMMARY = (*RETRIEVAL_METRICS, *EVIDENCE_METRICS, *ANSWER_METRICS)
BEIR_SUMMARY = (*RETRIEVAL_METRICS, "citation_exactness", "answer_grounding")
LOWER_IS_BETTER = frozenset({"false_abstention_rate", "furniture_noise@5"})
HIT_CURVE = tuple(f"evidence_hit@{k}" for k in range(1, HIT_CURVE_DEPTH + 1))
GOLD_COMPARED = ("nDCG@10", "evidence_hit@5")
BEIR_COMPARED = ("nDCG@10", "R@10")

EvalMode = Literal["gold", "beir"]


class Question(Protocol):
    """What the runner needs of a question (``GoldQuestion`` and ``PlainQuestion`` both fit)."""

    @property
    def query_id(self) -> str:
        """Stable id of the question."""
        ...

    @property
    def question(self) -> str:
        """The question text sent to the engine."""
        ...

    @property
    def kind(self) -> str:
        """Category for the report (``direct``, ``unanswerable``, ``beir``, ...)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PlainQuestion:
    """A question without character-span evidence (a BEIR query)."""

    query_id: str
    question: str
    kind: str = "beir"


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedConfig:
    """One ablation row: a retrieval configuration, its name, whether the engine serves it."""

    name: str
    retrieval: RetrievalConfig
    is_default: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrievedPassage:
    """Where one retrieved passage is, its score, and its first characters for the report."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    score: float
    excerpt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryOutcome:
    """What the engine returned for one question under one configuration, citations checked."""

    config: str
    query_id: str
    question: str
    kind: str
    passages: tuple[RetrievedPassage, ...]
    answer: Answer | None
    abstention_reason: str | None
    answer_score: float
    citations_checked: int
    citation_problems: tuple[str, ...]
    """One line per passage or citation whose text is not the document's text at its offsets."""
    grounded: bool | None
    """Answer fully made of verbatim sentences inside the passages they cite; None if abstained."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryRecord:
    """A scored outcome: per-query metric values, evidence found, and a verdict for the report."""

    outcome: QueryOutcome
    ranking: tuple[str, ...]
    """The ids as scored: chunk ids (gold) or original document ids (BEIR), best first."""
    measures: Mapping[str, float]
    """Only the metrics that apply to this question (no evidence metrics when unanswerable)."""
    span_ranks: tuple[int | None, ...]
    """Per gold span, the rank (from 1) of the first passage covering it; None when none does."""
    answer_hit: bool | None
    """An answer sentence overlaps a gold span; None when abstained or unanswerable."""
    verdict: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Aggregate:
    """Mean of a metric over the questions it applies to, with a 95 % bootstrap interval."""

    mean: float
    low: float
    high: float
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigResult:
    """Every question's record and every metric's aggregate for one configuration."""

    config: NamedConfig
    aggregates: Mapping[str, Aggregate]
    records: tuple[QueryRecord, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """Paired bootstrap of ``config`` minus the default on one metric over the same questions."""

    config: str
    metric: str
    count: int
    mean_difference: float
    low: float
    high: float
    p_value: float
    p_holm: float
    """p-value adjusted (Holm) over every comparison of the run: many tries make some look lucky."""

    @property
    def significant(self) -> bool:
        """The adjusted p-value is below 0.05."""
        return self.p_holm < 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentNoise:
    """How often the default configuration's top passages of one document overlap page furniture."""

    doc_id: str
    furniture_chars: int
    """Characters of the document that ingestion marked as furniture (not indexed)."""
    passages: int
    """Top-``TOP_PASSAGES`` passages of this document over all questions."""
    noisy_passages: int

    @property
    def share(self) -> float:
        """Noisy passages over passages (0 when the document was never retrieved)."""
        return self.noisy_passages / self.passages if self.passages else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalResult:
    """The whole benchmark: per configuration results, comparisons, calibration, furniture."""

    mode: EvalMode
    configs: tuple[ConfigResult, ...]
    comparisons: tuple[Comparison, ...]
    calibration: Calibration | None
    furniture: tuple[DocumentNoise, ...]
    uncovered: tuple[str, ...]
    """Answerable questions whose evidence no indexed chunk covers (left out of ir-measures)."""
    threshold: float
    """The engine's current abstention threshold."""
    index_version: str
    model_id: str
    depth: int

    @property
    def default(self) -> ConfigResult:
        """The configuration the engine serves."""
        return next(result for result in self.configs if result.config.is_default)

    @property
    def summary_metrics(self) -> tuple[str, ...]:
        """The metrics of the terminal summary, in order (``--fail-under`` names)."""
        return GOLD_SUMMARY if self.mode == "gold" else BEIR_SUMMARY

    @property
    def citation_exactness(self) -> float:
        """Exact passages and citations over all checked, across every configuration."""
        outcomes = [record.outcome for result in self.configs for record in result.records]
        checked = sum(outcome.citations_checked for outcome in outcomes)
        failed = sum(len(outcome.citation_problems) for outcome in outcomes)
        return (checked - failed) / checked if checked else 1.0


# ------------------------------------------------------------------------------ configurations

def describe(config: RetrievalConfig) -> str:
    """A short name: ``sparse``, ``dense``, ``hybrid-rrf``, ``hybrid-convex-0.5``, ``hybrid-maxz-0.5``,
    ``+rescore``."""
    name: str = config.mode
    if config.mode == "hybrid":
        name += {"rrf": "-rrf", "convex": f"-convex-{config.alpha:g}",
                 "max_z": f"-maxz-{config.peak_weight:g}"}[config.fusion]
    return name + ("+rescore" if config.rescore else "")


def ablation_configs(default: RetrievalConfig,
                     alphas: Sequence[float] = ALPHA_SWEEP) -> tuple[NamedConfig, ...]:
    """Sparse, dense, each hybrid fusion with and without the second stage, an alpha sweep.

    Every row keeps the default's other knobs (candidates, sentence weight, de-crowding), so a
    row differs from the default only in what its name says. The row equal to the default is
    marked; if none is, the default is added as its own row.
    """
    variants = [replace(default, mode="sparse", rescore=False),
                replace(default, mode="dense", rescore=False)]
    for rescore in (False, True):
        variants.append(replace(default, mode="hybrid", fusion="max_z", rescore=rescore))
        variants.append(replace(default, mode="hybrid", fusion="rrf", rescore=rescore))
        for alpha in sorted({0.5, *alphas}):
            variants.append(replace(default, mode="hybrid", fusion="convex", alpha=alpha,
                                    rescore=rescore))
    configs = [NamedConfig(name=describe(variant), retrieval=variant, is_default=variant == default)
               for variant in variants]
    if not any(config.is_default for config in configs):
        name = describe(default)
        if any(config.name == name for config in configs):
            name = f"default ({name})"
        configs.append(NamedConfig(name=name, retrieval=default, is_default=True))
    return tuple(configs)


# ------------------------------------------------------------------------------------ running

def run_queries(engine: QueryEngine, questions: Sequence[Question],
                configs: Sequence[NamedConfig], *, depth: int = DEPTH,
                on_query: Callable[[], None] | None = None) -> list[QueryOutcome]:
    """Ask every question under every configuration (cache off), ``depth`` passages each.

    The engine's passages are its first-stage candidates after rescoring and de-crowding, so a
    list may be shorter than ``depth``. ``on_query`` is called after each question (progress).
    """
    texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
    outcomes: list[QueryOutcome] = []
    for config in configs:
        for question in questions:
            query = Query(question=question.question, top_k=depth, mode=config.retrieval.mode)
            result = engine.query(query, retrieval=config.retrieval, use_cache=False)
            outcomes.append(to_outcome(config.name, question, result, texts))
            if on_query is not None:
                on_query()
    return outcomes


def to_outcome(config: str, question: Question, result: QueryResult,
               document_texts: Mapping[str, str]) -> QueryOutcome:
    """The engine's result as an outcome record, every passage and citation checked."""
    checked, problems = citation_problems(result, document_texts)
    return QueryOutcome(
        config=config, query_id=question.query_id, question=question.question, kind=question.kind,
        passages=tuple(
            RetrievedPassage(chunk_id=passage.chunk_id, doc_id=passage.doc_id, start=passage.start,
                             end=passage.end, score=passage.score,
                             excerpt=" ".join(passage.text.split())[:80])
            for passage in result.passages),
        answer=result.answer, abstention_reason=result.abstention_reason,
        answer_score=result.answer_score, citations_checked=checked,
        citation_problems=tuple(problems), grounded=answer_grounded(result, document_texts),
    )


def citation_problems(result: QueryResult,
                      document_texts: Mapping[str, str]) -> tuple[int, list[str]]:
    """Check every passage and answer citation against the document text at its offsets.

    Returns how many were checked and one message per mismatch (unknown documents included).
    """
    located = [(f"passage {passage.rank} ({passage.chunk_id})", passage.doc_id, passage.text,
                passage.start, passage.end) for passage in result.passages]
    if result.answer is not None:
        located += [(f"answer citation {number}", citation.doc_id, citation.text, citation.start,
                     citation.end) for number, citation in enumerate(result.answer.citations, 1)]
    problems = []
    for label, doc_id, text, start, end in located:
        document = document_texts.get(doc_id)
        if document is None:
            problems.append(f"{label}: unknown document {doc_id!r}")
        elif not citation_exact(text, document, start, end):
            problems.append(f"{label}: text differs from {doc_id}[{start}:{end}]")
    return len(located), problems


def answer_grounded(result: QueryResult, document_texts: Mapping[str, str]) -> bool | None:
    """True when the answer is its citations joined and each citation is verbatim inside the
    passage it cites; None when the engine abstained."""
    answer = result.answer
    if answer is None:
        return None
    if not answer.citations or answer.text != " ".join(c.text for c in answer.citations):
        return False
    for citation in answer.citations:
        if not 1 <= citation.passage_rank <= len(result.passages):
            return False
        passage = result.passages[citation.passage_rank - 1]
        document = document_texts.get(citation.doc_id)
        inside = (passage.doc_id == citation.doc_id and passage.start <= citation.start
                  and citation.end <= passage.end)
        if document is None or not inside or not citation_exact(
                citation.text, document, citation.start, citation.end):
            return False
    return True


# ------------------------------------------------------------------------------- gold scoring

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
            answer_hit = any(_sentence_hits(citation.doc_id, citation.start, citation.end, span)
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
    """Citation exactness, grounding and furniture noise of one outcome (any question)."""
    measures: dict[str, float] = {}
    if outcome.citations_checked:
        exact = outcome.citations_checked - len(outcome.citation_problems)
        measures["citation_exactness"] = exact / outcome.citations_checked
    if outcome.grounded is not None:
        measures["answer_grounding"] = 1.0 if outcome.grounded else 0.0
    top = outcome.passages[:TOP_PASSAGES]
    if top and documents:
        noisy = sum(1 for passage in top if overlaps_furniture(passage, documents))
        measures["furniture_noise@5"] = noisy / len(top)
    return measures


def _sentence_hits(doc_id: str, start: int, end: int, span: EvidenceSpan) -> bool:
    """A cited sentence hits a gold span when they overlap by at least half of either one."""
    if doc_id != span.doc_id:
        return False
    overlap = max(0, min(end, span.end) - max(start, span.start))
    return overlap > 0 and (2 * overlap >= end - start or 2 * overlap >= span.end - span.start)


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


# ------------------------------------------------------------------------------- BEIR scoring

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


# --------------------------------------------------------------------------------- confidence

def aggregate(records: Sequence[QueryRecord], *, resamples: int = 2000) -> dict[str, Aggregate]:
    """Each metric of any record: mean and bootstrap interval over the records that hold it."""
    names = list(dict.fromkeys(name for record in records for name in record.measures))
    aggregates = {}
    for name in names:
        values = [record.measures[name] for record in records if name in record.measures]
        interval = bootstrap_ci(values, resamples=resamples)
        aggregates[name] = Aggregate(mean=interval.mean, low=interval.low, high=interval.high,
                                     count=len(values))
    return aggregates


def compare(results: Sequence[ConfigResult], metrics: Sequence[str], *,
            resamples: int = 2000) -> tuple[Comparison, ...]:
    """Paired bootstrap of every non-default configuration against the default, Holm-adjusted."""
    default = next(result for result in results if result.config.is_default)
    base = {record.outcome.query_id: record.measures for record in default.records}
    raw = []
    for result in results:
        if result.config.is_default:
            continue
        for metric in metrics:
            pairs = [(record.measures[metric], base[record.outcome.query_id][metric])
                     for record in result.records
                     if metric in record.measures
                     and metric in base.get(record.outcome.query_id, {})]
            if not pairs:
                continue
            paired = paired_bootstrap([a for a, _ in pairs], [b for _, b in pairs],
                                      resamples=resamples)
            raw.append((result.config.name, metric, len(pairs), paired))
    adjusted = holm([paired.p_value for *_, paired in raw])
    return tuple(
        Comparison(config=name, metric=metric, count=count, mean_difference=paired.mean_difference,
                   low=paired.low, high=paired.high, p_value=paired.p_value, p_holm=p_holm)
        for (name, metric, count, paired), p_holm in zip(raw, adjusted, strict=True))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (monotone, capped at 1)."""
    order = sorted(range(len(p_values)), key=lambda position: p_values[position])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for step, position in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - step) * p_values[position]))
        adjusted[position] = running
    return adjusted
