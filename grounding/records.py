"""Records of the grounding checker: citations, facts, reasons, evidence, verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["supported", "partially_supported", "unsupported", "no_citation"]
ReasonCode = Literal["number_mismatch", "date_mismatch", "entity_missing", "negation_flip",
                     "citation_range_mismatch", "uncited_source", "low_similarity"]
VERDICTS: tuple[Verdict, ...] = ("supported", "partially_supported", "unsupported", "no_citation")
Label = Literal["supported", "contradicted", "not_enough_info"]
LABELS: tuple[Label, ...] = ("supported", "contradicted", "not_enough_info")
"""The claim verifier's classes, in the order of its output logits."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """A cited range ``document.text[start_char:end_char]``."""

    doc_id: str
    start_char: int
    end_char: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What a sentence asserts that a paraphrase must keep: numbers, dates, names, negation cues.

    ``numbers`` are normalised values ("3500000", "12.5") and ordinals ("3rd"); ``dates`` are parts
    ("year:2021", "month:3", "day:3-14", "weekday:monday"); ``names`` are lower-cased word tuples of
    capitalised runs and acronyms; ``negations`` counts negation cues; ``terms`` is the sentence as
    stems, ``#number`` and ``not`` terms in order (``grounding.facts.terms``), what a claim is
    aligned with its evidence on.
    """

    numbers: frozenset[str]
    dates: frozenset[str]
    names: frozenset[tuple[str, ...]]
    negations: int
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """Why a sentence is not fully supported: a code and a sentence for people."""

    code: ReasonCode
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """A span of an indexed document: ``document.text[start_char:end_char] == text``.

    ``pages``: the PDF pages the span lies on, () for a document without pages (filled by the
    service's engine, which knows the page maps).
    """

    doc_id: str
    start_char: int
    end_char: int
    text: str
    pages: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierReading:
    """What the claim verifier read (``window``: the cited sentences and their neighbours) and said."""

    label: Label
    probabilities: tuple[float, float, float]
    model: str
    window: Evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class SentenceCheck:
    """The verdict on one answer sentence ``answer[start:end]``.

    ``verdict`` is the verifier's where one ran (``verifier``), else the rules'; ``rules_verdict`` is
    always the rules' own, and ``reasons`` are always the rules'. ``disagreement`` says both sides
    where the two disagree.
    """

    text: str
    start: int
    end: int
    verdict: Verdict
    score: float
    evidence: Evidence | None
    reasons: tuple[Reason, ...]
    rules_verdict: Verdict | None = None
    verifier: VerifierReading | None = None
    disagreement: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """Verdicts on every sentence of an answer, and the share of them that are supported."""

    sentences: tuple[SentenceCheck, ...]

    @property
    def supported_share(self) -> float:
        """Supported sentences over all sentences (1.0 for an empty answer)."""
        if not self.sentences:
            return 1.0
        return sum(check.verdict == "supported" for check in self.sentences) / len(self.sentences)


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Similarity cut-offs: ``supported`` at or above ``supported``, ``partially_supported`` at or
    above ``partial``, and a document outside the citations counts as the source at ``found``."""

    supported: float = 0.75
    partial: float = 0.5
    found: float = 0.75
