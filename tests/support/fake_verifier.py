"""A stand-in claim verifier for fast tests: word overlap instead of a model, and a record of what it read."""

from __future__ import annotations

import re
from collections.abc import Sequence

from grounding.verifier import Verification

_WORD = re.compile(r"[a-zà-ÿ]{4,}")


class WordVerifier:
    """``supported`` when every word of four letters or more of the claim is in the evidence,
    ``contradicted`` when the claim holds one of ``contradicting`` words, else ``not_enough_info``."""

    name = "word-verifier@test"

    def __init__(self, contradicting: Sequence[str] = ()) -> None:
        self.contradicting = frozenset(contradicting)
        self.asked: list[tuple[str, str]] = []

    def verify(self, pairs: Sequence[tuple[str, str]]) -> list[Verification]:
        """One verification per pair; every pair is recorded in ``asked``."""
        self.asked.extend(pairs)
        readings = []
        for claim, evidence in pairs:
            claimed = set(_WORD.findall(claim.lower()))
            if claimed & self.contradicting:
                readings.append(Verification(label="contradicted", probabilities=(0.05, 0.9, 0.05), model=self.name))
            elif claimed <= set(_WORD.findall(evidence.lower())):
                readings.append(Verification(label="supported", probabilities=(0.9, 0.05, 0.05), model=self.name))
            else:
                readings.append(Verification(label="not_enough_info", probabilities=(0.1, 0.1, 0.8), model=self.name))
        return readings
