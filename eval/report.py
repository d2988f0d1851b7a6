"""The benchmark's outputs: ``report.md``, ``report.json`` and the one-screen terminal summary.

Formatting only: every number comes from an ``EvalResult``; nothing is computed here that the
result does not already hold.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from eval.calibration import Calibration, ThresholdErrors
from eval.plot import PLOT_NAME, plot_hit_curves
from eval.records import (
    HIT_CURVE,
    LOWER_IS_BETTER,
    TOP_PASSAGES,
    Aggregate,
    ConfigResult,
    EvalResult,
    QueryRecord,
)

REPORT_NAME = "report.md"
JSON_NAME = "report.json"
ABLATION_COLUMNS = {
    "gold": ("nDCG@10", "R@10", "R@100", "RR@10", "evidence_hit@5", "evidence_recall@10",
             "answer_hit_rate", "abstention_accuracy"),
    "beir": ("nDCG@10", "R@5", "R@10", "R@100", "RR@10"),
}
WITH_INTERVAL = frozenset({"nDCG@10", "R@10", "evidence_hit@5"})


def interval_text(aggregate: Aggregate | None) -> str:
    """``0.812 [0.751, 0.866]`` or a dash when the metric does not apply."""
    if aggregate is None:
        return "n/a"
    return f"{aggregate.mean:.3f} [{aggregate.low:.3f}, {aggregate.high:.3f}]"


def _mean_text(aggregate: Aggregate | None) -> str:
    return "n/a" if aggregate is None else f"{aggregate.mean:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table (pipes inside cells escaped)."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    return [line(header), line(["---"] * len(header)), *(line(row) for row in rows), ""]


# ------------------------------------------------------------------------------------ markdown

def render_markdown(result: EvalResult, *, command: str) -> str:
    """The whole report as Markdown."""
    lines = [f"# grounded eval ({result.mode})", "",
             f"Command: `{command}`  ", f"Index version: `{result.index_version}`  ",
             f"Model: `{result.model_id}`  ",
             f"Served configuration: **{result.default.config.name}** "
             f"(`{_config_text(result.default)}`)  ",
             f"Passages retrieved per question: {result.depth}; intervals are 95 % percentile "
             "bootstrap intervals over questions (2000 resamples).", ""]
    lines += _question_counts(result)
    lines += ["## Summary (served configuration)", ""]
    lines += _table(["metric", "mean [95 % CI]", "questions"],
                    [[name + (" (lower is better)" if name in LOWER_IS_BETTER else ""),
                      interval_text(result.default.aggregates.get(name)),
                      str(result.default.aggregates[name].count)
                      if name in result.default.aggregates else "0"]
                     for name in result.summary_metrics])
    lines += _citations(result)
    lines += _ablation(result)
    lines += _comparisons(result)
    if result.calibration is not None:
        lines += _calibration(result.calibration, result.threshold)
    if result.furniture:
        lines += _furniture(result)
    if result.uncovered:
        lines += ["## Questions no chunk can answer", "",
                  "Their evidence lies in text no indexed chunk covers by half (often excluded "
                  "as furniture or duplicate); they are left out of the ir-measures metrics and "
                  "count as misses in the evidence metrics: " + ", ".join(result.uncovered), ""]
    if result.mode == "gold":
        lines += ["![evidence hit@k](evidence_hit_at_k.png)", ""]
    lines += _per_question(result)
    return "\n".join(lines)


def _config_text(result: ConfigResult) -> str:
    retrieval = result.config.retrieval
    return ", ".join(f"{field.name}={getattr(retrieval, field.name)}"
                     for field in dataclasses.fields(retrieval))


def _question_counts(result: EvalResult) -> list[str]:
    kinds: dict[str, int] = {}
    for record in result.default.records:
        kinds[record.outcome.kind] = kinds.get(record.outcome.kind, 0) + 1
    counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    return [f"Questions: {len(result.default.records)} ({counts}).", ""]


def _citations(result: EvalResult) -> list[str]:
    outcomes = [record.outcome for config in result.configs for record in config.records]
    checked = sum(outcome.citations_checked for outcome in outcomes)
    problems = [f"{outcome.config} {outcome.query_id}: {problem}"
                for outcome in outcomes for problem in outcome.citation_problems]
    lines = ["## Citation exactness", "",
             f"{checked - len(problems)} of {checked} passages and answer citations, over every "
             f"configuration, equal the document text at their offsets "
             f"({result.citation_exactness:.2%}). Anything below 100 % fails the run.", ""]
    lines += [f"- {problem}" for problem in problems[:50]]
    return [*lines, ""] if problems else lines


def _ablation(result: EvalResult) -> list[str]:
    columns = ABLATION_COLUMNS[result.mode]
    rows = []
    for config in result.configs:
        name = config.config.name
        if config.config.is_default:
            name = f"**{name}** (default)"
        rows.append([name, *((interval_text if column in WITH_INTERVAL else _mean_text)(
            config.aggregates.get(column)) for column in columns)])
    return ["## Ablation", "",
            "Every row keeps the served configuration's other settings; `+rescore` is the "
            "sentence-level second stage; `convex-a` weights dense scores by a.", "",
            *_table(["configuration", *columns], rows)]


def _comparisons(result: EvalResult) -> list[str]:
    rows = [[comparison.config, comparison.metric, f"{comparison.mean_difference:+.3f}",
             f"[{comparison.low:+.3f}, {comparison.high:+.3f}]", f"{comparison.p_value:.3f}",
             f"{comparison.p_holm:.3f}", "yes" if comparison.significant else "no",
             str(comparison.count)]
            for comparison in result.comparisons]
    return ["## Paired comparisons against the served configuration", "",
            "Difference = configuration minus served, per question; p is a two-sided paired "
            "bootstrap p-value; Holm adjusts for the number of comparisons in this table.", "",
            *_table(["configuration", "metric", "difference", "95 % CI", "p", "p (Holm)",
                     "significant", "questions"], rows)]


def _errors_row(label: str, errors: ThresholdErrors, calibration: Calibration) -> list[str]:
    return [label, f"{errors.threshold:.4f}",
            f"{errors.false_abstentions}/{calibration.answerable} "
            f"({errors.false_abstention_rate:.1%})",
            f"{errors.answered_unanswerable}/{calibration.unanswerable} "
            f"({errors.answered_unanswerable_rate:.1%})"]


def _calibration(calibration: Calibration, threshold: float) -> list[str]:
    total = calibration.answerable + calibration.unanswerable
    return ["## Abstention threshold calibration", "",
            "Best answer score per question of the served configuration; the engine answers when "
            "it is at least the threshold. The recommended threshold minimises false abstentions "
            "+ answered unanswerable questions (ties to the lower threshold).", "",
            *_table(["threshold", "value", "false abstentions", "answered unanswerable"],
                    [_errors_row("recommended", calibration.recommended, calibration),
                     _errors_row("current (AnswerConfig.min_score)", calibration.current,
                                 calibration)]),
            f"Recommended `AnswerConfig.min_score = {calibration.recommended.threshold:.4f}` "
            f"(current {threshold:.4f}); margin to the nearest score {calibration.margin:.4f}. "
            f"In-sample error {calibration.in_sample_error_rate:.1%}; leave-one-out error "
            f"{calibration.leave_one_out_errors}/{total} "
            f"({calibration.leave_one_out_error_rate:.1%}), the estimate to trust for new "
            "questions.", ""]


def _furniture(result: EvalResult) -> list[str]:
    rows = [[noise.doc_id, str(noise.furniture_chars), str(noise.passages),
             str(noise.noisy_passages), f"{noise.share:.1%}" if noise.passages else "n/a"]
            for noise in result.furniture]
    return ["## Page-furniture noise per document", "",
            f"Top-{TOP_PASSAGES} passages of the served configuration that overlap a region "
            "ingestion marked as furniture.", "",
            *_table(["document", "furniture chars", f"top-{TOP_PASSAGES} passages",
                     "overlapping furniture", "share"], rows)]


def _per_question(result: EvalResult) -> list[str]:
    lines = ["## Per-question results (served configuration)", ""]
    for record in result.default.records:
        outcome = record.outcome
        lines += [f"### {outcome.query_id} ({outcome.kind}): {outcome.question}", ""]
        if record.verdict:
            lines += [f"**{record.verdict}**", ""]
        lines += _table(["rank", "chunk", "score", "excerpt"],
                        [[str(rank), passage.chunk_id, f"{passage.score:.3f}", passage.excerpt]
                         for rank, passage in enumerate(outcome.passages[:TOP_PASSAGES], 1)])
        if record.span_ranks:
            hits = ", ".join(f"span {number}: " + (f"rank {rank}" if rank else "not retrieved")
                             for number, rank in enumerate(record.span_ranks, 1))
            lines += [f"Gold spans: {hits}.", ""]
        if outcome.answer is not None:
            cited = "; ".join(f"{c.doc_id}[{c.start}:{c.end}]" for c in outcome.answer.citations)
            lines += [f"Answer (score {outcome.answer_score:.3f}, cites {cited}): "
                      f"{outcome.answer.text}", ""]
        else:
            lines += [f"Abstained (score {outcome.answer_score:.3f}): {outcome.abstention_reason}",
                      ""]
    return lines


# ---------------------------------------------------------------------------------------- json

def _aggregate_json(aggregate: Aggregate) -> dict[str, float | int]:
    return {"mean": aggregate.mean, "low": aggregate.low, "high": aggregate.high,
            "count": aggregate.count}


def _record_json(record: QueryRecord, *, full: bool) -> dict[str, object]:
    """One question's result; ``full`` (the served configuration) adds the top 10 passages, the
    answer and the verdict. ``ranking`` holds every id as scored (chunks, or BEIR documents)."""
    outcome = record.outcome
    body: dict[str, object] = {
        "query_id": outcome.query_id, "kind": outcome.kind,
        "measures": {name: round(value, 6) for name, value in record.measures.items()},
        "ranking": list(record.ranking),
        "answered": outcome.answer is not None, "answer_score": outcome.answer_score,
        "citation_problems": list(outcome.citation_problems),
    }
    if full:
        body.update({
            "question": outcome.question,
            "passages": [dataclasses.asdict(passage) for passage in outcome.passages[:10]],
            "gold_span_ranks": list(record.span_ranks),
            "answer": None if outcome.answer is None else {
                "text": outcome.answer.text,
                "citations": [dataclasses.asdict(c) for c in outcome.answer.citations]},
            "abstention_reason": outcome.abstention_reason, "answer_hit": record.answer_hit,
            "grounded": outcome.grounded, "supported_share": outcome.supported_share,
            "citations_checked": outcome.citations_checked,
            "verdict": record.verdict,
        })
    return body


def result_to_json(result: EvalResult, *, command: str) -> dict[str, object]:
    """Every number of the report, machine-readable: aggregates and per-query results apart."""
    calibration = result.calibration
    return {
        "mode": result.mode, "command": command, "index_version": result.index_version,
        "model_id": result.model_id, "depth": result.depth,
        "default_config": result.default.config.name,
        "configs": [{"name": config.config.name, "is_default": config.config.is_default,
                     "retrieval": dataclasses.asdict(config.config.retrieval)}
                    for config in result.configs],
        "summary": {name: _aggregate_json(result.default.aggregates[name])
                    for name in result.summary_metrics if name in result.default.aggregates},
        "citation_exactness_all_configs": result.citation_exactness,
        "aggregate": {config.config.name: {name: _aggregate_json(value)
                                           for name, value in config.aggregates.items()}
                      for config in result.configs},
        "comparisons": [dataclasses.asdict(comparison) for comparison in result.comparisons],
        "calibration": None if calibration is None else {
            **dataclasses.asdict(calibration),
            "leave_one_out_error_rate": calibration.leave_one_out_error_rate,
            "in_sample_error_rate": calibration.in_sample_error_rate},
        "furniture": [{**dataclasses.asdict(noise), "share": noise.share}
                      for noise in result.furniture],
        "uncovered": list(result.uncovered),
        "per_query": {config.config.name: [_record_json(record, full=config.config.is_default)
                                           for record in config.records]
                      for config in result.configs},
    }


def write_reports(result: EvalResult, folder: Path, *, command: str) -> list[Path]:
    """Write report.md, report.json and (gold mode) the hit@k PNG; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / REPORT_NAME
    markdown.write_text(render_markdown(result, command=command), encoding="utf-8")
    data = folder / JSON_NAME
    data.write_text(json.dumps(result_to_json(result, command=command), separators=(",", ":"),
                               ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    written = [markdown, data]
    if any(name in config.aggregates for config in result.configs for name in HIT_CURVE):
        plot_hit_curves(result, folder / PLOT_NAME)
        written.append(folder / PLOT_NAME)
    return written


# ------------------------------------------------------------------------------------ terminal

def render_summary(result: EvalResult, written: Sequence[Path]) -> str:
    """The one-screen terminal summary: served metrics, a compact ablation, the calibration."""
    default = result.default
    lines = [f"grounded eval ({result.mode}): {len(default.records)} questions, "
             f"index {result.index_version[:12]}, served {default.config.name}", "",
             f"{'metric':<24}{'mean':>8}  95% CI"]
    for name in result.summary_metrics:
        aggregate = default.aggregates.get(name)
        if aggregate is None:
            continue
        marker = "  (lower is better)" if name in LOWER_IS_BETTER else ""
        lines.append(f"{name:<24}{aggregate.mean:>8.3f}  [{aggregate.low:.3f}, "
                     f"{aggregate.high:.3f}]{marker}")
    third = "evidence_hit@5" if result.mode == "gold" else "R@100"
    lines += ["", f"{'configuration':<28}{'nDCG@10':>9}{'R@10':>8}{third:>16}"]
    for config in result.configs:
        name = config.config.name + (" *" if config.config.is_default else "")
        values = [_mean_text(config.aggregates.get(metric))
                  for metric in ("nDCG@10", "R@10", third)]
        lines.append(f"{name:<28}{values[0]:>9}{values[1]:>8}{values[2]:>16}")
    significant = [c for c in result.comparisons if c.significant]
    lines.append("* served; significant differences (Holm p < 0.05): "
                 + (", ".join(f"{c.config} {c.metric} {c.mean_difference:+.3f}"
                              for c in significant) or "none"))
    calibration = result.calibration
    if calibration is not None:
        recommended, current = calibration.recommended, calibration.current
        lines.append(
            f"abstention threshold: recommended {recommended.threshold:.4f} "
            f"(false abstention {recommended.false_abstention_rate:.1%}, answered unanswerable "
            f"{recommended.answered_unanswerable_rate:.1%}, leave-one-out error "
            f"{calibration.leave_one_out_error_rate:.1%}); current {current.threshold:.4f} "
            f"({current.false_abstention_rate:.1%}, {current.answered_unanswerable_rate:.1%})")
    lines.append("wrote " + ", ".join(str(path) for path in written))
    return "\n".join(lines)
