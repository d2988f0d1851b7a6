"""The tune/test split of a gold set: deterministic, stratified by kind, blind to any results."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from eval.gold import GoldQuestion, Split


def split_key(query_id: str) -> str:
    """The order in which a kind's questions are dealt: the SHA-256 hex digest of the query id."""
    return hashlib.sha256(query_id.encode("utf-8")).hexdigest()


def assign_splits(questions: Iterable[GoldQuestion]) -> dict[str, Split]:
    """``{query_id: split}``: within each kind, sorted by ``split_key``, alternately tune and test.

    The first question of each kind goes to ``"tune"``, so a kind with an odd count has one more
    tuning question than test questions. Adding questions can move existing ones between parts;
    a gold file stores the split it was published with and ``tests/test_gold.py`` checks it.
    """
    by_kind: dict[str, list[str]] = {}
    for question in questions:
        by_kind.setdefault(question.kind, []).append(question.query_id)
    splits: dict[str, Split] = {}
    for query_ids in by_kind.values():
        for position, query_id in enumerate(sorted(query_ids, key=split_key)):
            splits[query_id] = "tune" if position % 2 == 0 else "test"
    return splits


def select_split(questions: Iterable[GoldQuestion], split: Split) -> tuple[GoldQuestion, ...]:
    """The questions whose stored ``split`` is ``split`` (questions without one are left out)."""
    return tuple(question for question in questions if question.split == split)
