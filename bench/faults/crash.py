"""Crash loop: SIGKILL ``grounded ingest`` at chosen moments of every stage, then check the folder.

Each round edits a few articles of a generated corpus, runs an uninterrupted reference ingest
(into a copy of the index, through the same ``index.build.ingest`` the command calls), starts
``grounded ingest`` on the real index and kills it at a moment aimed at one stage (read, chunk,
embed, publish, or anywhere). After the kill the index must load and be exactly the previous or the
reference version; a re-run must then complete, equal the reference byte for byte, and have
removed the killed run's leftovers.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.corpus import edit_corpus, write_corpus
from bench.common.paths import REPO
from bench.common.process import log
from bench.faults.ingest import (
    GROUNDED,
    child_environment,
    corpus_hashes,
    finished_versions,
    folder_digest,
    ingest_command,
    leftovers,
    manifest_hashes,
)
from bench.faults.report import CheckResult, Problems
from index import build
from index.errors import IndexFolderError
from index.layout import STAGING_PREFIX, VERSIONS_NAME, current_version
from index.load import load_index
from ingest.embedding import HashingEmbedder

STAGES = ("startup", "read", "chunk", "embed", "publish")
TARGETS = ("read", "chunk", "embed", "publish", "anywhere")
_STAGE_FUNCTIONS = {"read_corpus": "read", "segment_corpus": "chunk",
                    "load_previous_vectors": "embed", "embed_texts": "embed", "publish": "publish"}


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashConfig:
    """Corpus size, number of kills (``rounds``) and limits of the crash loop."""

    workdir: Path
    documents: int = 300
    rounds: int = 50
    seed: int = 20240601
    edit_fraction: float = 0.03
    fresh_reference_every: int = 10
    time_limit: float = 3600.0


@contextmanager
def timed_stages() -> Iterator[dict[str, float]]:
    """Time the stages of ``index.build.ingest`` by wrapping the functions it calls, then restore."""
    seconds: dict[str, float] = dict.fromkeys(STAGES[1:], 0.0)
    originals = {name: getattr(build, name) for name in _STAGE_FUNCTIONS}

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[_STAGE_FUNCTIONS[name]] += time.perf_counter() - started
        return timed

    for name, function in originals.items():
        setattr(build, name, wrap(name, function))
    try:
        yield seconds
    finally:
        for name, function in originals.items():
            setattr(build, name, function)


POLL_SECONDS = 0.002
"""How often a running child's index folder is looked at (a publish writes for about 0.5 s)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildRun:
    """A ``grounded ingest`` child as observed from outside: exit, kill, and when it was publishing.

    ``publish_start``/``publish_end`` are the seconds (from the child's start) at which a new
    ``versions/.staging-*`` folder was first and last seen; None when none appeared.
    """

    returncode: int
    seconds: float
    killed_at: float | None
    publish_start: float | None
    publish_end: float | None
    report: dict[str, Any] | None
    stderr: str


def _staging_names(index_dir: Path) -> set[str]:
    try:
        return {name for name in os.listdir(index_dir / VERSIONS_NAME) if name.startswith(STAGING_PREFIX)}
    except FileNotFoundError:
        return set()


def observed_ingest(corpus: Path, index_dir: Path, scratch: Path, *, kill_at: float | None = None,
                    kill_after_publish_start: float | None = None, timeout: float = 600.0) -> ChildRun:
    """Run ``grounded ingest --json``, watching the index folder; SIGKILL it at ``kill_at`` seconds or
    ``kill_after_publish_start`` seconds after its staging folder appeared (whichever is given)."""
    old_staging = _staging_names(index_dir)
    stdout_path, stderr_path = scratch / "child.stdout", scratch / "child.stderr"
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        child = subprocess.Popen(ingest_command(corpus, index_dir, as_json=True), cwd=REPO,
                                 env=child_environment(), stdout=stdout, stderr=stderr)
        started = time.perf_counter()
        first_seen = last_seen = killed_at = None
        while child.poll() is None:
            now = time.perf_counter() - started
            if _staging_names(index_dir) - old_staging:
                first_seen = now if first_seen is None else first_seen
                last_seen = now
            due = kill_at if kill_after_publish_start is None else (
                None if first_seen is None else first_seen + kill_after_publish_start)
            if (due is not None and now >= due) or now > timeout:
                child.send_signal(signal.SIGKILL)
                killed_at = now
                break
            time.sleep(POLL_SECONDS)
        returncode = child.wait(timeout=60)
        seconds = time.perf_counter() - started
    report = None
    if returncode == 0:
        parsed = json.loads(stdout_path.read_text(encoding="utf-8"))
        report = parsed if isinstance(parsed, dict) else None
    return ChildRun(returncode=returncode, seconds=seconds, killed_at=killed_at, publish_start=first_seen,
                    publish_end=last_seen, report=report,
                    stderr=stderr_path.read_text(encoding="utf-8", errors="replace").strip())


def measure_startup() -> float:
    """Seconds a child needs to start Python and import what ``grounded ingest`` imports."""
    started = time.perf_counter()
    subprocess.run([GROUNDED[0], "-c", "import grounded.cli, index.build, ingest.embedding"], cwd=REPO,
                   env=child_environment(), check=True, timeout=120)
    return time.perf_counter() - started


def stage_windows(stage_seconds: dict[str, float], startup: float,
                  previous: ChildRun) -> dict[str, tuple[float, float]]:
    """Estimated ``[start, end)`` second of each stage of the next child run.

    The publish window is the one observed in ``previous`` (an uninterrupted run), start-up is
    measured, and the time between them is split between the read, chunk and embed stages in the
    proportions the in-process reference run measured.
    """
    publish_start = previous.publish_start if previous.publish_start is not None else previous.seconds * 0.9
    publish_end = max(previous.publish_end or previous.seconds, publish_start + 0.05)
    startup = min(startup, publish_start * 0.5)
    staged = sum(stage_seconds[stage] for stage in ("read", "chunk", "embed")) or 1.0
    scale = (publish_start - startup) / staged
    windows = {"startup": (0.0, startup)}
    cursor = startup
    for stage in ("read", "chunk", "embed"):
        length = stage_seconds[stage] * scale
        windows[stage] = (cursor, cursor + length)
        cursor += length
    windows["publish"] = (publish_start, publish_end)
    return windows


def stage_at(windows: dict[str, tuple[float, float]], moment: float) -> str:
    """The pre-publish stage whose window holds ``moment`` (``embed`` when past them all)."""
    for stage in ("startup", "read", "chunk", "embed"):
        if windows[stage][0] <= moment < windows[stage][1]:
            return stage
    return "embed"


def kill_plan(target: str, windows: dict[str, tuple[float, float]],
              rng: random.Random) -> tuple[float | None, float | None]:
    """``(kill_at, kill_after_publish_start)`` for a target stage.

    Publish kills wait for the child's staging folder to appear, then strike within the observed
    length of a publish (or a little after, to catch the switch of ``CURRENT`` and the clean-up);
    the other stages give no outside signal, so they are aimed by time within their estimated
    windows (run-to-run noise moves some kills into a neighbouring stage; the report classifies
    each kill by what the child had done, when there is evidence).
    """
    publish_start, publish_end = windows["publish"]
    if target == "publish":
        return None, rng.uniform(0.0, 1.4 * (publish_end - publish_start))
    if target == "anywhere":
        return rng.uniform(0.0, publish_end), None
    start, end = windows[target]
    return rng.uniform(start, min(max(end, start + 0.01), publish_start)), None


def _copy_index(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Kill:
    """What one killed run did: when it died, in which stage, what it left and what loads after."""

    at: float
    target: str
    stage: str
    finished_first: bool
    leftovers: tuple[str, ...]
    outcome: str


def run_crash_loop(config: CrashConfig) -> CheckResult:
    """The crash loop; see the module docstring."""
    started = time.monotonic()
    deadline = started + config.time_limit
    root = config.workdir / "crash"
    shutil.rmtree(root, ignore_errors=True)
    corpus, index_dir, reference_dir, scratch = root / "corpus", root / "index", root / "reference", root / "scratch"
    write_corpus(corpus, config.documents, config.seed)
    scratch.mkdir(parents=True)
    first = observed_ingest(corpus, index_dir, scratch)
    problems = Problems()
    if first.returncode != 0 or first.report is None:
        problems.add(f"initial ingest failed ({first.returncode}): {first.stderr[-500:]}")
        return CheckResult(name="crash loop (SIGKILL ingest)", rounds=0, faults=0, errors=problems.count,
                           versions=(), seconds=time.monotonic() - started, summary="initial ingest failed",
                           problems=tuple(problems.kept))
    chunks = first.report.get("chunks")
    startup = measure_startup()
    log(f"crash: corpus of {config.documents} articles, {chunks} chunks, first ingest {first.seconds:.1f} s, "
        f"child start-up {startup:.1f} s")
    rng = random.Random(config.seed)  # noqa: S311 -- seeded test data, not secrets
    embedder = HashingEmbedder(384)
    previous_run = first
    kills: list[Kill] = []
    versions: list[str] = [str(first.report.get("index_version"))]
    rerun_seconds: list[float] = []
    fresh_checks = 0
    rounds = 0
    # A child that finishes before its kill moment injects no fault: go on until ``rounds`` kills
    # landed (at most twice as many rounds).
    for number in range(2 * config.rounds):
        if sum(1 for kill in kills if not kill.finished_first) >= config.rounds:
            break
        if time.monotonic() > deadline:
            problems.add(f"time limit of {config.time_limit:.0f} s reached after {rounds} rounds")
            break
        rounds += 1
        previous_version = current_version(index_dir)
        previous_hashes = manifest_hashes(index_dir)
        edit_corpus(corpus, config.seed * 1000 + number, config.edit_fraction)
        expected_hashes = corpus_hashes(corpus)
        _copy_index(index_dir, reference_dir)
        with timed_stages() as stage_seconds:
            reference = build.ingest([corpus], reference_dir, embedder).manifest.index_version
        reference_files = folder_digest(reference_dir / VERSIONS_NAME / reference)
        windows = stage_windows(stage_seconds, startup, previous_run)
        target = TARGETS[number % len(TARGETS)]
        kill_at, kill_after_publish_start = kill_plan(target, windows, rng)
        killed = observed_ingest(corpus, index_dir, scratch, kill_at=kill_at,
                                 kill_after_publish_start=kill_after_publish_start)
        finished_first = killed.killed_at is None
        at = killed.killed_at if killed.killed_at is not None else killed.seconds
        debris = leftovers(index_dir)
        try:
            loaded = load_index(index_dir).index_version
        except IndexFolderError as error:
            loaded = None
            problems.add(f"round {number}: index does not load after a kill at {at:.2f} s: {error}")
        hashes = manifest_hashes(index_dir)
        if loaded == previous_version:
            outcome = "previous"
            problems.check(hashes == previous_hashes,
                           f"round {number}: previous version but other documents")
        elif loaded == reference:
            outcome = "new"
            problems.check(hashes == expected_hashes, f"round {number}: new version but other documents")
        else:
            outcome = "other"
            problems.add(f"round {number}: version {loaded} after the kill is neither the previous "
                         f"{previous_version} nor the new {reference}")
        # Evidence first (the child finished, was publishing, or had switched CURRENT); time otherwise.
        if finished_first:
            stage = "finished"
        elif killed.publish_start is not None or outcome == "new":
            stage = "publish"
        else:
            stage = stage_at(windows, at)
        kills.append(Kill(at=at, target=target, stage=stage, finished_first=finished_first,
                          leftovers=tuple(debris), outcome=outcome))
        rerun = observed_ingest(corpus, index_dir, scratch)
        rerun_seconds.append(rerun.seconds)
        if not problems.check(rerun.returncode == 0 and rerun.report is not None,
                              f"round {number}: re-run failed ({rerun.returncode}): {rerun.stderr[-300:]}"):
            continue
        if rerun.publish_start is not None:
            previous_run = rerun
        rerun_version = rerun.report.get("index_version") if rerun.report else None
        problems.check(rerun_version == reference,
                       f"round {number}: re-run gave {rerun_version}, uninterrupted run {reference}")
        problems.check(folder_digest(index_dir / VERSIONS_NAME / reference) == reference_files,
                       f"round {number}: re-run's version folder differs from the uninterrupted run's")
        remaining = leftovers(index_dir)
        problems.check(not remaining, f"round {number}: leftovers after the re-run: {remaining}")
        problems.check(len(finished_versions(index_dir)) <= 2,
                       f"round {number}: {len(finished_versions(index_dir))} versions kept (keep=2)")
        versions.extend(version for version in (loaded, reference) if version and version not in versions)
        if config.fresh_reference_every and number % config.fresh_reference_every == 0:
            shutil.rmtree(reference_dir)
            fresh = build.ingest([corpus], reference_dir, embedder).manifest.index_version
            fresh_checks += 1
            problems.check(fresh == reference,
                           f"round {number}: ingest into an empty folder gave {fresh}, not {reference}")
        landed = sum(1 for kill in kills if not kill.finished_first)
        log(f"crash round {number + 1} ({landed}/{config.rounds} kills): target {target}, killed at {at:.2f} s "
            f"({stage}), index {outcome}, leftovers {len(debris)}, re-run {rerun.seconds:.1f} s")
    shutil.rmtree(reference_dir, ignore_errors=True)
    injected = [kill for kill in kills if not kill.finished_first]
    stages = Counter(kill.stage for kill in kills)
    outcomes = Counter(kill.outcome for kill in kills)
    with_leftovers = sum(1 for kill in kills if kill.leftovers)
    by_stage = ", ".join(f"{stage} {stages[stage]}" for stage in (*STAGES, "finished") if stages[stage])
    summary = (f"{len(injected)} kills ({by_stage}); "
               f"after kill: previous {outcomes['previous']}, new {outcomes['new']}; "
               f"leftovers cleaned {with_leftovers}/{with_leftovers}" if not problems.count else
               f"{len(injected)} kills; {problems.count} violations")
    return CheckResult(
        name="crash loop (SIGKILL ingest)", rounds=rounds, faults=len(injected), errors=problems.count,
        versions=tuple(versions), seconds=time.monotonic() - started, summary=summary,
        problems=tuple(problems.kept),
        figures={
            "documents": config.documents, "chunks": chunks, "first_ingest_seconds": round(first.seconds, 2),
            "observed_publish_seconds": round(windows["publish"][1] - windows["publish"][0], 3) if kills else None,
            "kills_by_stage": dict(stages), "after_kill": dict(outcomes),
            "kills_with_leftovers": with_leftovers, "fresh_folder_reference_checks": fresh_checks,
            "rerun_seconds": {"min": round(min(rerun_seconds, default=0.0), 2),
                              "max": round(max(rerun_seconds, default=0.0), 2)},
            "kills": [{"at_seconds": round(kill.at, 3), "target": kill.target, "stage": kill.stage,
                       "outcome": kill.outcome, "leftovers": list(kill.leftovers)} for kill in kills],
        },
    )
