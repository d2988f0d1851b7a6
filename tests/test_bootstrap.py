"""Percentile bootstrap intervals and the paired bootstrap test."""

from __future__ import annotations

from typing import Any

import pytest

from eval.bootstrap import bootstrap_ci, paired_bootstrap
from eval.errors import MetricInputError

SCORES = [0.0, 1.0, 0.5, 1.0, 0.0, 0.25, 1.0, 0.75, 0.0, 1.0]  # mean 5.5 / 10 = 0.55


def test_interval_contains_the_sample_mean() -> None:
    interval = bootstrap_ci(SCORES)
    assert interval.mean == pytest.approx(0.55)
    assert interval.low < interval.mean < interval.high
    assert interval.low >= 0.0 and interval.high <= 1.0


def test_same_seed_same_interval() -> None:
    # Irregular values so that resampled means rarely coincide and the seed shows in the bounds.
    values = [0.13, 0.91, 0.47, 0.05, 0.66, 0.29, 0.83, 0.38, 0.71, 0.02]
    assert bootstrap_ci(values, seed=7) == bootstrap_ci(values, seed=7)
    assert bootstrap_ci(values, seed=7) != bootstrap_ci(values, seed=8)


def test_interval_narrows_with_more_queries() -> None:
    # Same per-query distribution and mean, ten times the queries: the width shrinks by about
    # sqrt(10) ~ 3.2; asking for 2x keeps the test far from resampling noise.
    small = bootstrap_ci(SCORES)
    large = bootstrap_ci(SCORES * 10)
    assert large.mean == pytest.approx(small.mean)
    assert (large.high - large.low) * 2 < small.high - small.low


def test_higher_confidence_gives_a_wider_interval() -> None:
    narrow = bootstrap_ci(SCORES, confidence=0.5)
    wide = bootstrap_ci(SCORES, confidence=0.99)
    assert wide.low <= narrow.low and narrow.high <= wide.high


def test_constant_sample_has_a_point_interval() -> None:
    interval = bootstrap_ci([0.4] * 5)
    assert interval.low == interval.mean == interval.high == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("values", "options"),
    [
        ([], {}),
        ([0.1, float("nan")], {}),
        ([0.1, 0.2], {"confidence": 1.0}),
        ([0.1, 0.2], {"resamples": 0}),
    ],
)
def test_unscorable_input_is_an_error(values: list[float], options: dict[str, Any]) -> None:
    with pytest.raises(MetricInputError):
        bootstrap_ci(values, **options)


def test_paired_identical_inputs_give_zero_difference_and_p_one() -> None:
    result = paired_bootstrap(SCORES, list(SCORES))
    assert result.mean_difference == 0.0
    assert result.low == result.high == 0.0
    assert result.p_value == 1.0


def test_paired_constant_improvement_is_certain() -> None:
    # Every query gains 0.25: every resampled mean difference is 0.25, none on the far side of 0.
    better = [value + 0.25 for value in SCORES]
    result = paired_bootstrap(better, SCORES)
    assert result.mean_difference == pytest.approx(0.25)
    assert result.low == pytest.approx(0.25) and result.high == pytest.approx(0.25)
    assert result.p_value == 0.0


def test_paired_is_antisymmetric() -> None:
    # Same seed, same resampled queries: swapping a and b negates every difference.
    a = [0.2, 0.9, 0.4, 0.6, 0.1, 0.8]
    b = [0.3, 0.5, 0.4, 0.2, 0.2, 0.6]
    forward = paired_bootstrap(a, b, seed=3)
    backward = paired_bootstrap(b, a, seed=3)
    assert backward.mean_difference == pytest.approx(-forward.mean_difference)
    assert backward.low == pytest.approx(-forward.high)
    assert backward.p_value == pytest.approx(forward.p_value)


def test_paired_noise_around_zero_is_not_significant() -> None:
    # Differences alternate -0.1/+0.1 over ten queries, then one +0.1: mean 0.1 / 11 = 0.009.
    a = [0.5 + (0.1 if index % 2 else -0.1) for index in range(10)] + [0.6]
    b = [0.5] * 10 + [0.5]
    result = paired_bootstrap(a, b)
    assert result.low < 0.0 < result.high
    assert result.p_value > 0.5


def test_paired_lengths_must_match() -> None:
    with pytest.raises(MetricInputError, match="one value per query"):
        paired_bootstrap([0.1, 0.2], [0.1])
