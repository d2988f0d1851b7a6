"""The records of a benchmark run: questions, configurations, outcomes, scored records, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from eval.calibration import Calibration
from ranking import Answer, RetrievalConfig

DEPTH = 100
"""Passages retrieved per question (for R@100)."""
HIT_CURVE_DEPTH = 20
"""Evidence hit@k is computed for k = 1..HIT_CURVE_DEPTH (the plot)."""
TOP_PASSAGES = 5
"""Passages a user reads: shown in the report and checked for page furniture."""

RETRIEVAL_METRICS = ("nDCG@10", "R@5", "R@10", "R@100", "RR@10")
EVIDENCE_METRICS = ("evidence_hit@1", "evidence_hit@3", "evidence_hit@5", "evidence_hit@10",
                    "evidence_recall@5", "evidence_recall@10")
ANSWER_METRICS = ("citation_exactness", "answer_exactness", "answer_grounding", "answer_hit_rate", "abstention_rate",
                  "false_abstention_rate", "abstention_accuracy", "furniture_noise@5")
GOLD_SUMMARY = (*RETRIEVAL_METRICS, *EVIDENCE_METRICS, *ANSWER_METRICS)
BEIR_SUMMARY = (*RETRIEVAL_METRICS, "citation_exactness", "answer_exactness", "answer_grounding")
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
    supported_share: float | None = None
    """The grounding checker's share of answer sentences its citations support; None if abstained."""


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
