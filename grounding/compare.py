"""Compare one claim sentence with one evidence sentence, and decide a verdict (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from grounding.facts import CLAUSE_BREAK, NEGATION_TERM
from grounding.records import Evidence, Facts, Reason, Thresholds, Verdict
from text import MONTH_NAMES, NAME_LINKS, STOPWORDS

# Where the chosen evidence lies: in a cited range (or a retrieved passage), elsewhere in a cited
# document, in a document the answer does not cite, or nowhere above the thresholds.
Location = Literal["cited", "cited_document", "elsewhere", "none"]
_CONTEXT = 3
"""Terms on each side of a number that say what it counts."""


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


def _date_labels(parts: frozenset[str]) -> list[str]:
    """Date parts as a person writes them ("March 5", "March", "2021", "Monday"); a month is left out
    where one of its days is listed."""
    days = {part.split(":")[1].split("-")[0] for part in parts if part.startswith("day:")}
    labels = []
    for part in sorted(parts):
        kind, _, value = part.partition(":")
        if kind == "day":
            month, day = value.split("-")
            labels.append(f"{MONTH_NAMES[int(month) - 1]} {day}")
        elif kind == "month" and value not in days:
            labels.append(MONTH_NAMES[int(value) - 1])
        elif kind == "weekday":
            labels.append(value.capitalize())
        elif kind == "year":
            labels.append(value)
    return labels


def aligned_part(claim_terms: Sequence[str], evidence_terms: Sequence[str]) -> tuple[int, int]:
    """The ``(start, end)`` range of evidence terms the claim speaks about: from the first to the last
    clause of the evidence (``CLAUSE_BREAK`` apart) holding a content term of the claim.
    ``(0, len(evidence_terms))`` when they share none."""
    shared = {term for term in claim_terms if term not in STOPWORDS and term != CLAUSE_BREAK}
    clauses: list[tuple[int, int]] = []
    start = 0
    for position, term in enumerate((*evidence_terms, CLAUSE_BREAK)):
        if term == CLAUSE_BREAK:
            if any(evidence_terms[index] in shared for index in range(start, position)):
                clauses.append((start, position))
            start = position + 1
    if not clauses:
        return 0, len(evidence_terms)
    return clauses[0][0], clauses[-1][1]


def _contexts(terms: Sequence[str]) -> dict[str, set[str]]:
    """Each number term's neighbours: up to ``_CONTEXT`` terms on each side, not past another number."""
    contexts: dict[str, set[str]] = {}
    for position, term in enumerate(terms):
        if not term.startswith("#"):
            continue
        around = contexts.setdefault(term, set())
        for step in (-1, 1):
            other, taken = position + step, 0
            while 0 <= other < len(terms) and taken < _CONTEXT and not terms[other].startswith("#"):
                if terms[other] != CLAUSE_BREAK:
                    around.add(terms[other])
                    taken += 1
                other += step
    return contexts


def swapped_numbers(claim_terms: Sequence[str], evidence_terms: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of numbers both texts state, each of which the claim puts where the evidence puts the other
    ("fell from 15 to under 60" against "fell from 60 to under 15"): a number's place is the terms
    around it, and each of the two shares more of them with the other number's place in the evidence."""
    claim, evidence = _contexts(claim_terms), _contexts(evidence_terms)
    common = sorted(set(claim) & set(evidence))
    swaps = []
    for index, first in enumerate(common):
        for second in common[index + 1:]:
            if (len(claim[first] & evidence[second]) > len(claim[first] & evidence[first])
                    and len(claim[second] & evidence[first]) > len(claim[second] & evidence[second])):
                swaps.append((first[1:], second[1:]))
    return swaps


def fact_reasons(claim: Facts, evidence: Facts, evidence_words: frozenset[str]) -> tuple[Reason, ...]:
    """Numbers, dates, names and negations of the claim that the evidence lacks or flips.

    Negation cues are counted in the part of the evidence the claim aligns with (``aligned_part``),
    so a claim quoting half of a long sentence is not held to a "not" of the other half.
    """
    reasons: list[Reason] = []
    missing_numbers = claim.numbers - evidence.numbers
    if missing_numbers:
        found = f" (it has {_listing(list(evidence.numbers))})" if evidence.numbers else ""
        reasons.append(Reason(code="number_mismatch",
                              message=f"the evidence does not state {_listing(list(missing_numbers))}{found}"))
    else:
        for first, second in swapped_numbers(claim.terms, evidence.terms):
            reasons.append(Reason(code="number_mismatch", message=(
                f"the claim swaps {first} and {second}: the evidence says each where the claim puts the other")))
    missing_dates = claim.dates - evidence.dates
    if missing_dates:
        found = f" (it has {_listing(_date_labels(evidence.dates))})" if evidence.dates else ""
        reasons.append(Reason(code="date_mismatch", message="the evidence does not give "
                              f"{_listing(_date_labels(missing_dates))}{found}"))
    missing_names = [" ".join(name) for name in claim.names
                     if not all(word in evidence_words for word in name if word not in NAME_LINKS)]
    if missing_names:
        reasons.append(Reason(code="entity_missing",
                              message=f"the evidence does not name {_listing(missing_names)}"))
    start, end = aligned_part(claim.terms, evidence.terms)
    aligned = evidence.terms[start:end].count(NEGATION_TERM) if evidence.terms else evidence.negations
    if claim.negations != aligned:
        where = "the evidence" if (start, end) == (0, len(evidence.terms)) else "the part of the evidence it matches"
        reasons.append(Reason(code="negation_flip", message=(
            f"the claim has {claim.negations} negation cue(s), {where} {aligned}")))
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


def needs_elsewhere(cited: Candidate | None, cited_document: Candidate | None, thresholds: Thresholds, *,
                    has_citations: bool) -> bool:
    """Whether ``decide`` can depend on the best sentence elsewhere (pure): not when the cited range,
    or another sentence of a cited document, already holds the claim, so the search of every other
    document (a scan of all sentence vectors) is skipped for such claims."""
    if not has_citations:
        return True
    if cited is not None and cited.score >= thresholds.supported:
        return False
    return not (cited_document is not None and cited_document.score >= thresholds.supported
                and (cited is None or cited_document.score > cited.score))


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
