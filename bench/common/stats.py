"""Pure statistics of the benchmarks: percentiles, latency summaries, recall and ranking overlap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Distribution of a sample (milliseconds for latencies); ``count == 0`` gives NaN everywhere."""

    count: int
    mean: float
    minimum: float
    p50: float
    p95: float
    p99: float
    maximum: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for JSON output, values rounded to microseconds."""
        return {name: value if isinstance(value, int) else round(value, 3)
                for name, value in asdict(self).items()}


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) quantile with linear interpolation between order statistics.

    Matches ``numpy.percentile``'s default ("linear") method. Raises ``ValueError`` for an empty
    sample, a fraction outside [0, 1] or a NaN value.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within [0, 1], got {fraction}")
    if not values:
        raise ValueError("percentile of an empty sample is undefined")
    ordered = sorted(values)
    if any(math.isnan(value) for value in ordered):
        raise ValueError("sample contains NaN")
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    weight = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * weight


def summarise(values: Sequence[float]) -> Summary:
    """Count, mean, min, p50, p95, p99 and max of ``values``."""
    if not values:
        nan = math.nan
        return Summary(count=0, mean=nan, minimum=nan, p50=nan, p95=nan, p99=nan, maximum=nan)
    return Summary(
        count=len(values),
        mean=math.fsum(values) / len(values),
        minimum=min(values),
        p50=percentile(values, 0.50),
        p95=percentile(values, 0.95),
        p99=percentile(values, 0.99),
        maximum=max(values),
    )


def safe_ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is zero or either side is NaN."""
    if denominator == 0 or math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def concurrency_slowdown(sequential_p50: float, concurrent_p50: float, clients: int,
                         cores: int) -> float:
    """How much more concurrent requests slow each other than the core count explains.

    With ``clients`` CPU-bound requests sharing ``cores`` cores, each request ideally takes
    ``sequential_p50 * max(1, clients / cores)``; the result is the observed p50 over that ideal
    (1.0 means the slow-down is fully explained by the cores, above 1 means interference).
    """
    if clients < 1 or cores < 1:
        raise ValueError(f"clients and cores must be at least 1, got {clients} and {cores}")
    ideal = sequential_p50 * max(1.0, clients / cores)
    return safe_ratio(concurrent_p50, ideal)


def recall_at_k(found: Sequence[int], exact: Sequence[int], k: int) -> float:
    """Share of the exact top ``k`` ids found in the approximate top ``k`` (padding ids < 0 ignored)."""
    truth = {row for row in exact[:k] if row >= 0}
    if not truth:
        return math.nan
    return len(truth & {row for row in found[:k] if row >= 0}) / len(truth)


def overlap_at_k(first: Sequence[int], second: Sequence[int], k: int) -> float:
    """Set overlap of two top-``k`` lists, as a share of ``k`` (or of the longer list if shorter)."""
    size = min(k, max(len(first[:k]), len(second[:k])))
    if size == 0:
        return math.nan
    return len(set(first[:k]) & set(second[:k])) / size


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean ignoring NaN values; NaN when nothing is left."""
    kept = [value for value in values if not math.isnan(value)]
    return math.fsum(kept) / len(kept) if kept else math.nan


def local_intrinsic_dimension(neighbour_distances: Sequence[Sequence[float]]) -> float:
    """Mean maximum-likelihood local intrinsic dimension (Levina and Bickel) over queries.

    Each row holds one query's distances to its ``k`` nearest neighbours in ascending order; the
    estimate is ``1 / mean(log(d_k / d_i))`` over ``i < k``. Higher means harder for ANN graphs
    (isotropic 384-d vectors are far above real embeddings). Rows with a zero distance are skipped.
    """
    estimates = []
    for row in neighbour_distances:
        if len(row) < 2 or row[0] <= 0:
            continue
        logs = [math.log(row[-1] / distance) for distance in row[:-1]]
        total = math.fsum(logs)
        if total > 0:
            estimates.append(len(logs) / total)
    return mean(estimates)
