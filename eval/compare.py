"""The paired difference between two runs of the same questions: two settings, or two models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval.bootstrap import paired_bootstrap
from eval.records import ConfigResult

DROP_METRICS = ("evidence_hit@5", "nDCG@10", "RR@10", "R@10", "answer_hit_rate",
                "abstention_accuracy")
"""Metrics whose drop is reported (served configuration of each setting)."""
MODEL_METRICS = ("evidence_hit@5", "RR@10", "nDCG@10", "answer_hit_rate", "false_abstention_rate",
                 "abstention_rate", "abstention_accuracy")
"""Metrics whose difference between two models is reported (``grounded eval --versus-model``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Drop:
    """``after - before`` of one metric over the questions both settings scored it on."""

    metric: str
    before: float
    after: float
    count: int
    difference: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        """The 95 % interval of the difference excludes zero."""
        return self.high < 0.0 or self.low > 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingDrop:
    """How the served configuration's metrics change from one setting to another."""

    before: str
    after: str
    questions: int
    """Questions present in both settings (by ``query_id``)."""
    drops: tuple[Drop, ...]


def setting_drop(before_name: str, before: ConfigResult, after_name: str, after: ConfigResult, *,
                 metrics: Sequence[str] = DROP_METRICS, resamples: int = 2000) -> SettingDrop:
    """Paired bootstrap of each metric over the questions both settings hold (the seed set)."""
    base = {record.outcome.query_id: record.measures for record in before.records}
    shared = [record for record in after.records if record.outcome.query_id in base]
    drops = []
    for metric in metrics:
        pairs = [(record.measures[metric], base[record.outcome.query_id][metric])
                 for record in shared
                 if metric in record.measures and metric in base[record.outcome.query_id]]
        if not pairs:
            continue
        after_values = [value for value, _ in pairs]
        before_values = [value for _, value in pairs]
        paired = paired_bootstrap(after_values, before_values, resamples=resamples)
        drops.append(Drop(metric=metric, before=sum(before_values) / len(pairs),
                          after=sum(after_values) / len(pairs), count=len(pairs),
                          difference=paired.mean_difference, low=paired.low, high=paired.high,
                          p_value=paired.p_value))
    return SettingDrop(before=before_name, after=after_name, questions=len(shared),
                       drops=tuple(drops))
