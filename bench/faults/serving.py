"""Index changes under a live server: hot reload under load, ingest while serving, corrupted versions.

Every check runs ``grounded serve`` on 127.0.0.1 with closed-loop clients querying throughout and
counts every answer that is not a 200 as an error. The admission queue is widened
(``GROUNDED_MAX_QUEUE``) so that these checks, which are about index changes, are not confused with
the designed 503s of admission control (the overload check measures those).
"""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common.corpus import edit_corpus, questions_from, write_corpus
from bench.common.load import BackgroundLoad, Outcome, QueryLoad, status_counts
from bench.common.process import log
from bench.common.server import Server, ServerError
from bench.faults.ingest import run_ingest
from bench.faults.report import CheckResult, Problems
from index import build
from index.fsutil import replace_atomically
from index.layout import CURRENT_NAME, VERSIONS_NAME
from index.load import load_index
from index.publish import publish
from index.records import IndexContent
from ingest.embedding import HashingEmbedder

WIDE_QUEUE = {"GROUNDED_MAX_QUEUE": "64"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingConfig:
    """Corpus size, client count, rounds and pacing of the serving checks."""

    workdir: Path
    documents: int = 120
    clients: int = 16
    reloads: int = 20
    ingests: int = 3
    pause_seconds: float = 0.5
    seed: int = 3
    time_limit: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TwoVersions:
    """An index folder holding versions A (current) and B, their contents and corpus A."""

    index_dir: Path
    corpus: Path
    first: str
    second: str
    contents: dict[str, IndexContent]


def content_of(index_dir: Path) -> IndexContent:
    """The content of the current version, as ``publish`` takes it (publishing it again is a no-op)."""
    index = load_index(index_dir)
    manifest = index.manifest
    return IndexContent(documents=tuple(index.documents.values()), chunks=tuple(index.chunks),
                        sentences=tuple(index.sentences), chunk_vectors=np.asarray(index.chunk_vectors),
                        sentence_vectors=np.asarray(index.sentence_vectors), model_id=manifest.model_id,
                        dimension=manifest.dimension, precision=manifest.precision, chunking=manifest.chunking)


def two_versions(root: Path, documents: int, seed: int) -> TwoVersions:
    """Ingest corpus B, then corpus A (B with a tenth of its articles changed), into one folder."""
    shutil.rmtree(root, ignore_errors=True)
    corpus_a, corpus_b, index_dir = root / "corpus-a", root / "corpus-b", root / "index"
    write_corpus(corpus_a, documents, seed)
    shutil.copytree(corpus_a, corpus_b)
    edit_corpus(corpus_b, seed + 1, fraction=0.1)
    embedder = HashingEmbedder(384)
    second = build.ingest([corpus_b], index_dir, embedder).manifest.index_version
    second_content = content_of(index_dir)
    first = build.ingest([corpus_a], index_dir, embedder).manifest.index_version
    return TwoVersions(index_dir=index_dir, corpus=corpus_a, first=first, second=second,
                       contents={first: content_of(index_dir), second: second_content})


def judge_answers(problems: Problems, outcomes: Sequence[Outcome], allowed: set[str]) -> list[str]:
    """Count non-200 answers and versions outside ``allowed``; returns the versions seen, in order."""
    seen: list[str] = []
    for outcome in outcomes:
        if outcome.status != 200:
            problems.add(f"query due at {outcome.due:.2f} s: status {outcome.status or outcome.failure} "
                         f"({outcome.error_code})")
        elif outcome.index_version not in allowed:
            problems.add(f"query due at {outcome.due:.2f} s answered from {outcome.index_version}")
        if outcome.index_version and outcome.index_version not in seen:
            seen.append(outcome.index_version)
    return seen


def _percentiles(values: Sequence[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"p50 {ordered[len(ordered) // 2]:.0f} ms, max {ordered[-1]:.0f} ms"


def run_reload_under_load(config: ServingConfig) -> CheckResult:
    """``reloads`` reloads alternating between two versions while ``clients`` clients query."""
    started = time.monotonic()
    setup = two_versions(config.workdir / "reload", config.documents, config.seed)
    questions = questions_from(setup.corpus, 500, config.seed)
    problems = Problems()
    reload_ms: list[float] = []
    ways: Counter[str] = Counter()
    stale = 0
    with Server(setup.index_dir, extra_env=WIDE_QUEUE) as server:
        load = QueryLoad(server.host, server.port, questions, seed=config.seed)
        with BackgroundLoad(load, clients=config.clients, max_seconds=config.time_limit) as background:
            time.sleep(config.pause_seconds)
            for number in range(config.reloads):
                if time.monotonic() - started > config.time_limit:
                    problems.add(f"time limit reached after {number} reloads")
                    break
                target = setup.second if number % 2 == 0 else setup.first
                problems.check(publish(setup.index_dir, setup.contents[target]).index_version == target,
                               f"reload {number}: republishing a loaded version gave another version")
                # Every fourth reload by SIGHUP, the others by POST /admin/reload.
                way = "SIGHUP" if number % 4 == 3 else "POST /admin/reload"
                ways[way] += 1
                asked = time.perf_counter()
                if way == "SIGHUP":
                    problems.check(server.reload_signal(target), f"reload {number}: SIGHUP never served {target}")
                else:
                    response = server.reload_http()
                    problems.check(response.status == 200 and target.encode() in response.body,
                                   f"reload {number}: {response.status} {response.body[:200]!r}")
                reload_ms.append((time.perf_counter() - asked) * 1000)
                acknowledged = background.now()
                time.sleep(config.pause_seconds)
                # Queries sent a moment after the reload answered must come from the new version.
                stale += sum(1 for outcome in background.outcomes
                             if outcome.due > acknowledged + 0.05 and outcome.status == 200
                             and outcome.index_version != target and outcome.due < background.now() - 0.1)
        outcomes = background.outcomes
    seen = judge_answers(problems, outcomes, {setup.first, setup.second})
    problems.check(len(seen) == 2 or config.reloads == 0, f"only {len(seen)} versions answered")
    problems.check(stale == 0, f"{stale} queries sent after a reload was acknowledged got the old version")
    counts = status_counts(outcomes)
    summary = (f"{len(outcomes)} queries from {config.clients} clients during {len(reload_ms)} reloads "
               f"({', '.join(f'{way} {count}' for way, count in ways.items())}); statuses {counts}; "
               f"reload {_percentiles(reload_ms)}")
    log(f"reload under load: {summary}")
    return CheckResult(
        name="hot reload under load", rounds=len(reload_ms), faults=len(reload_ms), errors=problems.count,
        versions=tuple(seen), seconds=time.monotonic() - started, summary=summary, problems=tuple(problems.kept),
        figures={"queries": len(outcomes), "statuses": counts, "clients": config.clients,
                 "reload_ms": [round(value, 1) for value in reload_ms], "reload_ways": dict(ways),
                 "stale_after_acknowledged_reload": stale},
    )


def run_ingest_while_serving(config: ServingConfig) -> CheckResult:
    """``grounded ingest`` of a changed corpus into the served folder while clients query."""
    started = time.monotonic()
    setup = two_versions(config.workdir / "ingest-serving", config.documents, config.seed + 10)
    questions = questions_from(setup.corpus, 500, config.seed)
    problems = Problems()
    published = {setup.first}
    ingest_seconds: list[float] = []
    clients = max(1, config.clients // 2)
    with Server(setup.index_dir, extra_env=WIDE_QUEUE) as server:
        load = QueryLoad(server.host, server.port, questions, seed=config.seed)
        with BackgroundLoad(load, clients=clients, max_seconds=config.time_limit) as background:
            time.sleep(config.pause_seconds)
            for number in range(config.ingests):
                if time.monotonic() - started > config.time_limit:
                    problems.add(f"time limit reached after {number} ingests")
                    break
                edit_corpus(setup.corpus, config.seed * 100 + number, fraction=0.05)
                run = run_ingest(setup.corpus, setup.index_dir)
                ingest_seconds.append(run.seconds)
                if not problems.check(run.version is not None,
                                      f"ingest {number} failed ({run.returncode}): {run.stderr[-300:]}"):
                    continue
                published.add(str(run.version))
                response = server.reload_http()
                problems.check(response.status == 200 and str(run.version).encode() in response.body,
                               f"ingest {number}: reload answered {response.status} {response.body[:200]!r}")
                time.sleep(config.pause_seconds)
        outcomes = background.outcomes
    seen = judge_answers(problems, outcomes, published)
    counts = status_counts(outcomes)
    summary = (f"{len(outcomes)} queries from {clients} clients during {len(ingest_seconds)} ingests "
               f"({_percentiles([seconds * 1000 for seconds in ingest_seconds])}) into the served folder; "
               f"statuses {counts}")
    log(f"ingest while serving: {summary}")
    return CheckResult(
        name="ingest while serving", rounds=len(ingest_seconds), faults=len(ingest_seconds), errors=problems.count,
        versions=tuple(seen), seconds=time.monotonic() - started, summary=summary, problems=tuple(problems.kept),
        figures={"queries": len(outcomes), "statuses": counts, "clients": clients,
                 "ingest_seconds": [round(value, 2) for value in ingest_seconds],
                 "published_versions": sorted(published)},
    )


def run_served_corruption(config: ServingConfig) -> CheckResult:
    """Corrupt each file of a newly published version, reload: the old version must keep serving."""
    started = time.monotonic()
    setup = two_versions(config.workdir / "served-corruption", max(8, config.documents // 4), config.seed + 20)
    questions = questions_from(setup.corpus, 200, config.seed)
    problems = Problems()
    rng = random.Random(config.seed)  # noqa: S311 -- seeded test data, not secrets
    refused: Counter[str] = Counter()
    second_dir = setup.index_dir / VERSIONS_NAME / setup.second
    names = sorted(path.relative_to(second_dir).as_posix() for path in second_dir.rglob("*") if path.is_file())
    final_reload = None
    with Server(setup.index_dir, extra_env=WIDE_QUEUE) as server:
        load = QueryLoad(server.host, server.port, questions, seed=config.seed)
        with BackgroundLoad(load, clients=2, max_seconds=config.time_limit) as background:
            for number, name in enumerate([*names, CURRENT_NAME, "SIGHUP"]):
                # Publishing B repairs whatever the last round damaged and makes B current again.
                publish(setup.index_dir, setup.contents[setup.second])
                if name == CURRENT_NAME:
                    replace_atomically(setup.index_dir / CURRENT_NAME, b"not-a-version\n")
                else:
                    target = second_dir / (names[number % len(names)] if name == "SIGHUP" else name)
                    data = bytearray(target.read_bytes())
                    offset = rng.randrange(len(data))
                    data[offset] ^= rng.randint(1, 255)
                    target.write_bytes(bytes(data))
                if name == "SIGHUP":
                    problems.check(not server.reload_signal(setup.second, timeout=3.0),
                                   "SIGHUP served a corrupted version")
                    problems.check(server.process.poll() is None, "the server died on SIGHUP with a corrupted index")
                    refused["SIGHUP (logged)"] += 1
                else:
                    response = server.reload_http()
                    if problems.check(response.status == 409, f"{name}: reload answered {response.status} "
                                                              f"{response.body[:200]!r}, expected 409 reload_failed"):
                        refused[name] += 1
                problems.check(server.ready_version() == setup.first,
                               f"{name}: /ready reports {server.ready_version()} after a failed reload")
            publish(setup.index_dir, setup.contents[setup.second])
            final_reload = background.now()
            response = server.reload_http()
            problems.check(response.status == 200, f"the repaired version did not load: {response.status}")
            time.sleep(config.pause_seconds)
        outcomes = background.outcomes
    early = [outcome for outcome in outcomes if outcome.due < final_reload]
    seen = judge_answers(problems, early, {setup.first})
    judge_answers(problems, [outcome for outcome in outcomes if outcome.due >= final_reload],
                  {setup.first, setup.second})
    startup = _refuses_to_start(setup, rng, problems)
    summary = (f"{sum(refused.values())} reloads of a corrupted version refused "
               f"({len(names)} files + CURRENT + SIGHUP), old version kept serving {len(early)} queries; "
               f"start-up on a corrupted index: exit {startup['exit_status']}, never ready")
    log(f"served corruption: {summary}")
    return CheckResult(
        name="corruption: served index", rounds=len(names) + 2, faults=len(names) + 3, errors=problems.count,
        versions=tuple(seen), seconds=time.monotonic() - started, summary=summary, problems=tuple(problems.kept),
        figures={"refused_reloads": dict(refused), "queries": len(outcomes), "statuses": status_counts(outcomes),
                 "startup_on_corrupted_index": startup},
    )


def _refuses_to_start(setup: TwoVersions, rng: random.Random, problems: Problems) -> dict[str, object]:
    """Start a server on a corrupted current version: it must exit non-zero and never be ready."""
    publish(setup.index_dir, setup.contents[setup.second])
    target = setup.index_dir / VERSIONS_NAME / setup.second / "chunks.jsonl"
    data = bytearray(target.read_bytes())
    data[rng.randrange(len(data))] ^= 0x20
    target.write_bytes(bytes(data))
    server = Server(setup.index_dir, ready_timeout=60)
    try:
        server.wait_ready(60)
        problems.add("a server started and answered /ready on a corrupted index")
        return {"exit_status": None, "error": "served"}
    except ServerError:
        status = server.process.poll()
        problems.check(status not in (None, 0), f"the server on a corrupted index exited with {status}")
        last = next((line for line in reversed(server.lines) if "error" in line.lower()), "")
        return {"exit_status": status, "error": last[:400]}
    finally:
        server.stop()
