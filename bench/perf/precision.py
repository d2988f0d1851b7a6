"""Precision benchmark: bfloat16 against float32 embeddings on the gold questions over the seed index.

Each precision encodes the seed index's chunk texts (passage throughput) and each gold question
alone (query latency); dense top-10 rankings are then compared question by question. This is the
evidence behind the manifest's ``precision`` (``load_embedder(precision="auto")``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common.process import log
from bench.common.results import format_table
from bench.common.stats import mean, overlap_at_k, summarise

PRECISIONS = ("float32", "bfloat16")
TOP_K = 10


def _encode_with(precision: str, passages: list[str], questions: list[str], *, threads: int,
                 query_threads: int) -> dict[str, Any]:
    """Load the model at ``precision``; time passage and single-question encoding."""
    import torch

    from ingest.embedding import load_embedder

    embedder = load_embedder(None, precision=precision, threads=threads)
    embedder.encode(passages[:8])  # warm-up
    started = time.perf_counter()
    passage_vectors = embedder.encode(passages)
    passage_seconds = time.perf_counter() - started
    torch.set_num_threads(query_threads)
    embedder.encode(questions[:8])
    latencies: list[float] = []
    rows = []
    for question in questions:
        begun = time.perf_counter()
        rows.append(embedder.encode([question])[0])
        latencies.append((time.perf_counter() - begun) * 1000)
    return {"passage_vectors": passage_vectors, "question_vectors": np.stack(rows),
            "passages_per_second": round(len(passages) / passage_seconds, 2),
            "query_ms": summarise(latencies).as_dict()}


def _rankings(passage_vectors: np.ndarray, question_vectors: np.ndarray) -> list[list[int]]:
    """Dense top-10 rows per question through the production search function."""
    import faiss

    from index.dense import search_dense

    flat = faiss.IndexFlatIP(passage_vectors.shape[1])
    flat.add(np.ascontiguousarray(passage_vectors, dtype=np.float32))
    return [[hit.row for hit in search_dense(flat, vector, TOP_K)] for vector in question_vectors]


def run_precision_bench(index_dir: Path, *, threads: int, query_threads: int) -> dict[str, Any]:
    """Compare the precisions; returns a JSON-ready dict with per-question detail."""
    import torch

    from eval.gold import load_gold
    from index.load import load_index
    from ingest.embedding import bf16_supported

    gold = load_gold()
    questions = [item.question for item in gold]
    index = load_index(index_dir)
    passages = [chunk.text for chunk in index.chunks]
    encoded: dict[str, dict[str, Any]] = {}
    for precision in PRECISIONS:
        log(f"precision: {precision}")
        encoded[precision] = _encode_with(precision, passages, questions, threads=threads,
                                          query_threads=query_threads)
    torch.set_num_threads(threads)
    reference, candidate = (_rankings(encoded[name]["passage_vectors"], encoded[name]["question_vectors"])
                            for name in PRECISIONS)
    per_question: list[dict[str, Any]] = [
        {"query_id": item.query_id, "identical_top10": first == second,
         "overlap_at_10": overlap_at_k(first, second, TOP_K), "same_top1": first[:1] == second[:1]}
        for item, first, second in zip(gold, reference, candidate, strict=True)
    ]
    cosines = np.sum(encoded["float32"]["passage_vectors"] * encoded["bfloat16"]["passage_vectors"], axis=1)
    return {
        "index_version": index.index_version, "chunks": len(passages), "questions": len(questions),
        "manifest_precision": index.manifest.precision, "cpu_has_native_bf16": bf16_supported(),
        "threads": threads, "query_threads": query_threads,
        "speed": {name: {"passages_per_second": encoded[name]["passages_per_second"],
                         "query_ms": encoded[name]["query_ms"]} for name in PRECISIONS},
        "identical_top10_share": mean([float(row["identical_top10"]) for row in per_question]),
        "mean_overlap_at_10": mean([row["overlap_at_10"] for row in per_question]),
        "min_overlap_at_10": min(row["overlap_at_10"] for row in per_question),
        "same_top1_share": mean([float(row["same_top1"]) for row in per_question]),
        "passage_vector_cosine_fp32_vs_bf16": summarise([float(value) for value in cosines]).as_dict(),
        "per_question": per_question,
    }


def precision_tables(result: dict[str, Any]) -> str:
    """Markdown tables of the precision benchmark."""
    speed = result["speed"]
    return "\n\n".join([
        format_table(["precision", "passages/s", "query p50 ms", "query p99 ms"],
                     [[name, speed[name]["passages_per_second"], speed[name]["query_ms"]["p50"],
                       speed[name]["query_ms"]["p99"]] for name in PRECISIONS]),
        format_table(["bf16 vs fp32, dense top-10 over the seed index", "value"], [
            ["questions", result["questions"]],
            ["identical top-10 (order included)", result["identical_top10_share"]],
            ["mean / min overlap@10", f"{result['mean_overlap_at_10']:.3f} / {result['min_overlap_at_10']:.2f}"],
            ["same top-1", result["same_top1_share"]],
            ["passage vector cosine fp32 vs bf16, min", result["passage_vector_cosine_fp32_vs_bf16"]["minimum"]],
            ["CPU has native bf16", result["cpu_has_native_bf16"]],
            ["manifest precision of this index", result["manifest_precision"]],
        ]),
    ])
