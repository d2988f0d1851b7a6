"""Percentile bootstrap over queries: a confidence interval for a mean and a paired comparison."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from eval.errors import MetricInputError

# Resampled means are drawn in batches so memory stays near _BATCH_CELLS floats whatever the
# number of queries (2000 resamples x 10,000 queries at once would be 160 MB of indices).
_BATCH_CELLS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A sample mean with its percentile-bootstrap confidence interval ``[low, high]``."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PairedResult:
    """Mean of ``a - b`` per query, its bootstrap interval and a two-sided bootstrap p-value."""

    mean_difference: float
    low: float
    high: float
    p_value: float


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> Interval:
    """Resample queries with replacement; the interval holds the middle ``confidence`` of the means.

    Deterministic for a given seed. Raises ``MetricInputError`` for an empty sample, a non-finite
    value, ``resamples < 1`` or a confidence outside (0, 1): an interval of zeros or NaN would be
    easy to mistake for a result.
    """
    sample = _as_sample(values, "values")
    _check_settings(resamples, confidence)
    means = _resampled_means(sample, resamples, seed)
    low, high = _percentiles(means, confidence)
    return Interval(mean=float(sample.mean()), low=low, high=high)


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedResult:
    """Compare two systems scored on the same queries (``a[i]`` and ``b[i]`` are one query).

    The p-value is twice the share of resampled mean differences on the far side of zero from the
    observed difference (zero itself counts as the far side), capped at 1; it is 1 when the
    observed difference is 0. Its resolution is ``1 / resamples``. Raises ``MetricInputError`` for
    samples of different lengths and for the inputs ``bootstrap_ci`` rejects.
    """
    first = _as_sample(a, "a")
    second = _as_sample(b, "b")
    if first.shape != second.shape:
        raise MetricInputError(
            f"paired samples must have one value per query each: got {first.size} and {second.size}"
        )
    _check_settings(resamples, confidence)
    differences = first - second
    observed = float(differences.mean())
    means = _resampled_means(differences, resamples, seed)
    low, high = _percentiles(means, confidence)
    if observed == 0.0:
        p_value = 1.0
    else:
        far_side = means <= 0.0 if observed > 0.0 else means >= 0.0
        p_value = min(1.0, 2.0 * float(far_side.mean()))
    return PairedResult(mean_difference=observed, low=low, high=high, p_value=p_value)


def _as_sample(values: Sequence[float], name: str) -> NDArray[np.float64]:
    """A non-empty, finite, one-dimensional float array."""
    sample = np.asarray(values, dtype=np.float64)
    if sample.ndim != 1 or sample.size == 0:
        raise MetricInputError(f"{name} must be a non-empty sequence of per-query scores")
    if not np.all(np.isfinite(sample)):
        raise MetricInputError(f"{name} holds NaN or infinite scores; fix the per-query scores")
    return sample


def _check_settings(resamples: int, confidence: float) -> None:
    """Reject settings for which no interval exists."""
    if resamples < 1:
        raise MetricInputError(f"resamples must be at least 1, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise MetricInputError(f"confidence must lie strictly between 0 and 1, got {confidence}")


def _resampled_means(sample: NDArray[np.float64], resamples: int, seed: int) -> NDArray[np.float64]:
    """Means of ``resamples`` resamples with replacement, drawn from one seeded generator."""
    generator = np.random.default_rng(seed)
    means = np.empty(resamples, dtype=np.float64)
    for first, last in _batches(resamples, max(1, _BATCH_CELLS // sample.size)):
        indices = generator.integers(0, sample.size, size=(last - first, sample.size))
        means[first:last] = sample[indices].mean(axis=1)
    return means


def _batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    """Half-open ranges covering ``range(total)`` in steps of ``size``."""
    for first in range(0, total, size):
        yield first, min(total, first + size)


def _percentiles(means: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    """The two tail quantiles leaving ``(1 - confidence) / 2`` outside on each side."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)
