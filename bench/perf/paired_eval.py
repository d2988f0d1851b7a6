"""Paired bootstrap of two ``grounded eval --out`` reports on the same gold questions.

``python -m bench.perf.paired_eval NEW/report.json OLD/report.json`` prints, per configuration and
measure, the mean difference new - old with its 95 % interval and p-value (``eval.bootstrap``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eval.bootstrap import paired_bootstrap

MEASURES = ("nDCG@10", "evidence_hit@5", "answer_hit_rate", "abstention_accuracy",
            "false_abstention_rate")
CONFIGS = ("hybrid-convex-0.7", "hybrid-convex-0.7+rescore", "dense")


def _by_query(report: dict[str, Any], config: str, measure: str) -> dict[str, float]:
    return {row["query_id"]: float(row["measures"][measure])
            for row in report["per_query"][config] if measure in row["measures"]}


def compare(new: dict[str, Any], old: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (configuration, measure) present in both reports."""
    rows: list[dict[str, Any]] = []
    for config in CONFIGS:
        for measure in MEASURES:
            first, second = _by_query(new, config, measure), _by_query(old, config, measure)
            queries = sorted(set(first) & set(second))
            if not queries:
                continue
            result = paired_bootstrap([first[q] for q in queries], [second[q] for q in queries],
                                      resamples=10_000, seed=0)
            rows.append({"config": config, "measure": measure, "queries": len(queries),
                         "new": round(sum(first[q] for q in queries) / len(queries), 4),
                         "old": round(sum(second[q] for q in queries) / len(queries), 4),
                         "difference": round(result.mean_difference, 4),
                         "low": round(result.low, 4), "high": round(result.high, 4),
                         "p_value": round(result.p_value, 4)})
    return rows


def main(arguments: list[str]) -> int:
    """Print the comparison as a Markdown table."""
    new, old = (json.loads(Path(path).read_text(encoding="utf-8")) for path in arguments[:2])
    print("| configuration | measure | n | new | old | new - old [95 % CI] | p |")
    print("|---|---|---|---|---|---|---|")
    for row in compare(new, old):
        print(f"| {row['config']} | {row['measure']} | {row['queries']} | {row['new']} | {row['old']} "
              f"| {row['difference']:+} [{row['low']:+}, {row['high']:+}] | {row['p_value']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
