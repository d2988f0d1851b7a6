"""``python -m bench.faults.reliability``: fault injection and load checks, a table of figures, exit 1 on failure.

Checks (``--only`` takes the group names):

- ``crash``: SIGKILL ``grounded ingest`` at moments spread over every stage, >= 50 rounds.
- ``corruption``: byte flips and truncations of every index file, re-signed damaged files, a served
  index whose new version is corrupted, a full disk and failing fsyncs during ingest.
- ``reload``: 16 clients query while the index is hot-reloaded 20 times between two versions.
- ``ingest-while-serving``: ``grounded ingest`` into the served folder while clients query.
- ``load``: capacity, then 2 minutes at 70 % of it; ``overload``: 1 minute at 4x capacity.

Everything runs on 127.0.0.1 in a scratch folder, every loop is bounded in rounds and time, and
``--quick`` shrinks all of it to run in a minute or two. The JSON report goes to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from bench.common.paths import REPO
from bench.common.process import log
from bench.faults.crash import CrashConfig, run_crash_loop
from bench.faults.disk import DiskConfig, run_disk_full, run_fsync_failures
from bench.faults.report import CheckResult, format_table, write_report

GROUPS = ("crash", "corruption", "reload", "ingest-while-serving", "load", "overload")
DEFAULT_OUT = Path("reliability-report")


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """Sizes and durations of one run (full or ``--quick``)."""

    crash_documents: int
    crash_rounds: int
    sweep_flips: int
    fuzz_cases: int
    disk_rounds: int
    disk_documents: int
    serving_documents: int
    reloads: int
    ingests: int
    pause_seconds: float
    load_documents: int
    levels: tuple[int, ...]
    capacity_seconds: float
    steady_seconds: float
    overload_seconds: float
    probe_seconds: float


FULL = Profile(crash_documents=300, crash_rounds=50, sweep_flips=100, fuzz_cases=30, disk_rounds=12,
               disk_documents=30, serving_documents=120, reloads=20, ingests=3, pause_seconds=0.5,
               load_documents=300, levels=(1, 2, 4, 6), capacity_seconds=10.0, steady_seconds=120.0,
               overload_seconds=60.0, probe_seconds=20.0)
QUICK = Profile(crash_documents=24, crash_rounds=5, sweep_flips=10, fuzz_cases=4, disk_rounds=2,
                disk_documents=10, serving_documents=24, reloads=4, ingests=1, pause_seconds=0.2,
                load_documents=40, levels=(1, 4), capacity_seconds=2.0, steady_seconds=5.0,
                overload_seconds=5.0, probe_seconds=10.0)


def _groups(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [group for group in chosen if group not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown check {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    return chosen


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.faults.reliability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small corpora, few rounds, short loads")
    parser.add_argument("--only", type=_groups, default=GROUPS, help=f"comma-separated subset of {','.join(GROUPS)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default: %(default)s)")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--keep-workdir", action="store_true", help="leave the scratch folder for inspection")
    parser.add_argument("--rounds", type=int, default=None, help="crash-loop rounds (default: 50, quick 5)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of corpora, edits and fault points")
    parser.add_argument("--load-model", default="default",
                        help="embedder of the load and overload index: 'default' is the served all-MiniLM-L6-v2 "
                             "(queries cost about 17 ms); 'hashing:384' is a pure-Python stress variant")
    parser.add_argument("--load-documents", type=int, default=None,
                        help="articles in the load index (default: 300, quick 40)")
    return parser


def _guarded(name: str, check: Callable[[], list[CheckResult]]) -> list[CheckResult]:
    """Run one check; an exception becomes a failed row (the other checks still run)."""
    started = time.monotonic()
    log(f"--- {name}")
    try:
        return check()
    except Exception as error:  # reported as a failed check, with its type and message
        log(f"{name} stopped: {type(error).__name__}: {error}")
        return [CheckResult(name=name, rounds=0, faults=0, errors=1, versions=(),
                            seconds=time.monotonic() - started, summary=f"stopped: {type(error).__name__}",
                            problems=(f"{type(error).__name__}: {error}",))]


def plan(groups: Sequence[str], profile: Profile, workdir: Path, args: argparse.Namespace,
         ) -> list[tuple[str, Callable[[], list[CheckResult]]]]:
    """The checks to run, in order, as ``(name, thunk)``."""
    seed, rounds = args.seed, args.rounds
    from bench.faults.corruption import SweepConfig, run_corruption_sweep
    from bench.faults.fuzz import FuzzConfig, run_resigned_fuzz
    from bench.faults.load import LoadConfig, run_load_checks
    from bench.faults.serving import (
        ServingConfig,
        run_ingest_while_serving,
        run_reload_under_load,
        run_served_corruption,
    )

    serving = ServingConfig(workdir=workdir, documents=profile.serving_documents, reloads=profile.reloads,
                            ingests=profile.ingests, pause_seconds=profile.pause_seconds, seed=seed % 1000)
    disk = DiskConfig(workdir=workdir, documents=profile.disk_documents, rounds=profile.disk_rounds, seed=seed % 997)
    steps: list[tuple[str, Callable[[], list[CheckResult]]]] = []
    if "crash" in groups:
        crash = CrashConfig(workdir=workdir, documents=profile.crash_documents,
                            rounds=rounds if rounds is not None else profile.crash_rounds, seed=seed)
        steps.append(("crash loop", lambda: [run_crash_loop(crash)]))
    if "corruption" in groups:
        sweep = SweepConfig(workdir=workdir, flips_per_file=profile.sweep_flips, seed=seed % 991)

        def corruption() -> list[CheckResult]:
            swept = run_corruption_sweep(sweep)
            fuzz = FuzzConfig(index_dir=workdir / "corruption" / "index", workdir=workdir,
                              cases_per_file=profile.fuzz_cases, seed=seed % 983)
            return [swept, run_resigned_fuzz(fuzz)]

        steps.append(("corruption sweep", corruption))
        steps.append(("served corruption", lambda: [run_served_corruption(serving)]))
        steps.append(("disk full", lambda: [run_disk_full(disk)]))
        steps.append(("fsync failures", lambda: [run_fsync_failures(disk)]))
    if "reload" in groups:
        steps.append(("hot reload under load", lambda: [run_reload_under_load(serving)]))
    if "ingest-while-serving" in groups:
        steps.append(("ingest while serving", lambda: [run_ingest_while_serving(serving)]))
    if "load" in groups or "overload" in groups:
        load = LoadConfig(workdir=workdir, documents=args.load_documents or profile.load_documents,
                          levels=profile.levels, model=None if args.load_model == "default" else args.load_model,
                          capacity_seconds=profile.capacity_seconds, steady_seconds=profile.steady_seconds,
                          overload_seconds=profile.overload_seconds, probe_seconds=profile.probe_seconds,
                          seed=seed % 977)
        steps.append(("load", lambda: run_load_checks(load, steady="load" in groups, overload="overload" in groups)))
    return steps


def _run_facts(args: argparse.Namespace, started: float) -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False, cwd=REPO).stdout.strip()
    return {"command": " ".join(["python -m bench.faults.reliability", *sys.argv[1:]]), "quick": args.quick,
            "checks": list(args.only), "seed": args.seed, "commit": commit or None,
            "python": platform.python_version(), "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(),
            "seconds": round(time.monotonic() - started, 1)}


def _exit_on_terminate(number: int, frame: FrameType | None) -> None:
    sys.exit(128 + number)


def main(argv: Sequence[str] | None = None, *, printer: Callable[[str], None] = print) -> int:
    """Run the selected checks, print the table, write the report; 1 when any check failed."""
    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like an exception, so servers stop, tmpfs mounts go and the scratch folder is removed.
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    started = time.monotonic()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="grounded-reliability-"))
    workdir.mkdir(parents=True, exist_ok=True)
    profile = QUICK if args.quick else FULL
    results: list[CheckResult] = []
    try:
        for name, step in plan(args.only, profile, workdir, args):
            results.extend(_guarded(name, step))
    finally:
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    path = write_report(args.out, results, _run_facts(args, started))
    printer(format_table(results))
    for result in results:
        for problem in result.problems[:5]:
            printer(f"  {result.name}: {problem}")
    passed = all(result.passed for result in results)
    printer(f"{'all checks passed' if passed else 'FAILED'}; report: {path}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
