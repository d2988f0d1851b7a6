"""Confidence of a run's numbers: bootstrap intervals per metric and Holm-adjusted paired
comparisons of each configuration against the default (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from eval.bootstrap import bootstrap_ci, paired_bootstrap
from eval.records import Aggregate, Comparison, ConfigResult, QueryRecord


def aggregate(records: Sequence[QueryRecord], *, resamples: int = 2000) -> dict[str, Aggregate]:
    """Each metric of any record: mean and bootstrap interval over the records that hold it."""
    names = list(dict.fromkeys(name for record in records for name in record.measures))
    aggregates = {}
    for name in names:
        values = [record.measures[name] for record in records if name in record.measures]
        interval = bootstrap_ci(values, resamples=resamples)
        aggregates[name] = Aggregate(mean=interval.mean, low=interval.low, high=interval.high,
                                     count=len(values))
    return aggregates


def compare(results: Sequence[ConfigResult], metrics: Sequence[str], *,
            resamples: int = 2000) -> tuple[Comparison, ...]:
    """Paired bootstrap of every non-default configuration against the default, Holm-adjusted."""
    default = next(result for result in results if result.config.is_default)
    base = {record.outcome.query_id: record.measures for record in default.records}
    raw = []
    for result in results:
        if result.config.is_default:
            continue
        for metric in metrics:
            pairs = [(record.measures[metric], base[record.outcome.query_id][metric])
                     for record in result.records
                     if metric in record.measures
                     and metric in base.get(record.outcome.query_id, {})]
            if not pairs:
                continue
            paired = paired_bootstrap([a for a, _ in pairs], [b for _, b in pairs],
                                      resamples=resamples)
            raw.append((result.config.name, metric, len(pairs), paired))
    adjusted = holm([paired.p_value for *_, paired in raw])
    return tuple(
        Comparison(config=name, metric=metric, count=count, mean_difference=paired.mean_difference,
                   low=paired.low, high=paired.high, p_value=paired.p_value, p_holm=p_holm)
        for (name, metric, count, paired), p_holm in zip(raw, adjusted, strict=True))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (monotone, capped at 1)."""
    order = sorted(range(len(p_values)), key=lambda position: p_values[position])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for step, position in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - step) * p_values[position]))
        adjusted[position] = running
    return adjusted
