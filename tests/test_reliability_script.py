"""``python -m bench.faults.reliability --quick``: runs, prints the table, writes the report, exits by verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common.load import Outcome
from bench.faults.load import recovery_seconds
from bench.faults.reliability import QUICK, build_parser
from bench.faults.report import CheckResult, format_table, markdown_table
from tests.support.paths import REPO


def _probe(due: float, latency_ms: float, status: int = 200) -> Outcome:
    return Outcome(due=due, latency_ms=latency_ms, status=status)


def test_recovery_is_the_first_probe_after_which_latency_stays_normal() -> None:
    slow = [_probe(number * 0.1, 500.0) for number in range(10)]
    fast = [_probe(1.0 + number * 0.1, 3.0) for number in range(10)]
    assert recovery_seconds([*slow, *fast], threshold_ms=10.0) == pytest.approx(1.0)
    # A relapse at the end means it never recovered for good.
    assert recovery_seconds([*fast, *slow], threshold_ms=10.0) is None
    # A refusal inside the last window is not normal either.
    assert recovery_seconds([*fast[:-1], _probe(2.0, 3.0, 503)], threshold_ms=10.0) is None


def test_the_table_has_one_row_per_check_and_the_verdict() -> None:
    results = [
        CheckResult(name="crash loop", rounds=50, faults=48, errors=0, versions=("a" * 64, "b" * 64),
                    seconds=1.0, summary="48 kills"),
        CheckResult(name="overload", rounds=1, faults=900, errors=2, versions=("a" * 64,), seconds=1.0,
                    summary="slow refusals", problems=("p99 3 s",)),
    ]
    table = format_table(results).splitlines()
    assert table[0].split()[:2] == ["check", "rounds"]
    assert table[2].startswith("crash loop") and " PASS " in table[2] and " 48 " in table[2]
    assert table[3].startswith("overload") and " FAIL " in table[3] and " 900 " in table[3]
    assert markdown_table(results).count("\n") == 3
    assert [result.passed for result in results] == [True, False]


def test_only_accepts_the_named_checks() -> None:
    parser = build_parser()
    assert parser.parse_args(["--only", "crash,load"]).only == ("crash", "load")
    with pytest.raises(SystemExit):
        parser.parse_args(["--only", "crash,typo"])
    assert QUICK.crash_rounds < 50 and QUICK.steady_seconds < 120


@pytest.mark.slow
def test_quick_mode_runs_every_check_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "report"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "bench.faults.reliability", "--quick", "--out", str(out),
         "--workdir", str(tmp_path / "work")],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads((out / "reliability.json").read_text(encoding="utf-8"))
    names = [check["name"] for check in report["checks"]]
    assert names == [
        "crash loop (SIGKILL ingest)", "corruption: flips + truncations", "corruption: re-signed files (parsers)",
        "corruption: served index", "disk full during ingest", "fsync failure during ingest",
        "hot reload under load", "ingest while serving", "capacity (closed loop)", "steady load (70%)",
        "overload (4x capacity)",
    ], result.stderr[-3000:]
    assert result.returncode == (0 if report["passed"] else 1)
    for check in report["checks"]:
        assert check["rounds"] > 0, check
        assert f"{check['name']}" in result.stdout
    # The checks that must hold on any healthy build; the load checks depend on what else the machine
    # runs, so a CI run reports them without failing on them.
    must_pass = {"crash loop (SIGKILL ingest)", "corruption: flips + truncations",
                 "corruption: re-signed files (parsers)", "corruption: served index", "disk full during ingest",
                 "fsync failure during ingest", "hot reload under load", "ingest while serving"}
    failed = {check["name"]: check["problems"] for check in report["checks"]
              if check["name"] in must_pass and not check["passed"]}
    assert failed == {}
    assert (out / "reliability.md").read_text(encoding="utf-8").startswith("| check |")
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())
