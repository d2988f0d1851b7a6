"""Compare one claim sentence with one evidence sentence, and decide a verdict (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from grounding.records import Evidence, Facts, Reason, Thresholds, Verdict

# Where the chosen evidence lies: in a cited range (or a retrieved passage), elsewhere in a cited
# document, in a document the answer does not cite, or nowhere above the thresholds.
Location = Literal["cited", "cited_document", "elsewhere", "none"]
_LINKS = frozenset({"of", "the", "de", "del", "la", "van", "von"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One evidence sentence scored against a claim."""

    evidence: Evidence
    score: float
    facts: Facts
    words: frozenset[str]


def similarity(claim_terms: Sequence[str], evidence_terms: Sequence[str], cosine: float) -> float:
    """Half the cosine of the two sentence vectors, half the share of claim terms the evidence has."""
    claim = set(claim_terms)
    if not claim:
        return max(0.0, cosine)
    overlap = len(claim & set(evidence_terms)) / len(claim)
    return 0.5 * max(0.0, cosine) + 0.5 * overlap


def _listing(values: Sequence[str]) -> str:
    return ", ".join(sorted(values))


def _date_label(part: str) -> str:
    kind, _, value = part.partition(":")
    return f"{kind} {value}"


def fact_reasons(claim: Facts, evidence: Facts, evidence_words: frozenset[str]) -> tuple[Reason, ...]:
    """Numbers, dates, names and negations of the claim that the evidence lacks or flips."""
    reasons: list[Reason] = []
    missing_numbers = claim.numbers - evidence.numbers
    if missing_numbers:
        found = f" (it has {_listing(list(evidence.numbers))})" if evidence.numbers else ""
        reasons.append(Reason(code="number_mismatch",
                              message=f"the evidence does not state {_listing(list(missing_numbers))}{found}"))
    missing_dates = claim.dates - evidence.dates
    if missing_dates:
        found = f" (it has {_listing([_date_label(part) for part in evidence.dates])})" if evidence.dates else ""
        reasons.append(Reason(code="date_mismatch", message="the evidence does not give "
                              f"{_listing([_date_label(part) for part in missing_dates])}{found}"))
    missing_names = [" ".join(name) for name in claim.names
                     if not all(word in evidence_words for word in name if word not in _LINKS)]
    if missing_names:
        reasons.append(Reason(code="entity_missing",
                              message=f"the evidence does not name {_listing(missing_names)}"))
    if claim.negations != evidence.negations:
        reasons.append(Reason(code="negation_flip", message=(
            f"the claim has {claim.negations} negation cue(s), the evidence {evidence.negations}")))
    return tuple(reasons)


def best_candidate(candidates: Sequence[Candidate], claim: Facts, thresholds: Thresholds) -> Candidate | None:
    """The best-scoring candidate, preferring one whose facts agree if it still scores as supported."""
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda candidate: -candidate.score)
    for candidate in ranked:
        if candidate.score < thresholds.supported:
            break
        if not fact_reasons(claim, candidate.facts, candidate.words):
            return candidate
    return ranked[0]


def decide(claim: Facts, cited: Candidate | None, cited_document: Candidate | None,
           elsewhere: Candidate | None, thresholds: Thresholds, *,
           has_citations: bool) -> tuple[Verdict, Candidate | None, tuple[Reason, ...]]:
    """The verdict, the chosen evidence and the reasons, from the best candidate of each place."""
    if not has_citations:
        verdict: Verdict = "no_citation"
        best = max((c for c in (cited, elsewhere) if c is not None), key=lambda c: c.score, default=None)
        return verdict, best, ()
    location: Location = "none"
    chosen = cited
    if cited is not None and cited.score >= thresholds.supported:
        location = "cited"
    elif cited_document is not None and cited_document.score >= thresholds.supported and (
            cited is None or cited_document.score > cited.score):
        location, chosen = "cited_document", cited_document
    elif elsewhere is not None and elsewhere.score >= thresholds.found and (
            cited is None or elsewhere.score > cited.score):
        location, chosen = "elsewhere", elsewhere
    elif cited is not None and cited.score >= thresholds.partial:
        location = "cited"
    if chosen is None or location == "none":
        score = chosen.score if chosen is not None else 0.0
        return "unsupported", chosen, (Reason(code="low_similarity", message=(
            f"no cited sentence is close to the claim (best similarity {score:.2f}, "
            f"{thresholds.partial:.2f} needed)")),)
    reasons = list(fact_reasons(claim, chosen.facts, chosen.words))
    if location == "elsewhere":
        reasons.append(Reason(code="uncited_source", message=(
            f"the claim is found in {chosen.evidence.doc_id}, which the answer does not cite")))
        return "unsupported", chosen, tuple(reasons)
    if location == "cited_document":
        reasons.append(Reason(code="citation_range_mismatch", message=(
            f"the cited range of {chosen.evidence.doc_id} does not hold the claim; "
            f"characters {chosen.evidence.start_char}-{chosen.evidence.end_char} do")))
    if any(reason.code != "citation_range_mismatch" for reason in reasons):
        return "unsupported", chosen, tuple(reasons)
    if reasons or chosen.score < thresholds.supported:
        if chosen.score < thresholds.supported:
            reasons.append(Reason(code="low_similarity", message=(
                f"the closest cited sentence is a partial match (similarity {chosen.score:.2f})")))
        return "partially_supported", chosen, tuple(reasons)
    return "supported", chosen, ()
