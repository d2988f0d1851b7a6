"""The evidence hit@k plot: one line per configuration, k = 1..20, the served one drawn bold."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from eval.records import HIT_CURVE, EvalResult

PLOT_NAME = "evidence_hit_at_k.png"
SERVED_COLOUR = "black"


def plot_hit_curves(result: EvalResult, path: Path) -> None:
    """Write the PNG: colour = first stage, dashed = with the sentence-level second stage.

    A bare ``Figure`` renders with the Agg canvas and never touches pyplot's global state, so no
    display is needed and nothing leaks between calls.
    """
    figure = Figure(figsize=(10, 6), dpi=120, layout="tight")
    axes = figure.add_subplot()
    ks = list(range(1, len(HIT_CURVE) + 1))
    lowest = 1.0
    stages = list(dict.fromkeys(config.config.name.removesuffix("+rescore")
                                for config in result.configs))
    colours = matplotlib.colormaps["tab10" if len(stages) <= 10 else "tab20"]
    for config_result in result.configs:
        values = [config_result.aggregates[name].mean for name in HIT_CURVE
                  if name in config_result.aggregates]
        if not values:
            continue
        lowest = min(lowest, *values)
        config = config_result.config
        stage = stages.index(config.name.removesuffix("+rescore"))
        served = config.is_default
        axes.plot(ks[: len(values)], values,
                  label=config.name + (" (served)" if served else ""),
                  color=SERVED_COLOUR if served else colours(stage % colours.N),
                  linestyle="--" if config.retrieval.rescore else "-",
                  linewidth=3.0 if served else 1.5, marker="o" if served else None,
                  markersize=4, zorder=3 if served else 2)
    axes.set_xlabel("k (passages read)")
    axes.set_ylabel("evidence hit@k (share of answerable questions)")
    axes.set_title("Gold evidence in the top k passages (dashed: + sentence-level rescoring)")
    axes.set_xticks(ks)
    axes.set_xlim(1, ks[-1])
    # Start the axis a little below the lowest curve (on a 0.1 grid) so differences stay visible.
    axes.set_ylim(max(0.0, math.floor((lowest - 0.05) * 10) / 10), 1.02)
    axes.grid(visible=True, alpha=0.3)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False)
    figure.savefig(path)
