"""Fusion weights actually apply, and ties break by row."""

from __future__ import annotations

import pytest

from index.records import Hit
from ranking.fusion import convex_combination, max_z_fusion, min_max, reciprocal_rank_fusion


def hits(*rows_scores: tuple[int, float]) -> list[Hit]:
    return [Hit(row=row, score=score) for row, score in rows_scores]


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([hits((1, 9), (2, 8)), hits((2, 5), (3, 4))], k=60)
    scores = {hit.row: hit.score for hit in fused}
    assert scores[2] == pytest.approx(1 / 62 + 1 / 61)
    assert scores[1] == pytest.approx(1 / 61)
    assert [hit.row for hit in fused] == [2, 1, 3]


def test_rrf_weights_change_the_order() -> None:
    dense, sparse = hits((1, 1.0)), hits((2, 1.0))
    assert reciprocal_rank_fusion([dense, sparse], weights=[2, 1])[0].row == 1
    assert reciprocal_rank_fusion([dense, sparse], weights=[1, 2])[0].row == 2


def test_ties_break_by_ascending_row() -> None:
    fused = reciprocal_rank_fusion([hits((7, 1.0)), hits((3, 1.0))])
    assert [hit.row for hit in fused] == [3, 7]


def test_convex_alpha_moves_between_the_two_lists() -> None:
    dense = hits((1, 0.9), (2, 0.1))
    sparse = hits((2, 12.0), (1, 2.0))
    assert convex_combination(dense, sparse, alpha=1.0)[0].row == 1
    assert convex_combination(dense, sparse, alpha=0.0)[0].row == 2
    mixed = {hit.row: hit.score for hit in convex_combination(dense, sparse, alpha=0.25)}
    assert mixed[1] == pytest.approx(0.25 * 1.0 + 0.75 * 0.0)
    assert mixed[2] == pytest.approx(0.25 * 0.0 + 0.75 * 1.0)


def test_convex_rejects_alpha_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match="alpha"):
        convex_combination([], [], alpha=1.5)


def test_min_max_of_constant_scores_is_one() -> None:
    assert min_max(hits((1, 3.0), (2, 3.0))) == {1: 1.0, 2: 1.0}


def test_max_z_keeps_a_decisive_lead_of_one_side_over_flat_scores_of_the_other() -> None:
    # BM25 finds the name in row 0 only; the dense side scores everything alike, row 0 a bit low.
    rows = [0, 1, 2, 3, 4]
    dense = [0.30, 0.34, 0.33, 0.335, 0.332]
    sparse = [10.6, 4.6, 4.4, 4.2, 4.0]
    assert max_z_fusion(rows, dense, sparse, peak_weight=0.5)[0].row == 0
    # A min-max convex combination at 0.7 dense weight buries it, which is what max_z is for.
    convex = convex_combination(hits(*zip(rows, dense, strict=True)), hits(*zip(rows, sparse, strict=True)), 0.7)
    assert convex[0].row != 0


def test_max_z_rewards_agreement_when_neither_side_is_decisive() -> None:
    rows = [0, 1, 2]
    fused = max_z_fusion(rows, [0.5, 0.6, 0.4], [3.0, 2.0, 1.0], peak_weight=0.0)
    assert {hit.row: hit.score for hit in fused}[2] == pytest.approx(min(hit.score for hit in fused))


def test_max_z_of_constant_scores_is_zero_and_ties_break_by_row() -> None:
    fused = max_z_fusion([5, 3], [0.2, 0.2], [1.0, 1.0], peak_weight=0.5)
    assert [(hit.row, hit.score) for hit in fused] == [(3, 0.0), (5, 0.0)]


def test_max_z_rejects_a_bad_weight_or_mismatched_scores() -> None:
    with pytest.raises(ValueError, match="peak_weight"):
        max_z_fusion([0], [1.0], [1.0], peak_weight=1.5)
    with pytest.raises(ValueError, match="one dense and one sparse score per row"):
        max_z_fusion([0, 1], [1.0], [1.0, 2.0], peak_weight=0.5)
