"""BM25 part of the scale benchmark: the real sparse path over Zipf-distributed synthetic text."""

from __future__ import annotations

import gc
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common.corpus import NewsLikeText
from bench.common.process import rss_bytes
from bench.common.stats import summarise
from bench.perf.scale_config import TOP_K, ScaleConfig


def measure_bm25_size(size: int, text: NewsLikeText, folder: Path,
                      config: ScaleConfig) -> dict[str, Any]:
    """Build time, memory, disk size and query latency of the real BM25 path at one size."""
    from index.sparse import build_sparse, save_sparse, search_sparse

    rng = np.random.default_rng(size)
    started = time.perf_counter()
    documents = text.documents(size, rng)
    generate_seconds = time.perf_counter() - started
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    retriever = build_sparse(documents)
    build_seconds = time.perf_counter() - started
    resident = rss_bytes() - before
    target = folder / f"bm25-{size}"
    save_sparse(retriever, target)
    disk = sum(path.stat().st_size for path in target.iterdir())
    shutil.rmtree(target)
    questions = text.queries(config.queries, rng)
    search_sparse(retriever, questions[0], TOP_K)
    latencies: list[float] = []
    deadline = time.perf_counter() + config.timing_seconds
    for question in questions:
        begun = time.perf_counter()
        search_sparse(retriever, question, TOP_K)
        latencies.append((time.perf_counter() - begun) * 1000)
        if len(latencies) >= 10 and time.perf_counter() > deadline:
            break
    words = sum(len(document.split()) for document in documents)
    del retriever, documents
    gc.collect()
    return {
        "size": size, "backend": "numpy", "words": words,
        "generate_seconds": round(generate_seconds, 2), "build_seconds": round(build_seconds, 2),
        "build_docs_per_second": round(size / build_seconds, 1), "disk_bytes": disk,
        "rss_delta_bytes": resident, "rss_bytes_per_chunk": round(resident / size, 1),
        "search_ms": summarise(latencies).as_dict(),
    }
