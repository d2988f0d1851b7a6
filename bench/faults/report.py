"""Results of the reliability checks: one record per check, the summary table and the JSON report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common.results import json_safe, write_json

MAX_PROBLEMS = 20
"""Violations kept per check in the report (the count in ``errors`` is always complete)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The outcome of one check.

    ``faults`` counts the faults injected (kills, flipped bytes, failed writes, overload requests);
    ``errors`` counts the violations of the check's rule, ``problems`` describes the first few.
    ``versions`` are the index versions observed. ``figures`` holds the check's measurements.
    """

    name: str
    rounds: int
    faults: int
    errors: int
    versions: tuple[str, ...]
    seconds: float
    summary: str
    figures: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when no violation was seen."""
        return self.errors == 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "name": self.name, "passed": self.passed, "rounds": self.rounds, "faults": self.faults,
            "errors": self.errors, "versions": list(self.versions), "seconds": round(self.seconds, 2),
            "summary": self.summary, "figures": json_safe(self.figures), "problems": list(self.problems),
        }


class Problems:
    """Collects violations: counts every one, keeps the first ``MAX_PROBLEMS`` descriptions."""

    def __init__(self) -> None:
        self.count = 0
        self.kept: list[str] = []

    def add(self, description: str) -> None:
        """Record one violation."""
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(description)

    def check(self, condition: bool, description: str) -> bool:
        """Record a violation when ``condition`` is false; returns ``condition``."""
        if not condition:
            self.add(description)
        return condition


def short_versions(versions: Sequence[str]) -> str:
    """``3: 1a2b3c4d5e6f, ...`` (count and 12-character prefixes)."""
    if not versions:
        return "-"
    shown = ", ".join(version[:12] for version in versions[:3])
    more = ", ..." if len(versions) > 3 else ""
    return f"{len(versions)}: {shown}{more}"


def format_table(results: Sequence[CheckResult]) -> str:
    """The summary table printed at the end of a run."""
    headers = ("check", "rounds", "faults injected", "errors seen", "versions seen", "verdict", "figures")
    rows = [(result.name, str(result.rounds), str(result.faults), str(result.errors),
             str(len(result.versions)), "PASS" if result.passed else "FAIL", result.summary)
            for result in results]
    widths = [max(len(header), *(len(row[column]) for row in rows)) if rows else len(header)
              for column, header in enumerate(headers)]
    lines = ["  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)),
             "  ".join("-" * width for width in widths)]
    lines.extend("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                 for row in rows)
    return "\n".join(lines)


def markdown_table(results: Sequence[CheckResult]) -> str:
    """The same table as Markdown, for docs/reliability.md."""
    lines = ["| check | rounds | faults injected | errors seen | versions seen | verdict | figures |",
             "|---|---:|---:|---:|---:|---|---|"]
    lines.extend(f"| {result.name} | {result.rounds} | {result.faults} | {result.errors} | "
                 f"{len(result.versions)} | {'PASS' if result.passed else 'FAIL'} | {result.summary} |"
                 for result in results)
    return "\n".join(lines)


def write_report(folder: Path, results: Sequence[CheckResult], run: Mapping[str, Any]) -> Path:
    """Write ``reliability.json`` (and the Markdown table) into ``folder``; returns the JSON path."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"run": json_safe(run), "passed": all(result.passed for result in results),
               "checks": [result.as_dict() for result in results]}
    path = folder / "reliability.json"
    write_json(path, payload, indent=2)
    (folder / "reliability.md").write_text(markdown_table(results) + "\n", encoding="utf-8")
    return path
