"""Sharded against unsharded on the same generated corpus: load time, memory, query latency, equality.

The corpus is generated (``BigramNews`` over the seeds) and embedded by the hashing embedder, so
the figures are everything but the model. One unsharded index and one sharded index per shard
count are built from the same corpus; queries alternate between them question by question (the
same run, the same load on the machine), through ``QueryEngine`` with the result cache off, and
every answer is compared with the unsharded one.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.common.corpus import BigramNews, write_corpus
from bench.common.process import log, return_freed_memory_promptly, rss_bytes
from bench.common.results import format_table
from bench.common.stats import summarise
from index.records import Mode

MODES: tuple[Mode, ...] = ("hybrid", "dense", "sparse")


def measure_shards(seed_corpus: Path, *, target_chunks: int = 10_000, shard_counts: tuple[int, ...] = (2, 4),
                   rounds: int = 3, workdir: Path | None = None) -> dict[str, Any]:
    """Build, load and query the unsharded index and each sharded one; return the figures."""
    from eval.gold import load_gold
    from index.build import ingest
    from index.load import load_index
    from ingest.embedding import HashingEmbedder
    from service.engine import QueryEngine
    from service.records import Query

    return_freed_memory_promptly()
    folder = Path(tempfile.mkdtemp(prefix="grounded-shards-", dir=workdir))
    try:
        corpus = folder / "corpus"
        write_corpus(corpus, max(1, target_chunks // 7), 5, writer=partial(BigramNews, seed_corpus), digits=5)
        embedder = HashingEmbedder(384)
        layouts: list[tuple[str, int | None]] = [("unsharded", None)] + [
            (f"{count} shards", count) for count in shard_counts]
        built: dict[str, dict[str, Any]] = {}
        engines = {}
        for name, count in layouts:
            log(f"shards: ingesting the generated corpus as {name}")
            started = time.perf_counter()
            report = ingest([corpus], folder / name, embedder, shards=count)
            build_seconds = time.perf_counter() - started
            gc.collect()
            before = rss_bytes()
            started = time.perf_counter()
            index = load_index(folder / name)
            load_seconds = time.perf_counter() - started
            gc.collect()
            built[name] = {"chunks": report.chunk_count, "ingest_seconds_without_model": round(build_seconds, 2),
                           "load_index_seconds": round(load_seconds, 3),
                           "rss_delta_bytes": rss_bytes() - before}
            engines[name] = QueryEngine(index, embedder)
        questions = [item.question for item in load_gold()]
        latencies: dict[str, dict[str, list[float]]] = {
            name: {mode: [] for mode in MODES} for name, _ in layouts}
        differing = 0
        log(f"shards: {rounds} rounds of {len(questions)} questions x {len(MODES)} modes, alternating")
        for _ in range(rounds):
            for question in questions:
                for mode in MODES:
                    query = Query(question=question, mode=mode)
                    results = {}
                    for name, _ in layouts:
                        started = time.perf_counter()
                        results[name] = engines[name].query(query, use_cache=False)
                        latencies[name][mode].append((time.perf_counter() - started) * 1000)
                    expected = results["unsharded"]
                    differing += sum(
                        (result.passages, result.answer, result.abstention_reason, result.answer_score)
                        != (expected.passages, expected.answer, expected.abstention_reason, expected.answer_score)
                        for result in results.values())
        return {
            "embedder": "hashing:384 (no model: latencies exclude question encoding's real cost)",
            "documents": len(list(corpus.iterdir())), "questions": len(questions), "rounds": rounds,
            "layouts": {name: {**built[name], "query_ms": {mode: summarise(values).as_dict()
                                                          for mode, values in latencies[name].items()}}
                        for name, _ in layouts},
            "answers_differing_from_unsharded": differing,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def shards_table(result: dict[str, Any]) -> str:
    """Markdown table: one row per layout."""
    rows = []
    for name, layout in result["layouts"].items():
        query = layout["query_ms"]
        rows.append([name, layout["chunks"], layout["ingest_seconds_without_model"], layout["load_index_seconds"],
                     round(layout["rss_delta_bytes"] / layout["chunks"], 1),
                     *(f"{query[mode]['p50']:.2f} / {query[mode]['p99']:.2f}" for mode in MODES)])
    table = format_table(["layout", "chunks", "ingest s (no model)", "load_index s", "RSS bytes/chunk",
                          *(f"{mode} p50 / p99 ms" for mode in MODES)], rows)
    return table + f"\n\nanswers differing from the unsharded index: {result['answers_differing_from_unsharded']}\n"
