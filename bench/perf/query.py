"""Query-path benchmark: POST /query over loopback against the real service in its own process.

For each mode (hybrid, dense, sparse) and 1, 4 and 16 concurrent clients it records the
client-observed latency, the server's per-stage timings and the HTTP overhead (client latency
minus server total), with the result cache off. A second server with the cache on measures a
repeated question. The bare ``model.encode([question])`` cost on the same questions, with the same
thread count, is measured in the same run so the two can be compared as a ratio, and so is the bare
cost of the encoder the server really uses for questions (ONNX Runtime where the model allows).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.process import cores_obtained, log, rss_bytes
from bench.common.results import format_table
from bench.common.server import Server
from bench.common.stats import concurrency_slowdown, safe_ratio, summarise
from bench.perf.encode import bare_encode_latencies, bare_served_encode, encode_thread_scaling

MODES = ("hybrid", "dense", "sparse")
CONCURRENCY = (1, 4, 16)
STAGES = ("embed", "search", "rescore", "answer", "total")


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryBenchConfig:
    """What to serve and how much load to send."""

    index_dir: Path
    threads: int = 1
    requests: int = 128
    cell_seconds: float = 60.0
    warm_up_requests: int = 8
    cached_repeats: int = 200
    encode_passes: int = 3
    ready_timeout_seconds: float = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One answered request: client latency, server stage timings, the middleware's header."""

    client_ms: float
    server: dict[str, float]
    process_ms: float


@contextlib.contextmanager
def running_server(index_dir: Path, *, cache_size: int, threads: int,
                   timeout: float) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A ready server for the duration of the ``with`` block, and its start-up figures."""
    with Server(index_dir, cache_size=cache_size, threads=threads, ready_timeout=timeout) as server:
        yield server, server.ready_report()


async def _drive(url: str, questions: Sequence[str], mode: str, *, clients: int, requests: int,
                 seconds: float) -> tuple[list[Sample], int, float]:
    """``clients`` workers send ``requests`` queries in total; return samples, errors, wall time."""
    import httpx

    samples: list[Sample] = []
    errors = 0
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for number in counter:
            if time.perf_counter() > deadline:
                return
            body = {"question": questions[number % len(questions)], "mode": mode}
            started = time.perf_counter()
            response = await client.post(f"{url}/query", json=body)
            payload = response.json()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                errors += 1
                continue
            samples.append(Sample(client_ms=elapsed, server=payload["timings_ms"],
                                  process_ms=float(response.headers.get("x-process-time-ms", "nan"))))

    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        wall = time.perf_counter() - started
    return samples, errors, wall


def _drive_plain(url: str, questions: Sequence[str], mode: str,
                 requests: int) -> tuple[list[Sample], int, float]:
    """Sequential queries over one keep-alive ``http.client`` connection: the leanest client,
    to separate the client library's share of the HTTP overhead from the server's."""
    import http.client
    import json
    from urllib.parse import urlsplit

    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
    samples: list[Sample] = []
    errors = 0
    started_all = time.perf_counter()
    try:
        for number in range(requests):
            body = json.dumps({"question": questions[number % len(questions)], "mode": mode})
            started = time.perf_counter()
            connection.request("POST", "/query", body=body,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = json.loads(response.read())
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                errors += 1
                continue
            samples.append(Sample(client_ms=elapsed, server=payload["timings_ms"],
                                  process_ms=float(response.getheader("x-process-time-ms", "nan"))))
    finally:
        connection.close()
    return samples, errors, time.perf_counter() - started_all


def _cell(samples: Sequence[Sample], errors: int, wall: float, clients: int) -> dict[str, Any]:
    """Summaries of one mode x concurrency measurement."""
    return {
        "clients": clients, "requests": len(samples), "errors": errors,
        "wall_seconds": round(wall, 3),
        "throughput_per_second": round(len(samples) / wall, 2) if wall > 0 else None,
        "client_ms": summarise([sample.client_ms for sample in samples]).as_dict(),
        "server_ms": {stage: summarise([sample.server[stage] for sample in samples]).as_dict()
                      for stage in STAGES},
        "http_overhead_ms": summarise([sample.client_ms - sample.server["total"]
                                       for sample in samples]).as_dict(),
        "outside_engine_in_process_ms": summarise([sample.process_ms - sample.server["total"]
                                                   for sample in samples]).as_dict(),
    }


def run_query_bench(config: QueryBenchConfig) -> dict[str, Any]:
    """The whole query benchmark; returns a JSON-ready dict."""
    from eval.gold import load_gold
    from index.load import load_index

    questions = [question.question for question in load_gold()]
    manifest = load_index(config.index_dir).manifest
    cores = len(os.sched_getaffinity(0))
    result: dict[str, Any] = {
        "index_dir": str(config.index_dir), "index_version": manifest.index_version,
        "chunks": manifest.chunk_count, "sentences": manifest.sentence_count,
        "precision": manifest.precision, "faiss_index": manifest.faiss_index,
        "threads": config.threads, "cores": cores, "questions": len(questions),
        "requests_per_cell": config.requests, "cache": "disabled (GROUNDED_CACHE_SIZE=0)",
    }
    log("query: bare encode (before)")
    encode_before = bare_encode_latencies(questions, precision=manifest.precision,
                                          threads=config.threads, passes=config.encode_passes,
                                          model=manifest.model_id)
    cells: dict[str, list[dict[str, Any]]] = {}
    with running_server(config.index_dir, cache_size=0, threads=config.threads,
                        timeout=config.ready_timeout_seconds) as (server, ready):
        result["ready"] = ready
        log(f"query: server ready in {ready['process_start_to_ready_s']}s ({ready['launcher']})")
        for mode in MODES:
            asyncio.run(_drive(server.url, questions, mode, clients=1,
                               requests=config.warm_up_requests, seconds=30.0))
            cells[mode] = []
            for clients in CONCURRENCY:
                samples, errors, wall = asyncio.run(_drive(
                    server.url, questions, mode, clients=clients, requests=config.requests,
                    seconds=config.cell_seconds))
                cell = _cell(samples, errors, wall, clients)
                cells[mode].append(cell)
                log(f"query: {mode} x{clients}: p50 {cell['client_ms']['p50']:.1f} ms, "
                    f"{cell['throughput_per_second']} req/s")
        samples, errors, wall = _drive_plain(server.url, questions, "hybrid", config.requests)
        result["hybrid_sequential_plain_client"] = _cell(samples, errors, wall, 1)
        result["server_rss_bytes_after"] = rss_bytes(server.process.pid)
    log("query: bare encode (after)")
    encode_after = bare_encode_latencies(questions, precision=manifest.precision,
                                         threads=config.threads, passes=config.encode_passes,
                                         model=manifest.model_id)
    encode = summarise(encode_before + encode_after)
    result["bare_encode_ms"] = {"all": encode.as_dict(),
                                "before": summarise(encode_before).as_dict(),
                                "after": summarise(encode_after).as_dict()}
    log("query: bare encode with the served query encoder")
    served = bare_served_encode(questions, precision=manifest.precision, threads=config.threads,
                                passes=config.encode_passes, model=manifest.model_id)
    served_encode = summarise(served["latencies"])
    result["bare_served_encode_ms"] = {"runtime": served["runtime"], "all": served_encode.as_dict(),
                                       "min_cosine_to_torch": served["min_cosine_to_torch"]}
    # The machine is shared: also judge the slow-down by the cores a busy process could get.
    obtained = max(1, round(cores_obtained()))
    result["cores_obtained_after_load"] = obtained
    for mode_cells in cells.values():
        sequential = mode_cells[0]["client_ms"]["p50"]
        for cell in mode_cells:
            cell["slowdown_vs_cores"] = round(concurrency_slowdown(
                sequential, cell["client_ms"]["p50"], cell["clients"], cores), 3)
            cell["slowdown_vs_cores_obtained"] = round(concurrency_slowdown(
                sequential, cell["client_ms"]["p50"], cell["clients"], obtained), 3)
        mode_cells[0]["query_over_encode_p50"] = round(safe_ratio(sequential, encode.p50), 3)
        mode_cells[0]["query_over_served_encode_p50"] = round(safe_ratio(sequential, served_encode.p50), 3)
    plain = result["hybrid_sequential_plain_client"]
    plain["query_over_encode_p50"] = round(safe_ratio(plain["client_ms"]["p50"], encode.p50), 3)
    plain["query_over_served_encode_p50"] = round(safe_ratio(plain["client_ms"]["p50"], served_encode.p50), 3)
    result["modes"] = cells
    log("query: encode thread scaling (GIL or cores?)")
    result["encode_thread_scaling"] = encode_thread_scaling(questions, precision=manifest.precision,
                                                            model=manifest.model_id)
    result["cached_repeat"] = _cached_repeat(config, questions)
    return result


def _cached_repeat(config: QueryBenchConfig, questions: Sequence[str]) -> dict[str, Any]:
    """Server time of a repeated question with the bounded result cache on (its default size)."""
    import httpx

    from service.settings import Settings

    cache_size = Settings.model_fields["cache_size"].default
    with running_server(config.index_dir, cache_size=cache_size, threads=config.threads,
                        timeout=config.ready_timeout_seconds) as (server, ready), \
            httpx.Client(timeout=60.0) as client:
        first = [client.post(f"{server.url}/query", json={"question": question}).json()
                 for question in questions]
        totals: list[float] = []
        client_ms: list[float] = []
        for number in range(config.cached_repeats):
            started = time.perf_counter()
            response = client.post(f"{server.url}/query",
                                   json={"question": questions[number % len(questions)]})
            client_ms.append((time.perf_counter() - started) * 1000)
            totals.append(float(response.json()["timings_ms"]["total"]))
    return {"cache_size": cache_size, "ready": ready,
            "first_server_total_ms": summarise([float(body["timings_ms"]["total"]) for body in first]).as_dict(),
            "repeat_server_total_ms": summarise(totals).as_dict(),
            "repeat_client_ms": summarise(client_ms).as_dict()}


def query_tables(result: dict[str, Any]) -> str:
    """Markdown tables of the query benchmark."""
    encode = result["bare_encode_ms"]["all"]
    served = result["bare_served_encode_ms"]["all"]
    latency_rows, stage_rows = [], []
    for mode, cells in result["modes"].items():
        for cell in cells:
            client = cell["client_ms"]
            latency_rows.append([mode, cell["clients"], cell["requests"], client["p50"], client["p95"],
                                 client["p99"], cell["throughput_per_second"],
                                 cell["slowdown_vs_cores"], cell["slowdown_vs_cores_obtained"]])
        first = cells[0]
        stage_rows.append([f"{mode} (httpx)", *(first["server_ms"][stage]["p50"] for stage in STAGES),
                           first["outside_engine_in_process_ms"]["p50"], first["http_overhead_ms"]["p50"],
                           first["client_ms"]["p50"], encode["p50"], first["query_over_encode_p50"],
                           served["p50"], first["query_over_served_encode_p50"]])
    plain = result["hybrid_sequential_plain_client"]
    stage_rows.append(["hybrid (http.client)", *(plain["server_ms"][stage]["p50"] for stage in STAGES),
                       plain["outside_engine_in_process_ms"]["p50"], plain["http_overhead_ms"]["p50"],
                       plain["client_ms"]["p50"], encode["p50"], plain["query_over_encode_p50"],
                       served["p50"], plain["query_over_served_encode_p50"]])
    ready = result["ready"]
    cached = result["cached_repeat"]
    return "\n\n".join([
        format_table(["mode", "clients", "requests", "p50 ms", "p95 ms", "p99 ms", "req/s",
                      f"slow-down vs {result['cores']} cores",
                      f"slow-down vs {result['cores_obtained_after_load']} core(s) obtainable"],
                     latency_rows),
        format_table(["sequential, client", "embed", "search", "rescore", "answer", "engine total",
                      "app outside engine", "HTTP overhead", "client p50", "bare torch encode p50",
                      "query/torch encode", f"bare {result['bare_served_encode_ms']['runtime']} encode p50",
                      "query/served encode"], stage_rows),
        format_table(["measure", "value"], [
            ["ready (process start to /ready 200), s", ready["process_start_to_ready_s"]],
            ["ready as logged by the server, s", ready["reported_ready_s"]],
            ["repeated question, server total p50 ms", cached["repeat_server_total_ms"]["p50"]],
            ["repeated question, server total p99 ms", cached["repeat_server_total_ms"]["p99"]],
            ["repeated question, client p50 ms", cached["repeat_client_ms"]["p50"]],
            ["bare encode, 2 threads over 1 thread, throughput", result["encode_thread_scaling"]["speed_up"]],
            ["  per thread at 2: on-CPU / run-queue wait / blocked (GIL), s",
             " ; ".join(f"{share['on_cpu_s']} / {share['run_queue_s']} / {share['blocked_s']}"
                        for share in result["encode_thread_scaling"]["threads_2"]["per_thread"])],
            [f"{result['bare_served_encode_ms']['runtime']} query vectors, least cosine to torch's",
             result["bare_served_encode_ms"]["min_cosine_to_torch"]],
            ["bare encode p50 before / after, ms",
             f"{result['bare_encode_ms']['before']['p50']:.2f} / "
             f"{result['bare_encode_ms']['after']['p50']:.2f}"],
        ]),
    ])
