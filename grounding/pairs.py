"""The rules on one (claim, evidence) pair, as a three-way label: what benchmarks compare models with (pure).

The checker judges a claim against the sentences it cites; here the cited evidence is one text and
its cosine to the claim is given, so a benchmark can score the rules on written (claim, evidence,
label) triples (``training/data/claims``) beside a trained verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from grounding.compare import Candidate, decide, similarity
from grounding.facts import extract_facts, words
from grounding.records import Evidence, Reason, Thresholds
from index import content_terms
from text import fold

Label = Literal["supported", "contradicted", "not_enough_info"]
LABELS: tuple[Label, ...] = ("supported", "contradicted", "not_enough_info")
_FACT_CODES = frozenset({"number_mismatch", "date_mismatch", "entity_missing", "negation_flip"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PairJudgement:
    """The rules' label for one pair, the checker's score and the reasons a person reads."""

    label: Label
    score: float
    reasons: tuple[Reason, ...]


def judge_pair(claim: str, evidence: str, cosine: float, thresholds: Thresholds | None = None) -> PairJudgement:
    """Judge ``claim`` against ``evidence`` as the checker judges a sentence citing it.

    ``cosine`` is that of the two texts' vectors (the index's model). The checker's verdict maps to a
    label: ``supported`` is supported, ``unsupported`` with a fact reason (number, date, name,
    negation) is contradicted, anything else (too far from the evidence, or only partly close to it)
    is not enough information.
    """
    quoted = " ".join(fold(claim).split()).casefold()
    score = 1.0 if quoted and quoted in " ".join(fold(evidence).split()).casefold() else \
        similarity(content_terms(fold(claim)), content_terms(fold(evidence)), cosine)
    candidate = Candidate(evidence=Evidence(doc_id="evidence", start_char=0, end_char=len(evidence), text=evidence),
                          score=score, facts=extract_facts(evidence), words=words(evidence))
    verdict, _, reasons = decide(extract_facts(claim), candidate, None, None, thresholds or Thresholds(),
                                 has_citations=True)
    label: Label = "supported" if verdict == "supported" else (
        "contradicted" if verdict == "unsupported" and any(reason.code in _FACT_CODES for reason in reasons)
        else "not_enough_info")
    return PairJudgement(label=label, score=score, reasons=reasons)
