"""Dense search: FAISS agrees with NumPy brute force, never leaks -1 rows, refuses bad queries."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt
import pytest

from index import dense
from index.dense import build_dense, read_dense, search_dense, set_faiss_threads, write_dense
from index.records import Hit
from ingest.embedding import HashingEmbedder

WORDS = ["harbour", "ferry", "river", "bridge", "valley", "rain", "snow", "gold", "auction", "coin",
         "buyer", "engineer", "storm", "election", "vote", "senate", "court", "judge", "market",
         "price", "wheat", "oil", "ship", "port", "train"]


def hashing_vectors(count: int, seed: int = 0) -> npt.NDArray[np.float32]:
    """Unit vectors of random word bags: shared words give real cosine similarity."""
    chooser = np.random.default_rng(seed)
    texts = [" ".join(chooser.choice(WORDS, size=6)) for _ in range(count)]
    return HashingEmbedder(64).encode(texts)


def low_rank_vectors(count: int, dimension: int = 48, rank: int = 8,
                     seed: int = 0) -> npt.NDArray[np.float32]:
    """Structured unit vectors (low rank plus noise): a fair stand-in for embeddings."""
    generator = np.random.default_rng(seed)
    basis = generator.normal(size=(rank, dimension))
    vectors = generator.normal(size=(count, rank)) @ basis + 0.1 * generator.normal(
        size=(count, dimension))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def brute_force(vectors: npt.NDArray[np.float32], query: npt.NDArray[np.float32],
                rows: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.float32]:
    scores = vectors @ query
    if rows is not None:
        mask = np.full(len(vectors), -np.inf, dtype=np.float32)
        mask[rows] = 0
        scores = scores + mask
    return scores


def assert_matches_brute_force(hits: list[Hit], scores: npt.NDArray[np.float32], k: int) -> None:
    """Same score sequence as the exact ranking; rows may differ only among tied scores."""
    expected = np.sort(scores[np.isfinite(scores)])[::-1][:k]
    returned = np.array([hit.score for hit in hits], dtype=np.float32)
    np.testing.assert_allclose(returned, expected, atol=1e-5)
    for hit in hits:
        assert abs(scores[hit.row] - hit.score) < 1e-5


def test_flat_search_equals_numpy_brute_force() -> None:
    vectors = hashing_vectors(300)
    index, kind, params = build_dense(vectors)
    assert (kind, params, index.ntotal) == ("IndexFlatIP", {}, 300)
    for query in hashing_vectors(20, seed=1):
        hits = search_dense(index, query, 10)
        assert len(hits) == 10
        assert_matches_brute_force(hits, brute_force(vectors, query), 10)


def test_k_beyond_the_index_size_returns_only_real_rows() -> None:
    vectors = hashing_vectors(7)
    index, _, _ = build_dense(vectors)
    hits = search_dense(index, vectors[0], 50)
    assert sorted(hit.row for hit in hits) == list(range(7))
    # A huge k aborts FAISS unless it is clamped.
    assert len(search_dense(index, vectors[0], 10**8)) == 7
    assert search_dense(index, vectors[0], 0) == []


def test_non_finite_or_misshapen_queries_are_refused() -> None:
    index, _, _ = build_dense(hashing_vectors(5))
    for bad in (np.full(64, np.nan, dtype=np.float32), np.full(64, np.inf, dtype=np.float32)):
        with pytest.raises(ValueError, match="NaN or infinite"):
            search_dense(index, bad, 3)
    with pytest.raises(ValueError, match="shape"):
        search_dense(index, np.ones(32, dtype=np.float32), 3)
    # A (1, d) query is accepted as well as (d,).
    assert len(search_dense(index, np.ones((1, 64), dtype=np.float32) / 8, 3)) == 3


def test_ties_are_broken_by_row_ascending() -> None:
    vector = hashing_vectors(1)[0]
    vectors = np.stack([vector] * 6)
    index, _, _ = build_dense(vectors)
    assert [hit.row for hit in search_dense(index, vector, 6)] == list(range(6))
    assert [hit.row for hit in search_dense(index, vector, 2)] == [0, 1]
    assert [hit.row for hit in search_dense(index, vector, 3, rows=[5, 1, 3])] == [1, 3, 5]


def test_row_filter_restricts_results_to_the_given_rows() -> None:
    vectors = hashing_vectors(200)
    index, _, _ = build_dense(vectors)
    rows = np.arange(0, 200, 7, dtype=np.int64)
    for query in hashing_vectors(5, seed=2):
        hits = search_dense(index, query, 10, rows=rows)
        assert {hit.row for hit in hits} <= set(rows.tolist())
        assert_matches_brute_force(hits, brute_force(vectors, query, rows), 10)
    assert search_dense(index, vectors[0], 10, rows=np.zeros(0, dtype=np.int64)) == []
    # Rows outside the index are ignored rather than passed to FAISS.
    assert [hit.row for hit in search_dense(index, vectors[3], 5, rows=[3, -1, 500])] == [3]


def _recall(approximate: list[Hit], exact: list[Hit]) -> float:
    return len({hit.row for hit in approximate} & {hit.row for hit in exact}) / len(exact)


def test_hnsw_is_built_above_the_threshold_with_good_recall(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    vectors = low_rank_vectors(3000)
    flat, _, _ = build_dense(vectors)
    monkeypatch.setattr(dense, "HNSW_THRESHOLD", 1000)
    graph, kind, params = build_dense(vectors)
    assert kind == "IndexHNSWFlat"
    assert params == {"M": 32, "efConstruction": 40, "efSearch": 256}
    write_dense(graph, tmp_path / "dense.faiss")
    loaded = read_dense(tmp_path / "dense.faiss", count=3000, dimension=48)
    graph_loaded = faiss.downcast_index(loaded)
    assert isinstance(graph_loaded, faiss.IndexHNSWFlat)
    assert graph_loaded.hnsw.efSearch == 256
    queries = low_rank_vectors(50, seed=9)
    recalls = [_recall(search_dense(loaded, query, 10), search_dense(flat, query, 10))
               for query in queries]
    assert float(np.mean(recalls)) >= 0.9
    # Filters: a small set is scored exactly, a large one goes through the graph with a selector.
    for rows in (np.arange(0, 3000, 50), np.arange(0, 3000, 2)):
        for query in queries[:5]:
            hits = search_dense(loaded, query, 10, rows=rows)
            assert {hit.row for hit in hits} <= set(rows.tolist())
            exact = search_dense(flat, query, 10, rows=rows)
            assert _recall(hits, exact) >= 0.8
    assert len(search_dense(loaded, queries[0], 10**6)) > 0


def test_hnsw_build_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dense, "HNSW_THRESHOLD", 10)
    vectors = low_rank_vectors(600)
    first, _, _ = build_dense(vectors)
    second, _, _ = build_dense(vectors)
    assert bytes(faiss.serialize_index(first)) == bytes(faiss.serialize_index(second))


def test_reading_refuses_arrays_larger_than_the_manifest_allows(tmp_path: Path) -> None:
    vectors = low_rank_vectors(20_000, dimension=64)
    index, _, _ = build_dense(vectors)
    path = tmp_path / "dense.faiss"
    write_dense(index, path)
    limit_before = faiss.get_deserialization_vector_byte_limit()
    # A file claiming to be a 1-vector index but holding 20k vectors (5 MB) is not read.
    with pytest.raises(RuntimeError):
        read_dense(path, count=1, dimension=64)
    assert faiss.get_deserialization_vector_byte_limit() == limit_before
    assert read_dense(path, count=20_000, dimension=64).ntotal == 20_000


def test_faiss_thread_count_is_set_only_on_request() -> None:
    before = faiss.omp_get_max_threads()
    try:
        set_faiss_threads(1)
        assert faiss.omp_get_max_threads() == 1
        with pytest.raises(ValueError):
            set_faiss_threads(0)
    finally:
        faiss.omp_set_num_threads(before)
