"""The claim verifier's part of a verdict (pure): what it reads, what it says, how it meets the rules.

The verifier is a trained 3-class cross-encoder, (claim, evidence window) -> supported /
contradicted / not_enough_info (``grounding.verifier_model`` loads the shipped one). It reads the
cited sentences with ``NEIGHBOURS`` sentences either side (``window_rows``), so a claim drawn from
two adjacent sentences, or one that needs the sentence before to say who "he" is, can be supported.

It decides each claim's verdict; the rules (``grounding.compare``) still give the reasons a person
reads. ``combine`` is the policy chosen on the tune split of the written claims (docs/models.md,
"The claim verifier"): the verifier's label, except that a precise rule (a number or a date of the
claim that the evidence window does not state) makes a claim the verifier calls supported
unsupported. Where the verifier and the rules disagree, the response says both (``disagreement``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from grounding.compare import fact_reasons
from grounding.facts import extract_facts, words
from grounding.records import LABELS, Label, Reason, Verdict

__all__ = ["LABELS", "NEIGHBOURS", "ClaimVerifier", "Label", "Verification", "combine", "disagreement",
           "model_label", "precise_reasons", "verdict_of", "window_rows"]

NEIGHBOURS = 1
"""Sentences read on either side of the cited ones (in the same document)."""

PRECISE_REASONS = frozenset({"number_mismatch", "date_mismatch"})
"""Rule findings precise enough to overrule the verifier's ``supported`` (chosen on tune)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """The verifier's reading of one claim against one evidence window."""

    label: Label
    probabilities: tuple[float, float, float]
    model: str

    @property
    def confidence(self) -> float:
        """The probability of ``label``."""
        return self.probabilities[LABELS.index(self.label)]


class ClaimVerifier(Protocol):
    """Scores (claim, evidence) pairs: the shipped ONNX model, or a stand-in in tests."""

    @property
    def name(self) -> str:
        """``name@version`` of the model."""
        ...

    def verify(self, pairs: Sequence[tuple[str, str]]) -> list[Verification]:
        """One verification per (claim, evidence text) pair, in order."""
        ...


def window_rows(first: int, stop: int, document_first: int, document_stop: int,
                neighbours: int = NEIGHBOURS) -> range:
    """Rows ``first..stop`` widened by ``neighbours`` on each side, inside the document's rows."""
    return range(max(document_first, first - neighbours), min(document_stop, stop + neighbours))


def precise_reasons(claim: str, evidence: str, codes: frozenset[str] = PRECISE_REASONS) -> tuple[Reason, ...]:
    """The rules' findings of ``claim`` against the whole evidence window whose code is in ``codes``."""
    found = fact_reasons(extract_facts(claim), extract_facts(evidence), words(evidence))
    return tuple(reason for reason in found if reason.code in codes)


def combine(verification: Verification, precise: Sequence[Reason]) -> Label:
    """The claim's label: the verifier's, made ``contradicted`` where a precise rule fires on a
    claim it calls supported (the tune split's choice, see the module docstring)."""
    if verification.label == "supported" and precise:
        return "contradicted"
    return verification.label


def model_label(probabilities: Sequence[float]) -> Label:
    """The verifier's own class, before any rule: the most probable one."""
    return LABELS[max(range(len(LABELS)), key=lambda index: probabilities[index])]


def verdict_of(label: Label) -> Verdict:
    """A label as the checker's verdict: only a supported claim is ``supported``."""
    return "supported" if label == "supported" else "unsupported"


def disagreement(label: Label, rules_verdict: Verdict, verification: Verification,
                 reasons: Sequence[Reason]) -> str | None:
    """A sentence saying both sides where the verifier's label and the rules' verdict disagree, else None.

    The rules agree with ``supported`` when they say supported or partially supported with no reason
    of their own but a low similarity, and with the other labels when they say anything else.
    """
    rules_support = rules_verdict == "supported" or (
        rules_verdict == "partially_supported" and all(reason.code == "low_similarity" for reason in reasons))
    if (label == "supported") == rules_support:
        return None
    words_of = {"supported": "supported by", "contradicted": "contradicted by",
                "not_enough_info": "not stated in"}
    found = "; ".join(reason.message for reason in reasons) or "they found no problem"
    return (f"the verifier ({verification.model}) reads the claim as {words_of[label]} the cited text "
            f"(p={verification.confidence:.2f}); the rules say {rules_verdict.replace('_', ' ')} ({found})")
