"""Scale benchmark: exact and HNSW dense search, and BM25, over synthetic corpora of 10k to 1M chunks.

The vectors (``bench.perf.scale_dense``) and texts (``bench.common.corpus.NewsLikeText``) are
synthetic; this module runs every size in turn, checkpoints the growing result and prints tables.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.common.corpus import NewsLikeText, seed_words
from bench.common.process import log, return_freed_memory_promptly
from bench.common.results import format_table
from bench.perf.scale_bm25 import measure_bm25_size
from bench.perf.scale_config import TOP_K, Checkpoint, Matrix, ScaleConfig
from bench.perf.scale_dense import StructuredVectors, describe_vectors, measure_dense_size


def run_scale(config: ScaleConfig, *, corpus: Path, checkpoint: Checkpoint,
              seed_vectors: Matrix | None = None) -> dict[str, Any]:
    """Every size, dense then BM25; ``checkpoint`` receives the growing result after each step."""
    from index import dense

    malloc_fixed = return_freed_memory_promptly()
    folder = Path(tempfile.mkdtemp(prefix="grounded-scale-", dir=config.workdir))
    generator = StructuredVectors(config.vector_model)
    queries = generator.draw(config.queries, np.random.default_rng(config.vector_model.seed - 1))
    result: dict[str, Any] = {
        "vector_model": {**asdict(config.vector_model), "kind": "low-rank clustered topics + noise"},
        "hnsw_threshold": dense.HNSW_THRESHOLD, "malloc_mmap_threshold_fixed": malloc_fixed,
        "queries": config.queries, "top_k": TOP_K, "timing_budget_seconds": config.timing_seconds,
        "real_seed_vector_shape": describe_vectors(seed_vectors) if seed_vectors is not None else None,
        "dense": [], "bm25": [], "bm25_skipped": [],
    }
    try:
        for size in config.sizes:
            log(f"scale {size}: dense")
            result["dense"].append(measure_dense_size(size, generator, queries, config, folder))
            checkpoint(result)
        text = NewsLikeText(seed_words(corpus))
        seconds_per_doc = 0.0
        for size in config.bm25_sizes:
            estimate = seconds_per_doc * size
            if estimate > config.bm25_budget_seconds:
                result["bm25_skipped"].append({"size": size, "estimated_build_seconds": round(estimate)})
                log(f"scale {size}: BM25 skipped, estimated {estimate:.0f}s")
                continue
            log(f"scale {size}: BM25")
            measured = measure_bm25_size(size, text, folder, config)
            seconds_per_doc = (measured["build_seconds"] + measured["generate_seconds"]) / size * 1.2
            result["bm25"].append(measured)
            checkpoint(result)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def scale_tables(result: dict[str, Any]) -> str:
    """Markdown tables of the scale results."""
    def latency(block: dict[str, Any], threads: int, name: str) -> float:
        return float(block[f"threads_{threads}"][name])

    rows = []
    curve_rows = []
    for entry in result["dense"]:
        exact, graph = entry["exact"], entry["hnsw"]
        rows.append([entry["size"], "exact IndexFlatIP", exact["build_seconds"],
                     exact["disk_bytes_per_chunk"], exact["rss_bytes_per_chunk"],
                     exact["structure_bytes_per_chunk"], latency(exact["search_ms"], 1, "p50"),
                     latency(exact["search_ms"], 1, "p99"), latency(exact["search_ms"], 2, "p50"),
                     latency(exact["search_ms"], 2, "p99"), exact["recall_at_10"]])
        default = next((point for point in graph["ef_curve"]
                        if point["efSearch"] == graph["params"]["efSearch"]), graph["ef_curve"][-1])
        rows.append([entry["size"], f"HNSW M{graph['params']['M']} efC{graph['params']['efConstruction']}"
                     f" efS{default['efSearch']}", graph["build_seconds"],
                     graph["disk_bytes_per_chunk"], graph["rss_bytes_per_chunk"],
                     graph["structure_bytes_per_chunk"], latency(default["search_ms"], 1, "p50"),
                     latency(default["search_ms"], 1, "p99"), latency(default["search_ms"], 2, "p50"),
                     latency(default["search_ms"], 2, "p99"), default["recall_at_10"]])
        for point in graph["ef_curve"]:
            curve_rows.append([entry["size"], point["efSearch"], point["recall_at_10"],
                               latency(point["search_ms"], 1, "p50"), latency(point["search_ms"], 1, "p99"),
                               latency(point["search_ms"], 2, "p50"), latency(point["search_ms"], 2, "p99")])
    parts = [
        format_table(["chunks", "index", "build s", "disk B/chunk", "RSS B/chunk", "FAISS B/chunk",
                      "p50 ms 1t", "p99 ms 1t", "p50 ms 2t", "p99 ms 2t", "recall@10"], rows),
        format_table(["chunks", "efSearch", "recall@10", "p50 ms 1t", "p99 ms 1t", "p50 ms 2t",
                      "p99 ms 2t"], curve_rows),
    ]
    bm25_rows = [[entry["size"], entry["words"], entry["build_seconds"], entry["build_docs_per_second"],
                  round(entry["disk_bytes"] / 1e6, 1), entry["rss_bytes_per_chunk"],
                  entry["search_ms"]["p50"], entry["search_ms"]["p99"]] for entry in result["bm25"]]
    bm25_rows += [[entry["size"], "skipped", f"~{entry['estimated_build_seconds']} (est.)", None, None,
                   None, None, None] for entry in result["bm25_skipped"]]
    if bm25_rows:
        parts.append(format_table(["chunks", "words", "build s", "docs/s", "disk MB", "RSS B/chunk",
                                   "p50 ms", "p99 ms"], bm25_rows))
    return "\n\n".join(parts)
