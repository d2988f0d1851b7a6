"""Ray Serve benchmark: ``/query`` latency of a sharded index served on Ray against one process.

Both servers run at once over the same sharded index (``grounded serve --index DIR`` and
``grounded serve --index DIR --ray local``, result cache off), and one client alternates its
requests between them (A, B, A, B, ...), so both see the same machine load. Reported: client-side
p50/p99 of each, and the fan-out cost: the ``search`` stage (the shard round trips) of the Ray
server minus the single process's, per query, from the responses' own ``timings_ms``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.process import log
from bench.common.results import format_table
from bench.common.server import Server
from bench.common.stats import summarise


@dataclass(frozen=True, slots=True, kw_only=True)
class RayServeBenchConfig:
    """The corpus (ingested as ``shards`` shards unless ``index`` is a sharded index), the rounds and the replicas."""

    corpus: Path
    index: Path | None = None
    shards: int = 2
    rounds: int = 3
    replicas: int = 1
    threads: int = 1


def _sharded_index(config: RayServeBenchConfig, workdir: Path) -> Path:
    from index.build import ingest
    from index.layout import sharded_version
    from ingest.embedding import load_embedder

    if config.index is not None and sharded_version(config.index) is not None:
        return config.index
    target = workdir / "index"
    log(f"ray-serve: ingesting {config.corpus} as {config.shards} shards (real model)")
    ingest([config.corpus], target, load_embedder(None, precision="auto", threads=None), shards=config.shards)
    return target


def _ask(server: Server, question: str) -> tuple[float, dict[str, Any]]:
    body = json.dumps({"question": question}).encode()
    started = time.perf_counter()
    response = server.request("POST", "/query", body=body)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"{server.url} answered {response.status}: {response.body[:200]!r}")
    return elapsed_ms, json.loads(response.body)


def run_ray_serve_bench(config: RayServeBenchConfig) -> dict[str, Any]:
    """Alternate the gold questions between the two servers for ``rounds`` rounds; latencies of each."""
    from eval.gold import load_gold

    questions = [gold.question for gold in load_gold()]
    workdir = Path(tempfile.mkdtemp(prefix="grounded-ray-serve-bench-"))
    try:
        index_dir = _sharded_index(config, workdir)
        latency: dict[str, list[float]] = {"single": [], "ray": []}
        search: dict[str, list[float]] = {"single": [], "ray": []}
        differing = 0
        ray_args = ("--ray", "local", "--ray-replicas", str(config.replicas))
        with Server(index_dir, threads=config.threads) as single, \
                Server(index_dir, threads=config.threads, extra_args=ray_args, ready_timeout=300) as ray:
            ready = {"single": single.ready_report(), "ray": ray.ready_report()}
            for question in questions[:5]:  # warm both
                _ask(single, question)
                _ask(ray, question)
            log(f"ray-serve: {config.rounds} rounds of {len(questions)} questions, alternating")
            for _ in range(config.rounds):
                for question in questions:
                    single_ms, single_body = _ask(single, question)
                    ray_ms, ray_body = _ask(ray, question)
                    latency["single"].append(single_ms)
                    latency["ray"].append(ray_ms)
                    search["single"].append(single_body["timings_ms"]["search"])
                    search["ray"].append(ray_body["timings_ms"]["search"])
                    same = {key: value for key, value in single_body.items() if key != "timings_ms"} == {
                        key: value for key, value in ray_body.items() if key != "timings_ms"}
                    differing += not same
        summaries = {name: summarise(values) for name, values in latency.items()}
        searches = {name: summarise(values) for name, values in search.items()}
        return {
            "index": str(index_dir), "shards": config.shards, "replicas": config.replicas,
            "requests_each": len(latency["single"]), "answers_differing": differing,
            "ready": ready,
            "query_ms": {name: {"p50": round(summary.p50, 2), "p99": round(summary.p99, 2),
                                "mean": round(summary.mean, 2)} for name, summary in summaries.items()},
            "search_stage_ms": {name: {"p50": round(summary.p50, 2), "p99": round(summary.p99, 2)}
                                for name, summary in searches.items()},
            "fan_out_cost_ms_p50": round(searches["ray"].p50 - searches["single"].p50, 2),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def ray_serve_table(result: dict[str, Any]) -> str:
    """The latency table and the fan-out cost, as printed by ``grounded bench ray-serve``."""
    rows = [[name, result["query_ms"][name]["p50"], result["query_ms"][name]["p99"],
             result["search_stage_ms"][name]["p50"], result["search_stage_ms"][name]["p99"]]
            for name in ("single", "ray")]
    table = format_table(["server", "/query p50 ms", "/query p99 ms", "search stage p50 ms", "search stage p99 ms"],
                         rows)
    return (f"{table}\n{result['requests_each']} requests each, {result['shards']} shards, "
            f"{result['replicas']} replica(s) per shard; fan-out cost (search stage p50, Ray minus one process): "
            f"{result['fan_out_cost_ms_p50']} ms; answers differing: {result['answers_differing']}")
