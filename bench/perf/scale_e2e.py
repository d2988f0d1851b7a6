"""``grounded bench scale-e2e``: a generated corpus of N chunks through ingest, publish and ``grounded serve``.

Everything is the product's own path: the corpus is written as text files, ``grounded ingest``
builds and publishes the index in a child process, ``grounded serve`` serves it in another, and the
figures come over HTTP (hybrid ``/query`` latency) and from ``/proc`` (the server's resident
memory). Only the vectors are not the real model's: they come from the deterministic hashing
embedder (``hashing:384``: the real model's dimension, so vector bytes and FAISS sizes are those
of a real index), which the results label as such.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench.common.corpus import BigramNews, questions_from, write_corpus
from bench.common.process import log
from bench.common.results import format_table
from bench.common.server import Server
from bench.common.stats import summarise

ENCODER = "hashing:384"
ENCODER_LABEL = ("hashing:384: deterministic hashed bag of words, NOT the real model "
                 "(same dimension, so vector, FAISS and disk sizes are a real index's)")
CHUNKS_PER_ARTICLE = 8.8
"""Chunks per generated article (8..16 paragraphs, 180-token chunks): 264 625 from 30 000 articles
in the 264k run of docs/scale.md (7.0 before, which made ``--chunks`` undershoot by a fifth)."""

TARGETS = {"hybrid_p50_ms": 15.0, "ready_seconds": 30.0, "rss_bytes": 4 * 1024**3,
           "rss_bytes_per_chunk": 3 * 1024}


@dataclass(frozen=True, slots=True, kw_only=True)
class ScaleEndToEndConfig:
    """What to build and how to measure it."""

    seed_corpus: Path
    chunks: int = 1_000_000
    queries: int = 300
    warmup: int = 20
    workdir: Path | None = None
    keep: bool = False
    seed: int = 12
    corpus: Path | None = None
    """A corpus this bench wrote before (``--keep``): ingested as it is, its writing not timed."""
    index: Path | None = None
    """An index this bench built before from ``corpus`` (``--keep``): served as it is, not rebuilt."""


def _memory_breakdown(pid: int) -> dict[str, int]:
    """``VmRSS``, ``RssAnon``, ``RssFile``, ``VmHWM`` of a process in bytes (``/proc/<pid>/status``)."""
    fields = {"VmRSS": "rss_bytes", "RssAnon": "rss_anonymous_bytes", "RssFile": "rss_file_bytes",
              "VmHWM": "rss_peak_bytes"}
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        name = line.split(":", 1)[0]
        if name in fields:
            values[fields[name]] = int(line.split()[1]) * 1024
    return values


def _ingest(corpus: Path, index_dir: Path) -> float:
    """``grounded ingest`` in a child process; its wall seconds."""
    command = [sys.executable, "-m", "grounded", "ingest", str(corpus), "--index", str(index_dir),
               "--model", ENCODER]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _query_latencies(server: Server, questions: list[str], warmup: int) -> tuple[list[float], list[float]]:
    """Client-side wall ms and server-side total ms of sequential hybrid ``/query`` requests."""
    client: list[float] = []
    served: list[float] = []
    for number, question in enumerate(questions):
        body = json.dumps({"question": question, "mode": "hybrid", "top_k": 5}).encode("utf-8")
        started = time.perf_counter()
        response = server.request("POST", "/query", body=body)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"/query answered {response.status}: {response.body[:300]!r}")
        if number >= warmup:
            client.append(elapsed)
            served.append(float(json.loads(response.body)["timings_ms"]["total"]))
    return client, served


def run_scale_end_to_end(config: ScaleEndToEndConfig) -> dict[str, Any]:
    """Generate, ingest, serve and query an index of about ``config.chunks`` chunks."""
    if config.workdir is not None:
        # Created like --out is: a new user names a folder that does not exist yet.
        config.workdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="grounded-scale-e2e-", dir=config.workdir))
    try:
        corpus, index_dir = config.corpus or folder / "corpus", config.index or folder / "index"
        generate_seconds: float | None = None
        if config.corpus is None:
            articles = max(1, round(config.chunks / CHUNKS_PER_ARTICLE))
            log(f"scale-e2e: writing {articles} generated articles (bigram chain over {config.seed_corpus})")
            started = time.perf_counter()
            write_corpus(corpus, articles, config.seed, writer=partial(BigramNews, config.seed_corpus),
                         digits=7)
            generate_seconds = time.perf_counter() - started
            log(f"scale-e2e: corpus written in {generate_seconds:.0f} s")
        ingest_seconds: float | None = None
        ingest_peak: int | None = None
        if config.index is None:
            log(f"scale-e2e: grounded ingest {corpus} --model {ENCODER}")
            ingest_seconds = _ingest(corpus, index_dir)
            ingest_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        version = index_dir / "versions" / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
        disk = {path.name: path.stat().st_size for path in version.rglob("*") if path.is_file()}
        chunks = int(manifest["chunk_count"])
        log(f"scale-e2e: {chunks} chunks in {index_dir}; serving")
        total = config.queries + config.warmup
        questions = questions_from(corpus, total, config.seed, files=total // 2)
        with Server(index_dir, cache_size=0, threads=1, ready_timeout=900.0) as server:
            ready = server.ready_report()
            memory_ready = _memory_breakdown(server.process.pid)
            client, served = _query_latencies(server, questions, config.warmup)
            memory_after = _memory_breakdown(server.process.pid)
        ready_seconds = ready["process_start_to_ready_s"]
        result: dict[str, Any] = {
            "encoder": ENCODER_LABEL,
            "documents": len(manifest["documents"]), "chunks": chunks,
            "sentences": int(manifest["sentence_count"]), "faiss_index": manifest["faiss_index"],
            "faiss_params": manifest["faiss_params"],
            "corpus": str(corpus),
            "generate_seconds": None if generate_seconds is None else round(generate_seconds, 1),
            "index": str(index_dir),
            "ingest_seconds": None if ingest_seconds is None else round(ingest_seconds, 1),
            "ingest_chunks_per_second": None if ingest_seconds is None else round(chunks / ingest_seconds, 1),
            "ingest_peak_rss_bytes": ingest_peak,
            "disk_bytes": sum(disk.values()), "disk_bytes_per_chunk": round(sum(disk.values()) / chunks, 1),
            "disk_files": disk,
            "ready": ready, "ready_seconds": ready_seconds,
            "memory_at_ready": memory_ready, "memory_after_queries": memory_after,
            "rss_bytes_per_chunk_at_ready": round(memory_ready["rss_bytes"] / chunks, 1),
            "rss_bytes_per_chunk_after_queries": round(memory_after["rss_bytes"] / chunks, 1),
            "queries": len(client), "hybrid_client_ms": summarise(client).as_dict(),
            "hybrid_server_total_ms": summarise(served).as_dict(),
            "targets": TARGETS,
        }
        result["targets_met"] = {
            "hybrid_p50_ms": result["hybrid_client_ms"]["p50"] <= TARGETS["hybrid_p50_ms"],
            "ready_seconds": ready_seconds <= TARGETS["ready_seconds"],
            "rss_bytes": memory_after["rss_bytes"] <= TARGETS["rss_bytes"],
            "rss_bytes_per_chunk": result["rss_bytes_per_chunk_after_queries"] <= TARGETS["rss_bytes_per_chunk"],
        }
        if config.keep:
            result["kept_folder"] = str(folder)
        return result
    finally:
        if not config.keep:
            shutil.rmtree(folder, ignore_errors=True)


_MIB = 1024 * 1024


def _memory_cell(memory: dict[str, int]) -> str:
    return (f"{memory['rss_bytes'] / _MIB:.0f} ({memory['rss_anonymous_bytes'] / _MIB:.0f} / "
            f"{memory['rss_file_bytes'] / _MIB:.0f})")


def scale_end_to_end_table(result: dict[str, Any]) -> str:
    """Markdown table of one end-to-end run."""
    client, served = result["hybrid_client_ms"], result["hybrid_server_total_ms"]
    ready, after = result["memory_at_ready"], result["memory_after_queries"]
    return format_table(["measure", "value"], [
        ["vectors", result["encoder"]],
        ["documents / chunks / sentences", f"{result['documents']} / {result['chunks']} / {result['sentences']}"],
        ["dense index", f"{result['faiss_index']} {result['faiss_params']}"],
        ["corpus generation, s", result["generate_seconds"] or f"not timed (written before: {result['corpus']})"],
        ["grounded ingest (build + publish), s (chunks/s)",
         f"{result['ingest_seconds']} ({result['ingest_chunks_per_second']})" if result["ingest_seconds"]
         else f"not timed (built before: {result['index']})"],
        ["ingest peak RSS, MiB", round(result["ingest_peak_rss_bytes"] / _MIB) if result["ingest_peak_rss_bytes"]
         else "not measured (built before)"],
        ["index version on disk, MiB (B/chunk)",
         f"{result['disk_bytes'] / _MIB:.0f} ({result['disk_bytes_per_chunk']})"],
        ["grounded serve: process start to /ready 200, s", result["ready_seconds"]],
        ["server RSS at ready, MiB (anon / file)", _memory_cell(ready)],
        ["server RSS after the queries, MiB (anon / file)", _memory_cell(after)],
        ["server RSS per chunk at ready / after queries, B",
         f"{result['rss_bytes_per_chunk_at_ready']} / {result['rss_bytes_per_chunk_after_queries']}"],
        [f"hybrid /query over HTTP, {result['queries']} sequential: p50 / p99 ms",
         f"{client['p50']:.2f} / {client['p99']:.2f}"],
        ["same, server-side total: p50 / p99 ms", f"{served['p50']:.2f} / {served['p99']:.2f}"],
        ["targets met", ", ".join(f"{name}: {'yes' if met else 'NO'}"
                                  for name, met in result["targets_met"].items())],
    ])
