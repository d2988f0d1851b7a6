"""Capacity, steady load at 70 % of it, and overload at 4x, against ``grounded serve`` on loopback.

Capacity is the best answered-queries-per-second of closed-loop clients at a few concurrency levels
(the client shares the machine's cores with the server, as a co-located caller would). Steady and
overload runs are open loop: requests leave at a fixed rate whatever the answers take, and each
latency counts from the moment its request was due. The server runs with its default admission
settings and the result cache off, so every admitted query does the full work.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.corpus import questions_from, write_corpus
from bench.common.load import Outcome, QueryLoad, closed_loop, latency_summary, open_loop, status_counts
from bench.common.process import log
from bench.common.server import Server
from bench.faults.report import CheckResult, Problems
from index import build
from ingest.embedding import load_embedder

SHED_STATUSES = (429, 503)
RECOVERY_WINDOW = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadConfig:
    """Durations, rates and limits of the load checks."""

    workdir: Path
    documents: int = 300
    levels: tuple[int, ...] = (1, 2, 4, 6)
    capacity_seconds: float = 10.0
    steady_fraction: float = 0.7
    steady_seconds: float = 120.0
    overload_factor: float = 4.0
    overload_seconds: float = 60.0
    probe_seconds: float = 15.0
    baseline_seconds: float = 5.0
    timeout_seconds: float = 30.0
    recovery_limit_seconds: float = 10.0
    shed_p99_limit_ms: float = 2000.0
    connections: int = 512
    server_env: tuple[tuple[str, str], ...] = ()
    model: str | None = "hashing:384"
    """``--model`` of the index: ``hashing:384``, or None for the default real model."""
    seed: int = 9


@dataclass(frozen=True, slots=True, kw_only=True)
class Capacity:
    """Answered queries per second: the best level, the sequential one, and each level's figures."""

    queries_per_second: float
    sequential_per_second: float
    sequential_p50_ms: float
    levels: dict[str, dict[str, Any]]


def measure_capacity(load: QueryLoad, levels: Sequence[int], seconds: float) -> Capacity:
    """Closed-loop throughput of 200s at each concurrency level (after a short warm-up)."""
    closed_loop(load, clients=max(levels), seconds=min(2.0, seconds))
    figures: dict[str, dict[str, Any]] = {}
    best = sequential = sequential_p50 = 0.0
    for clients in levels:
        outcomes, wall = closed_loop(load, clients=clients, seconds=seconds)
        answered = [outcome for outcome in outcomes if outcome.status == 200]
        rate = len(answered) / wall if wall > 0 else 0.0
        latency = latency_summary(outcomes, lambda outcome: outcome.status == 200)
        figures[str(clients)] = {"queries_per_second": round(rate, 1), "latency_ms": latency,
                                 "statuses": status_counts(outcomes)}
        best = max(best, rate)
        if clients == 1:
            sequential, sequential_p50 = rate, float(latency["p50"])
        log(f"capacity: {clients} clients: {rate:.1f} answered/s, p50 {latency['p50']} ms")
    return Capacity(queries_per_second=best, sequential_per_second=sequential,
                    sequential_p50_ms=sequential_p50, levels=figures)


def recovery_seconds(probes: Sequence[Outcome], threshold_ms: float) -> float | None:
    """When, after the load stopped, a lone client's median latency returned under ``threshold_ms``.

    The moment of the first normal probe (a 200 under the threshold) from which every window of
    ``RECOVERY_WINDOW`` consecutive probes has only 200s and a median under the threshold (single
    slow probes later on are noise, not a relapse); None when that never happened.
    """
    recovered_from: float | None = None
    for start in range(len(probes) - RECOVERY_WINDOW, -1, -1):
        window = probes[start : start + RECOVERY_WINDOW]
        if not all(probe.status == 200 for probe in window) or statistics.median(
                probe.latency_ms for probe in window) > threshold_ms:
            break
        if window[0].latency_ms <= threshold_ms:
            recovered_from = window[0].due
    return recovered_from


def _judge_rates(problems: Problems, outcomes: Sequence[Outcome], *, allow_shed: bool) -> dict[str, int]:
    """Count what the rules forbid: failures and 5xx always, 503/429 unless ``allow_shed``."""
    counts = status_counts(outcomes)
    for outcome in outcomes:
        if outcome.status == 200:
            continue
        if outcome.status in SHED_STATUSES and allow_shed:
            problems.check(bool(outcome.retry_after), f"{outcome.status} at {outcome.due:.2f} s without Retry-After")
            continue
        problems.add(f"request due at {outcome.due:.2f} s: {outcome.status or outcome.failure} ({outcome.error_code})")
    return counts


def run_load_checks(config: LoadConfig, *, steady: bool, overload: bool) -> list[CheckResult]:
    """Capacity, then the steady and/or overload runs, on one server over a generated index."""
    root = config.workdir / "load"
    shutil.rmtree(root, ignore_errors=True)
    write_corpus(root / "corpus", config.documents, config.seed)
    report = build.ingest([root / "corpus"], root / "index", load_embedder(config.model))
    version = report.manifest.index_version
    questions = questions_from(root / "corpus", 2000, config.seed)
    results: list[CheckResult] = []
    with Server(root / "index", extra_env=dict(config.server_env)) as server:
        load = QueryLoad(server.host, server.port, questions, seed=config.seed, timeout=config.timeout_seconds)
        started = time.monotonic()
        capacity = measure_capacity(load, config.levels, config.capacity_seconds)
        problems = Problems()
        problems.check(capacity.queries_per_second > 0, "no query was answered while measuring capacity")
        results.append(CheckResult(
            name="capacity (closed loop)", rounds=len(config.levels), faults=0, errors=problems.count,
            versions=(version,), seconds=time.monotonic() - started,
            summary=(f"{capacity.queries_per_second:.0f} answered/s at best, {capacity.sequential_per_second:.0f}/s "
                     f"sequential (p50 {capacity.sequential_p50_ms:.1f} ms); {report.chunk_count} chunks, "
                     f"{report.manifest.model_id}"),
            problems=tuple(problems.kept),
            figures={"chunks": report.chunk_count, "model": report.manifest.model_id, "levels": capacity.levels,
                     "queries_per_second": round(capacity.queries_per_second, 1)}))
        if capacity.queries_per_second <= 0:
            return results
        if steady:
            results.append(_steady(load, capacity, config, version))
        if overload:
            results.append(_overload(load, capacity, config, version))
    return results


def _errors_by_second(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Non-200 answers per second of the run (when they were due): bursts versus a steady trickle."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.status != 200:
            second = str(int(outcome.due))
            counts[second] = counts.get(second, 0) + 1
    return counts


def _steady(load: QueryLoad, capacity: Capacity, config: LoadConfig, version: str) -> CheckResult:
    started = time.monotonic()
    rate = config.steady_fraction * capacity.queries_per_second
    log(f"steady: {rate:.1f} requests/s for {config.steady_seconds:.0f} s")
    run = open_loop(load, rate=rate, seconds=config.steady_seconds)
    problems = Problems()
    counts = _judge_rates(problems, run.outcomes, allow_shed=False)
    latency = latency_summary(run.outcomes, lambda outcome: outcome.status == 200)
    summary = (f"{rate:.0f}/s ({config.steady_fraction:.0%} of capacity) for {config.steady_seconds:.0f} s: "
               f"{len(run.outcomes)} requests, {problems.count} errors; "
               f"p50 {latency['p50']} ms, p99 {latency['p99']} ms")
    log(f"steady: {summary}")
    return CheckResult(
        name=f"steady load ({config.steady_fraction:.0%})", rounds=1, faults=0, errors=problems.count,
        versions=(version,), seconds=time.monotonic() - started, summary=summary, problems=tuple(problems.kept),
        figures={"rate_per_second": round(rate, 2), "seconds": config.steady_seconds, "statuses": counts,
                 "latency_ms": latency, "late_sends": run.late_sends,
                 "errors_by_second": _errors_by_second(run.outcomes),
                 "late_by_second_ms": run.late_by_second,
                 "achieved_send_rate": round(len(run.outcomes) / run.sent_seconds, 2)})


def _overload(load: QueryLoad, capacity: Capacity, config: LoadConfig, version: str) -> CheckResult:
    started = time.monotonic()
    rate = config.overload_factor * capacity.queries_per_second
    log(f"overload: {rate:.1f} requests/s for {config.overload_seconds:.0f} s")
    run = open_loop(load, rate=rate, seconds=config.overload_seconds, connections=config.connections,
                    probe_seconds=config.probe_seconds, baseline_seconds=config.baseline_seconds)
    problems = Problems()
    counts = _judge_rates(problems, run.outcomes, allow_shed=True)
    answered = [outcome for outcome in run.outcomes if outcome.status == 200]
    shed = [outcome for outcome in run.outcomes if outcome.status in SHED_STATUSES]
    admitted = latency_summary(answered, lambda outcome: True)
    refused = latency_summary(shed, lambda outcome: True)
    problems.check(bool(answered), "no request was answered during overload")
    if shed:
        problems.check(float(refused["p99"]) <= config.shed_p99_limit_ms,
                       f"refusals are slow: p99 {refused['p99']} ms > {config.shed_p99_limit_ms:.0f} ms")
    # "Normal" is what the same lone client, probing at the same interval, saw before the load
    # (an idle server answering one query every 100 ms is slower than back-to-back sequential
    # queries: caches and CPU frequency cool down); the closed-loop p50 stands in without a baseline.
    baseline = [probe.latency_ms for probe in run.baseline_probes if probe.status == 200]
    normal_ms = statistics.median(baseline) if baseline else capacity.sequential_p50_ms
    threshold = max(2 * normal_ms, normal_ms + 5.0)
    recovered = recovery_seconds(run.probes, threshold)
    problems.check(recovered is not None and recovered <= config.recovery_limit_seconds,
                   f"a lone client's median latency did not return under {threshold:.1f} ms within "
                   f"{config.recovery_limit_seconds:.0f} s after the load stopped (recovered at {recovered})")
    last_answer = max((outcome.due + outcome.latency_ms / 1000 for outcome in run.outcomes), default=0.0)
    other_5xx = sum(count for status, count in counts.items() if status.isdigit() and status.startswith("5")
                    and int(status) not in SHED_STATUSES)
    hung = sum(count for status, count in counts.items() if not status.isdigit())
    recovered_text = "never" if recovered is None else f"{recovered:.1f} s"
    summary = (f"{rate:.0f}/s ({config.overload_factor:g}x) for {config.overload_seconds:.0f} s: "
               f"{len(answered)} answered (p50 {admitted['p50']} ms, p99 {admitted['p99']} ms), "
               f"{len(shed)} refused 503/429 (p99 {refused['p99']} ms, Retry-After on all: "
               f"{all(outcome.retry_after for outcome in shed)}), other 5xx {other_5xx}, hung/failed {hung}; "
               f"back to normal latency {recovered_text} after the load stopped")
    log(f"overload: {summary}")
    return CheckResult(
        name=f"overload ({config.overload_factor:g}x capacity)", rounds=1, faults=len(run.outcomes),
        errors=problems.count, versions=(version,), seconds=time.monotonic() - started, summary=summary,
        problems=tuple(problems.kept),
        figures={"rate_per_second": round(rate, 2), "seconds": config.overload_seconds, "statuses": counts,
                 "answered_latency_ms": admitted, "refused_latency_ms": refused,
                 "answered_per_second": round(len(answered) / config.overload_seconds, 2),
                 "capacity_per_second": round(capacity.queries_per_second, 2),
                 "other_5xx": other_5xx, "hung_or_failed": hung, "late_sends": run.late_sends,
                 "late_by_second_ms": run.late_by_second,
                 "achieved_send_rate": round(len(run.outcomes) / run.sent_seconds, 2),
                 "backlog_drained_seconds_after_stop": round(max(0.0, last_answer - run.sent_seconds), 3),
                 "recovery_seconds": recovered, "recovery_threshold_ms": round(threshold, 2),
                 "baseline_probe_p50_ms": round(normal_ms, 2), "baseline_probes": len(run.baseline_probes),
                 "probe_latency_ms": [[round(probe.due, 2), round(probe.latency_ms, 2), probe.status]
                                      for probe in run.probes]})
