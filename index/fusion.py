"""Fusing ranked lists (pure): reciprocal-rank fusion and a normalised convex combination."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from index.records import Hit

RRF_K = 60


def sort_hits(scores: Mapping[int, float]) -> list[Hit]:
    """Hits by descending score, ties broken by ascending row (so results are deterministic)."""
    return [Hit(row=row, score=score)
            for row, score in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hit]], weights: Sequence[float] | None = None,
                           k: int = RRF_K) -> list[Hit]:
    """Score each row by ``sum(weight / (k + rank))`` over the rankings it appears in (rank from 1)."""
    weights = weights or [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is required")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.row] = scores.get(hit.row, 0.0) + weight / (k + rank)
    return sort_hits(scores)


def min_max(hits: Sequence[Hit]) -> dict[int, float]:
    """Scale scores to [0, 1] within one list; a list whose scores are all equal maps to 1."""
    if not hits:
        return {}
    high = max(hit.score for hit in hits)
    low = min(hit.score for hit in hits)
    spread = high - low
    return {hit.row: (hit.score - low) / spread if spread > 0 else 1.0 for hit in hits}


def convex_combination(dense: Sequence[Hit], sparse: Sequence[Hit], alpha: float) -> list[Hit]:
    """``alpha * dense + (1 - alpha) * sparse`` on min-max normalised scores; absent counts as 0."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    dense_scores, sparse_scores = min_max(dense), min_max(sparse)
    rows = dense_scores.keys() | sparse_scores.keys()
    return sort_hits({row: alpha * dense_scores.get(row, 0.0) + (1 - alpha) * sparse_scores.get(row, 0.0)
                      for row in rows})
