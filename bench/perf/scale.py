"""Scale benchmark: exact and HNSW dense search, and BM25, over synthetic corpora of 10k to 1M chunks.

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
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.common.process import log, return_freed_memory_promptly, rss_bytes
from bench.common.results import format_table
from bench.common.stats import local_intrinsic_dimension, mean, recall_at_k, summarise

Matrix = npt.NDArray[np.float32]
Checkpoint = Callable[[dict[str, Any]], None]
TOP_K = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorModel:
    """Parameters of the structured synthetic vectors (recorded with the results)."""

    dimension: int = 384
    latent_rank: int = 64
    topics: int = 2048
    topic_spread: float = 1.0
    noise: float = 0.65
    mean_weight: float = 0.6
    spectrum_decay: float = 0.3
    seed: int = 20240611


@dataclass(frozen=True, slots=True, kw_only=True)
class ScaleConfig:
    """What the scale benchmark measures and how long each timing loop may run."""

    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    queries: int = 200
    ef_values: tuple[int, ...] = (32, 64, 128, 256)
    timing_seconds: float = 20.0
    bm25_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    bm25_budget_seconds: float = 300.0
    workdir: Path | None = None
    vector_model: VectorModel = field(default_factory=VectorModel)


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


class NewsLikeText:
    """Zipf-distributed words: the seed corpus's words (most frequent first), then pseudo-words."""

    def __init__(self, seed_words: Sequence[str], vocabulary_size: int = 50_000,
                 exponent: float = 1.07, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        words = list(dict.fromkeys(seed_words))
        syllables = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
        known = set(words)
        while len(words) < vocabulary_size:
            candidate = "".join(rng.choice(syllables, size=int(rng.integers(2, 5))))
            if candidate not in known:
                known.add(candidate)
                words.append(candidate)
        self.words = np.asarray(words[:vocabulary_size], dtype=object)
        weights = np.arange(1, vocabulary_size + 1, dtype=np.float64) ** -exponent
        self.probabilities = weights / weights.sum()

    def documents(self, count: int, rng: np.random.Generator, low: int = 60,
                  high: int = 140) -> list[str]:
        """``count`` texts of ``low..high`` words (about one chunk of news each)."""
        lengths = rng.integers(low, high + 1, size=count)
        ids = rng.choice(len(self.words), size=int(lengths.sum()), p=self.probabilities)
        tokens = self.words[ids]
        ends = np.cumsum(lengths)
        return [" ".join(tokens[end - length:end]) for end, length in zip(ends, lengths, strict=True)]

    def queries(self, count: int, rng: np.random.Generator) -> list[str]:
        """Short keyword questions of 3..7 words, skipping the 50 most frequent (function) words."""
        tail = self.probabilities[50:] / self.probabilities[50:].sum()
        return [" ".join(self.words[50 + rng.choice(len(tail), size=int(rng.integers(3, 8)), p=tail)])
                for _ in range(count)]


def seed_words(corpus: Path) -> list[str]:
    """Lower-cased words of the seed corpus, most frequent first (a realistic head of the Zipf)."""
    import re
    from collections import Counter

    counts: Counter[str] = Counter()
    for path in sorted(corpus.glob("*.txt")):
        counts.update(re.findall(r"[a-z]+", path.read_text(encoding="utf-8").lower()))
    return [word for word, _ in counts.most_common()]


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


def measure_full_index(seed_corpus: Path, *, target_chunks: int = 10_000,
                       workdir: Path | None = None) -> dict[str, Any]:
    """A whole index (records, vectors, FAISS, BM25) of a generated corpus, at ``target_chunks``.

    Ingested with the hashing embedder, so the times are everything but the model: what ingest,
    loading and the engine cost per chunk on top of encoding. Memory is the resident growth of
    ``load_index``; the engine's query stages are timed on the gold questions.
    """
    from bench.perf.ingest_speed import write_corpus
    from eval.gold import load_gold
    from index.build import ingest
    from index.store import load_index
    from ingest.embedding import HashingEmbedder
    from service.engine import QueryEngine
    from service.records import Query

    return_freed_memory_promptly()
    folder = Path(tempfile.mkdtemp(prefix="grounded-full-index-", dir=workdir))
    try:
        # About seven chunks per generated article (8..16 paragraphs, 180-token chunks).
        corpus = write_corpus(folder / "corpus", seed_corpus, max(1, target_chunks // 7), seed=5)
        embedder = HashingEmbedder(384)
        log(f"full index: ingesting {len(list(corpus.iterdir()))} generated documents")
        started = time.perf_counter()
        report = ingest([corpus], folder / "index", embedder)
        ingest_seconds = time.perf_counter() - started
        version = folder / "index" / "versions" / report.manifest.index_version
        disk = sum(path.stat().st_size for path in version.rglob("*") if path.is_file())
        gc.collect()
        before = rss_bytes()
        started = time.perf_counter()
        index = load_index(folder / "index")
        load_seconds = time.perf_counter() - started
        gc.collect()
        resident = rss_bytes() - before
        log("full index: engine and queries")
        started = time.perf_counter()
        engine = QueryEngine(index, embedder)
        engine_seconds = time.perf_counter() - started
        stages: dict[str, list[float]] = {"search": [], "rescore": [], "answer": [], "total": []}
        for item in load_gold():
            timings = engine.query(Query(question=item.question), use_cache=False).timings
            for stage, values in stages.items():
                values.append(float(getattr(timings, stage)))
        chunks = report.chunk_count
        return {
            "documents": len(report.documents), "chunks": chunks, "sentences": report.sentence_count,
            "sentences_per_chunk": round(report.sentence_count / chunks, 2),
            "faiss_index": report.manifest.faiss_index,
            "ingest_seconds_without_model": round(ingest_seconds, 2),
            "ingest_chunks_per_second_without_model": round(chunks / ingest_seconds, 1),
            "disk_bytes": disk, "disk_bytes_per_chunk": round(disk / chunks, 1),
            "load_index_seconds": round(load_seconds, 3), "rss_delta_bytes": resident,
            "rss_bytes_per_chunk": round(resident / chunks, 1),
            "engine_init_seconds": round(engine_seconds, 3),
            "hybrid_stage_ms": {stage: summarise(values).as_dict() for stage, values in stages.items()},
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def full_index_table(result: dict[str, Any]) -> str:
    """Markdown table of the full-index measurement."""
    stages = result["hybrid_stage_ms"]
    return format_table(["measure", "value"], [
        ["documents / chunks / sentences",
         f"{result['documents']} / {result['chunks']} / {result['sentences']}"],
        ["ingest without the model, s (chunks/s)",
         f"{result['ingest_seconds_without_model']} ({result['ingest_chunks_per_second_without_model']})"],
        ["index folder on disk, bytes per chunk", result["disk_bytes_per_chunk"]],
        ["load_index, s", result["load_index_seconds"]],
        ["resident memory of the loaded index, bytes per chunk", result["rss_bytes_per_chunk"]],
        ["QueryEngine construction, s", result["engine_init_seconds"]],
        ["hybrid query without embedding: search / rescore / answer / total p50 ms",
         " / ".join(f"{stages[name]['p50']:.2f}" for name in ("search", "rescore", "answer", "total"))],
    ])
