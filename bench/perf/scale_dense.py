"""Dense part of the scale benchmark: exact and HNSW search over structured synthetic vectors.

Random isotropic vectors make ANN recall look far worse than on real embeddings (HNSW recall 0.39
on them, docs/FACTS), so the vectors here are low-rank and clustered, like sentence embeddings:
each is a topic centre plus a within-topic offset in a small latent space, mapped to 384-d through
a projection with a decaying spectrum and a shared mean direction, plus isotropic noise, then
normalised. Queries are fresh draws of the same distribution (not copies of indexed rows).

Calibration (docs/benchmarks.md): the noise level and mean direction match the seed corpus's
MiniLM vectors (random-pair cosine ~0.2, variance share of the top 10/32/64 principal axes); the
topic spread makes topics overlap (local intrinsic dimension ~35-40): with tight, separated topics
HNSW found every neighbour at efSearch 32 (too easy), with isotropic vectors 0.39 (too hard).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common.process import log, rss_bytes
from bench.common.stats import local_intrinsic_dimension, mean, recall_at_k, summarise
from bench.perf.scale_config import TOP_K, Matrix, ScaleConfig, VectorModel


class StructuredVectors:
    """Draws unit vectors from a fixed mixture of low-rank topics (deterministic per seed)."""

    def __init__(self, model: VectorModel) -> None:
        self.model = model
        setup = np.random.default_rng(model.seed)
        # Orthonormal latent axes in the embedding space, scaled by a power-law spectrum, so a few
        # directions carry most of the variance, as in real sentence embeddings.
        axes, _ = np.linalg.qr(setup.standard_normal((model.dimension, model.latent_rank)))
        spectrum = np.arange(1, model.latent_rank + 1, dtype=np.float64) ** -model.spectrum_decay
        self._projection = (axes * spectrum).T.astype(np.float32)
        self._centres = setup.standard_normal((model.topics, model.latent_rank)).astype(np.float32)
        common = setup.standard_normal(model.dimension)
        # Real embeddings share a mean direction (random pairs have positive cosine).
        self._mean = (model.mean_weight * common / np.linalg.norm(common)).astype(np.float32)

    def draw(self, count: int, rng: np.random.Generator) -> Matrix:
        """``(count, dimension)`` float32 unit vectors."""
        model = self.model
        topics = rng.integers(0, model.topics, size=count)
        latent = self._centres[topics] + model.topic_spread * rng.standard_normal(
            (count, model.latent_rank), dtype=np.float32)
        vectors = latent @ self._projection
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors += self._mean
        vectors += (model.noise / math.sqrt(model.dimension)) * rng.standard_normal(
            vectors.shape, dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def corpus(self, count: int, seed: int, block: int = 100_000) -> Matrix:
        """``count`` vectors drawn in blocks (bounded temporary memory)."""
        rng = np.random.default_rng(seed)
        output = np.empty((count, self.model.dimension), dtype=np.float32)
        for start in range(0, count, block):
            stop = min(count, start + block)
            output[start:stop] = self.draw(stop - start, rng)
        return output


def describe_vectors(vectors: Matrix, sample: int = 2000, seed: int = 0) -> dict[str, float]:
    """Shape statistics that separate embedding-like from isotropic vectors.

    ``random_pair_cosine``: mean cosine of random pairs (isotropic: ~0). ``top10_variance_share``:
    share of variance along the 10 leading principal axes (isotropic 384-d: ~0.03).
    ``nearest_cosine``: mean cosine of each sampled vector to its nearest other sampled vector.
    """
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False)
    picked = vectors[rows].astype(np.float64)
    cosines = picked @ picked.T
    off_diagonal = cosines[~np.eye(len(picked), dtype=bool)]
    np.fill_diagonal(cosines, -np.inf)
    centred = picked - picked.mean(axis=0)
    variances = np.linalg.svd(centred, compute_uv=False) ** 2
    return {
        "random_pair_cosine": round(float(off_diagonal.mean()), 4),
        "nearest_cosine": round(float(cosines.max(axis=1).mean()), 4),
        "top10_variance_share": round(float(variances[:10].sum() / variances.sum()), 4),
        "sample": len(picked),
    }


def _timed_searches(search: Callable[[Matrix], list[int]], queries: Matrix,
                    budget_seconds: float) -> tuple[list[float], list[list[int]]]:
    """Run single-query searches until all are done or the budget is spent (at least 10)."""
    latencies: list[float] = []
    results: list[list[int]] = []
    deadline = time.perf_counter() + budget_seconds
    for position, query in enumerate(queries):
        started = time.perf_counter()
        rows = search(query)
        latencies.append((time.perf_counter() - started) * 1000)
        results.append(rows)
        if position >= 9 and time.perf_counter() > deadline:
            break
    return latencies, results


def structure_bytes(index: Any) -> int:
    """Bytes FAISS holds for the index's arrays: stored vectors plus, for HNSW, the graph."""
    import faiss

    concrete: Any = faiss.downcast_index(index)
    if isinstance(concrete, faiss.IndexHNSW):
        graph: Any = concrete.hnsw
        storage: Any = faiss.downcast_index(concrete.storage)
        return int(storage.codes.size() + graph.neighbors.size() * 4 + graph.levels.size() * 4
                   + graph.offsets.size() * 8 + graph.assign_probas.size() * 8
                   + graph.cum_nneighbor_per_level.size() * 4)
    return int(concrete.codes.size())


def _disk_bytes(index: Any, folder: Path, name: str) -> tuple[int, float]:
    """Write the index, return ``(bytes on disk, seconds to read it back)``, and delete it."""
    from index.dense import read_dense, write_dense

    path = folder / name
    write_dense(index, path)
    size = path.stat().st_size
    started = time.perf_counter()
    loaded = read_dense(path, count=int(index.ntotal), dimension=int(index.d))
    read_seconds = time.perf_counter() - started
    del loaded
    path.unlink()
    return size, read_seconds


def _latency_by_threads(index: Any, queries: Matrix, budget: float) -> tuple[dict[str, Any],
                                                                            list[list[int]]]:
    """Single-query top-10 latency via ``search_dense`` at 1 and 2 FAISS threads."""
    from index.dense import search_dense, set_faiss_threads

    def search(query: Matrix) -> list[int]:
        return [hit.row for hit in search_dense(index, query, TOP_K)]

    timings: dict[str, Any] = {}
    first_results: list[list[int]] = []
    for threads in (1, 2):
        set_faiss_threads(threads)
        search(queries[0])  # warm caches and the thread pool
        latencies, results = _timed_searches(search, queries, budget)
        timings[f"threads_{threads}"] = summarise(latencies).as_dict()
        if threads == 1:
            first_results = results
    return timings, first_results


def _exact_truth(flat: Any, queries: Matrix) -> tuple[list[list[int]], float]:
    """Exact top-10 of every query in one batch, through BLAS (see docs/FACTS: the threshold),
    and the local intrinsic dimension of the queries' neighbourhoods."""
    import faiss

    from index.dense import set_faiss_threads

    previous = faiss.cvar.distance_compute_blas_threshold
    # FAISS skips BLAS below ~334 queries at 384-d; for a 200-query batch BLAS is ~10x faster.
    faiss.cvar.distance_compute_blas_threshold = 0
    set_faiss_threads(2)
    try:
        scores, ids = flat.search(queries, TOP_K)
    finally:
        faiss.cvar.distance_compute_blas_threshold = previous
    # Unit vectors: squared Euclidean distance is 2 - 2 * inner product.
    distances = np.sqrt(np.maximum(2.0 - 2.0 * scores.astype(np.float64), 0.0))
    return [list(map(int, row)) for row in ids], local_intrinsic_dimension(distances.tolist())


def _build_hnsw(vectors: Matrix) -> tuple[Any, str, dict[str, int], float]:
    """The HNSW index exactly as ``build_dense`` makes it above its threshold (forced below it)."""
    import faiss

    from index import dense

    started = time.perf_counter()
    if len(vectors) >= dense.HNSW_THRESHOLD:
        index, type_name, params = dense.build_dense(vectors)
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], dense.HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = dense.HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = dense.HNSW_EF_SEARCH
        previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # build_dense builds on one thread (reproducible files)
        try:
            index.add(vectors)
        finally:
            faiss.omp_set_num_threads(previous)
        type_name, params = dense.HNSW_TYPE, {
            "M": dense.HNSW_NEIGHBOURS, "efConstruction": dense.HNSW_EF_CONSTRUCTION,
            "efSearch": dense.HNSW_EF_SEARCH}
    return index, type_name, params, time.perf_counter() - started


def measure_dense_size(size: int, generator: StructuredVectors, queries: Matrix,
                       config: ScaleConfig, folder: Path) -> dict[str, Any]:
    """Exact and HNSW figures for one corpus size."""
    import faiss

    from index.dense import HNSW_THRESHOLD, set_faiss_threads

    started = time.perf_counter()
    vectors = generator.corpus(size, seed=generator.model.seed + size)
    result: dict[str, Any] = {
        "size": size,
        "generate_seconds": round(time.perf_counter() - started, 2),
        "build_dense_would_choose": "IndexHNSWFlat" if size >= HNSW_THRESHOLD else "IndexFlatIP",
        "vector_shape": describe_vectors(vectors),
    }
    log(f"scale {size}: vectors ready, exact index")
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    build_seconds = time.perf_counter() - started
    resident = rss_bytes() - before
    disk, read_seconds = _disk_bytes(flat, folder, "flat.faiss")
    truth, intrinsic_dimension = _exact_truth(flat, queries)
    result["local_intrinsic_dimension_k10"] = round(intrinsic_dimension, 1)
    latency, exact_results = _latency_by_threads(flat, queries, config.timing_seconds)
    result["exact"] = {
        "type": "IndexFlatIP", "build_seconds": round(build_seconds, 3), "disk_bytes": disk,
        "disk_bytes_per_chunk": round(disk / size, 1), "read_seconds": round(read_seconds, 3),
        "rss_delta_bytes": resident, "rss_bytes_per_chunk": round(resident / size, 1),
        "structure_bytes_per_chunk": round(structure_bytes(flat) / size, 1), "search_ms": latency,
        "recall_at_10": mean([recall_at_k(found, exact, TOP_K)
                              for found, exact in zip(exact_results, truth, strict=False)]),
        "queries_timed": len(exact_results),
    }
    del flat
    gc.collect()
    log(f"scale {size}: exact done, building HNSW")
    before = rss_bytes()
    graph, type_name, params, build_seconds = _build_hnsw(vectors)
    resident = rss_bytes() - before
    log(f"scale {size}: HNSW built in {build_seconds:.1f}s")
    disk, read_seconds = _disk_bytes(graph, folder, "hnsw.faiss")
    curve = []
    for ef in config.ef_values:
        graph.hnsw.efSearch = ef
        latency, found = _latency_by_threads(graph, queries, config.timing_seconds)
        recall = mean([recall_at_k(rows, exact, TOP_K) for rows, exact in zip(found, truth, strict=False)])
        curve.append({"efSearch": ef, "recall_at_10": round(recall, 4), "search_ms": latency,
                      "queries": len(found)})
        log(f"scale {size}: efSearch {ef}: recall@10 {recall:.3f}, "
            f"p50 {latency['threads_1']['p50']:.2f} ms")
    set_faiss_threads(1)
    result["hnsw"] = {
        "type": type_name, "params": params, "build_threads": 1,
        "build_seconds": round(build_seconds, 2), "disk_bytes": disk,
        "disk_bytes_per_chunk": round(disk / size, 1), "read_seconds": round(read_seconds, 3),
        "rss_delta_bytes": resident, "rss_bytes_per_chunk": round(resident / size, 1),
        "structure_bytes_per_chunk": round(structure_bytes(graph) / size, 1),
        "ef_curve": curve, "chosen": choose_ef(curve),
    }
    del graph, vectors
    gc.collect()
    return result


def choose_ef(curve: Sequence[dict[str, Any]], recall: float = 0.95,
              p50_ms: float = 5.0) -> dict[str, Any] | None:
    """The smallest efSearch meeting both targets (recall@10 and 1-thread p50), else None."""
    for point in curve:
        if point["recall_at_10"] >= recall and point["search_ms"]["threads_1"]["p50"] <= p50_ms:
            return {"efSearch": point["efSearch"], "recall_at_10": point["recall_at_10"],
                    "p50_ms": point["search_ms"]["threads_1"]["p50"]}
    return None
