"""Fusing ranked lists (pure): reciprocal-rank fusion, a normalised convex combination and
standardised max fusion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from index import Hit

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


def standardize(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Scores as z-scores within one candidate pool; a pool whose scores are all equal maps to 0."""
    spread = float(scores.std())
    if spread <= 0 or not np.isfinite(spread):
        return np.zeros_like(scores)
    standardized: npt.NDArray[np.float64] = (scores - scores.mean()) / spread
    return standardized


def max_z_fusion(rows: Sequence[int], dense_scores: npt.ArrayLike, sparse_scores: npt.ArrayLike,
                 peak_weight: float) -> list[Hit]:
    """Fuse two scorings of the same candidate rows by their standardised scores.

    Each side is standardised over the candidate pool (both sides scored exactly for every row),
    so a side whose best rows stand far above the rest (a rare name that BM25 finds in one
    article) counts for more than a side with flat scores (a dense model that does not know the
    name). The fused score is ``peak_weight * max(z_dense, z_sparse) + (1 - peak_weight) *
    mean(z_dense, z_sparse)``: strong evidence from either side is kept, agreement still helps.
    """
    if not 0.0 <= peak_weight <= 1.0:
        raise ValueError(f"peak_weight must lie in [0, 1], got {peak_weight}")
    dense = standardize(np.asarray(dense_scores, dtype=np.float64))
    sparse = standardize(np.asarray(sparse_scores, dtype=np.float64))
    if dense.shape != sparse.shape or dense.shape != (len(rows),):
        raise ValueError("one dense and one sparse score per row is required")
    fused = peak_weight * np.maximum(dense, sparse) + (1 - peak_weight) * (dense + sparse) / 2
    return sort_hits({int(row): float(score) for row, score in zip(rows, fused, strict=True)})
