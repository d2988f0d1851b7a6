"""The side-by-side report of a settings run: ``report.md``, ``report.json`` and the terminal lines.

Formatting only, deterministic: no timings or cache state, every number from the results.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from eval.compare import SettingDrop
from eval.records import GOLD_SUMMARY, LOWER_IS_BETTER, Aggregate
from eval.report import interval_text
from eval.settings import SettingRun, folder_name

MODE_METRICS = ("nDCG@10", "RR@10", "evidence_hit@5", "answer_hit_rate", "abstention_accuracy")
"""Columns of the per-setting configuration (hybrid / dense / sparse) table."""
TERMINAL_METRICS = ("evidence_hit@5", "nDCG@10", "answer_hit_rate", "abstention_accuracy")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    return [line(header), line(["---"] * len(header)), *(line(row) for row in rows), ""]


def render_suite_markdown(runs: Sequence[SettingRun], drop: SettingDrop | None, *, command: str,
                          skipped: Sequence[str], distractor_count: int,
                          model_drops: Sequence[SettingDrop] = ()) -> str:
    """Settings side by side: overview, every metric, the distractor drop, the models, the modes."""
    model = runs[0].result.model_id if runs else "n/a"
    split = runs[0].split if runs else "n/a"
    lines = ["# grounded eval: settings", "", f"Command: `{command}`  ", f"Model: `{model}`  ",
             f"Gold split: **{split}**; intervals are 95 % percentile bootstrap intervals over "
             "questions (2000 resamples); the drop is a paired bootstrap over the questions both "
             "settings ask.", ""]
    lines += [f"- {line}" for line in skipped]
    if skipped:
        lines.append("")
    lines += ["## Settings", ""]
    lines += _table(
        ["setting", "documents", "questions", "other split (left out)", "served configuration",
         "report"],
        [[run.setting.name, str(len(run.result.furniture)), str(len(run.result.default.records)),
          str(run.left_out), run.result.default.config.name,
          f"[{folder_name(run.setting.name)}/report.md]({folder_name(run.setting.name)}/report.md)"]
         for run in runs])
    if distractor_count:
        lines += [f"Distractor files mixed in: {distractor_count} (every file the gold cites, then "
                  "the rest in SHA-256-of-file-name order up to --distractor-limit).", ""]
    lines += ["## Every metric (served configuration)", ""]
    lines += _table(["metric", *(run.setting.name for run in runs)],
                    [[name + (" (lower is better)" if name in LOWER_IS_BETTER else ""),
                      *(_cell(run.result.default.aggregates.get(name)) for run in runs)]
                     for name in GOLD_SUMMARY])
    if drop is not None:
        lines += _drop_lines(drop)
    for model_drop in model_drops:
        lines += _model_lines(model_drop)
    for run in runs:
        lines += [f"## Configurations on {run.setting.name}", "",
                  "Sparse (BM25 alone), dense alone and every hybrid fusion; **bold** is served.", ""]
        lines += _table(["configuration", *MODE_METRICS],
                        [[f"**{config.config.name}**" if config.config.is_default
                          else config.config.name,
                          *(interval_text(config.aggregates.get(metric))
                            for metric in MODE_METRICS)]
                         for config in run.result.configs])
    return "\n".join(lines)


def _cell(aggregate: Aggregate | None) -> str:
    return "n/a" if aggregate is None else f"{interval_text(aggregate)} ({aggregate.count})"


def _drop_lines(drop: SettingDrop) -> list[str]:
    return [f"## Drop from {drop.before} to {drop.after}", "",
            f"The {drop.questions} questions asked in both settings, served configuration; "
            "difference = with distractors minus without, paired per question.", "",
            *_table(["metric", drop.before, drop.after, "difference [95 % CI]", "p",
                     "questions"],
                    [[item.metric, f"{item.before:.3f}", f"{item.after:.3f}",
                      f"{item.difference:+.3f} [{item.low:+.3f}, {item.high:+.3f}]"
                      + (" *" if item.significant else ""),
                      f"{item.p_value:.3f}", str(item.count)]
                     for item in drop.drops]),
            "\\* the interval excludes zero.", ""]


def _model_lines(drop: SettingDrop) -> list[str]:
    setting, _, first = drop.before.partition(": ")
    second = drop.after.partition(": ")[2]
    return [f"## Models on {setting}: {second} against {first}", "",
            f"The {drop.questions} questions of the setting, served configuration of each model; "
            "difference = second model minus first, paired per question (a metric counts only "
            "the questions it applies to: false abstention the answerable ones, abstention rate "
            "the unanswerable ones).", "",
            *_table(["metric", first, second, "difference [95 % CI]", "p", "questions"],
                    [[item.metric + (" (lower is better)" if item.metric in LOWER_IS_BETTER
                                     else ""),
                      f"{item.before:.3f}", f"{item.after:.3f}",
                      f"{item.difference:+.3f} [{item.low:+.3f}, {item.high:+.3f}]"
                      + (" *" if item.significant else ""),
                      f"{item.p_value:.3f}", str(item.count)]
                     for item in drop.drops]),
            "\\* the interval excludes zero.", ""]


def _drop_json(drop: SettingDrop) -> dict[str, object]:
    return {"before": drop.before, "after": drop.after, "questions": drop.questions,
            "metrics": [{**dataclasses.asdict(item), "significant": item.significant}
                        for item in drop.drops]}


def _aggregate_json(aggregate: Aggregate) -> dict[str, float | int]:
    return {"mean": aggregate.mean, "low": aggregate.low, "high": aggregate.high,
            "count": aggregate.count}


def suite_to_json(runs: Sequence[SettingRun], drop: SettingDrop | None, *, command: str,
                  skipped: Sequence[str], distractor_count: int,
                  model_drops: Sequence[SettingDrop] = ()) -> dict[str, object]:
    """Every number of the side-by-side report, machine-readable."""
    data: dict[str, object] = {
        "command": command, "split": runs[0].split if runs else None,
        "model_id": runs[0].result.model_id if runs else None,
        "skipped": list(skipped), "distractor_files": distractor_count,
        "settings": [{
            "name": run.setting.name, "documents": len(run.result.furniture),
            "gold": [path.name for path in run.setting.gold],
            "questions": len(run.result.default.records), "left_out": run.left_out,
            "index_version": run.result.index_version,
            "default_config": run.result.default.config.name,
            "summary": {name: _aggregate_json(run.result.default.aggregates[name])
                        for name in GOLD_SUMMARY if name in run.result.default.aggregates},
            "configs": {config.config.name: {metric: _aggregate_json(config.aggregates[metric])
                                             for metric in MODE_METRICS
                                             if metric in config.aggregates}
                        for config in run.result.configs},
            "report": f"{folder_name(run.setting.name)}/report.json",
        } for run in runs],
        "drop": None if drop is None else _drop_json(drop),
    }
    if model_drops:  # only with --versus-model: a one-model report keeps its exact bytes
        data["models"] = [_drop_json(model_drop) for model_drop in model_drops]
    return data


def render_suite_summary(runs: Sequence[SettingRun], drop: SettingDrop | None,
                         written: Sequence[Path], model_drops: Sequence[SettingDrop] = ()) -> str:
    """A few terminal lines: the key metrics per setting and the drop."""
    lines = [f"{'setting':<22}{'questions':>10}" + "".join(f"{name:>22}"
                                                          for name in TERMINAL_METRICS)]
    for run in runs:
        values = [run.result.default.aggregates.get(name) for name in TERMINAL_METRICS]
        lines.append(f"{run.setting.name:<22}{len(run.result.default.records):>10}" + "".join(
            f"{'n/a' if value is None else f'{value.mean:.3f} [{value.low:.2f},{value.high:.2f}]':>22}"
            for value in values))
    if drop is not None:
        lines.append(f"drop {drop.before} -> {drop.after} ({drop.questions} questions): " + ", ".join(
            f"{item.metric} {item.difference:+.3f} [{item.low:+.3f}, {item.high:+.3f}]"
            for item in drop.drops))
    for model_drop in model_drops:
        lines.append(f"{model_drop.after} minus {model_drop.before.partition(': ')[2]} "
                     f"({model_drop.questions} questions): " + ", ".join(
                         f"{item.metric} {item.difference:+.3f} [{item.low:+.3f}, {item.high:+.3f}]"
                         for item in model_drop.drops))
    lines.append("wrote " + ", ".join(str(path) for path in written))
    return "\n".join(lines)


def write_suite_reports(runs: Sequence[SettingRun], drop: SettingDrop | None, folder: Path, *,
                        command: str, skipped: Sequence[str], distractor_count: int,
                        model_drops: Sequence[SettingDrop] = ()) -> str:
    """Write ``report.md`` and ``report.json`` into ``folder``; returns the terminal summary."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / "report.md"
    markdown.write_text(render_suite_markdown(runs, drop, command=command, skipped=skipped,
                                              distractor_count=distractor_count,
                                              model_drops=model_drops) + "\n",
                        encoding="utf-8")
    data = folder / "report.json"
    data.write_text(json.dumps(suite_to_json(runs, drop, command=command, skipped=skipped,
                                             distractor_count=distractor_count,
                                             model_drops=model_drops),
                               separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return render_suite_summary(runs, drop, [markdown, data], model_drops)
