"""Dense retrieval: a FAISS inner-product index over unit vectors, built, stored and searched.

Inner product equals cosine similarity on unit vectors. Below ``HNSW_THRESHOLD`` vectors an exact
``IndexFlatIP`` scan is fast enough (about 20 ms per 100k x 384 query here) and has perfect recall;
above it ``IndexHNSWFlat`` keeps queries in milliseconds: efSearch 256 is the smallest that gave
recall@10 >= 0.95 at 1M vectors (0.975 at 1.6 ms p50; 128 gave 0.941), docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from index.records import Hit, Vectors

HNSW_THRESHOLD = 200_000
"""Vector count from which ``build_dense`` builds an HNSW graph instead of an exact flat index."""

HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 256

EXACT_FILTER_LIMIT = 4_096
"""A row filter at most this large is scored exactly on HNSW: a graph walk under a very selective
filter visits mostly rejected nodes and can return fewer than ``k`` hits."""

RESCORE_MARGIN = 16
"""At least this many candidates beyond ``k`` an exact scan hands to per-row rescoring."""

FLAT_TYPE = "IndexFlatIP"
HNSW_TYPE = "IndexHNSWFlat"

RowIds = npt.NDArray[np.int64]


def set_faiss_threads(count: int) -> None:
    """Set FAISS's OpenMP thread count (process-wide); keep workers x threads <= cores."""
    if count < 1:
        raise ValueError(f"FAISS thread count must be at least 1, got {count}")
    faiss.omp_set_num_threads(count)


def build_dense(vectors: Vectors) -> tuple[faiss.Index, str, dict[str, int]]:
    """Index ``(n, d)`` float32 unit vectors; return ``(index, type name, parameters)``.

    Row ``i`` of ``vectors`` gets FAISS id ``i``. The HNSW graph is built on one thread because
    a parallel build depends on thread timing, and the same input must give the same file.
    """
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"vectors must have shape (n, d), got {matrix.shape}")
    count, dimension = matrix.shape
    if count < HNSW_THRESHOLD:
        flat = faiss.IndexFlatIP(dimension)
        flat.add(matrix)
        return flat, FLAT_TYPE, {}
    graph = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.hnsw.efSearch = HNSW_EF_SEARCH
    previous_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        graph.add(matrix)
    finally:
        faiss.omp_set_num_threads(previous_threads)
    params = {
        "M": HNSW_NEIGHBOURS,
        "efConstruction": HNSW_EF_CONSTRUCTION,
        "efSearch": HNSW_EF_SEARCH,
    }
    return graph, HNSW_TYPE, params


def write_dense(index: faiss.Index, path: Path) -> None:
    """Write a FAISS index file; raises ``OSError`` when the write fails (say, a full disk)."""
    try:
        # write_index rejects pathlib.Path, hence str.
        faiss.write_index(index, str(path))
    except RuntimeError as error:
        raise OSError(f"cannot write FAISS index {path}: {error}") from error


def read_limit_bytes(count: int, dimension: int) -> int:
    """Largest single array a genuine index of this size can hold, with generous HNSW room.

    The vectors take ``count * dimension * 4`` bytes; HNSW adds per-vector levels, offsets and
    neighbour lists (about ``2 * M * 4`` bytes on level 0 plus upper levels), bounded here by
    1 KiB per vector.
    """
    return count * (dimension * 4 + 1024) + (1 << 20)


def read_dense(path: Path, *, count: int, dimension: int) -> faiss.Index:
    """Read a FAISS index file, refusing any array larger than an index of this size can hold.

    A crafted 4 KB file can otherwise make ``read_index`` allocate gigabytes; the limit is a
    process-wide FAISS setting, so it is restored afterwards. Raises ``RuntimeError`` from FAISS
    on a malformed file.
    """
    previous_limit = faiss.get_deserialization_vector_byte_limit()
    faiss.set_deserialization_vector_byte_limit(read_limit_bytes(count, dimension))
    try:
        return faiss.read_index(str(path))
    finally:
        faiss.set_deserialization_vector_byte_limit(previous_limit)


def _query_matrix(query_vector: npt.ArrayLike, dimension: int) -> npt.NDArray[np.float32]:
    query = np.asarray(query_vector, dtype=np.float32)
    if query.ndim == 2 and query.shape[0] == 1:
        query = query[0]
    if query.shape != (dimension,):
        raise ValueError(f"query vector must have shape ({dimension},), got {query.shape}")
    # FAISS answers a NaN query with all -1 ids instead of failing; refuse it here.
    if not np.all(np.isfinite(query)):
        raise ValueError("query vector contains NaN or infinite values")
    return np.ascontiguousarray(query[None, :])


def _valid_rows(rows: npt.ArrayLike, total: int) -> RowIds:
    row_ids = np.unique(np.asarray(rows, dtype=np.int64).reshape(-1))
    return row_ids[(row_ids >= 0) & (row_ids < total)]


def _ranked(row_ids: npt.NDArray[np.int64], scores: npt.NDArray[np.float32], k: int) -> list[Hit]:
    """Hits by score descending, ties by row ascending; FAISS's ``-1`` padding dropped."""
    keep = row_ids >= 0
    row_ids, scores = row_ids[keep], scores[keep]
    order = np.lexsort((row_ids, -scores.astype(np.float64)))[:k]
    return [Hit(row=int(row_ids[i]), score=float(scores[i])) for i in order]


def _row_scores(index: faiss.Index, query: npt.NDArray[np.float32], row_ids: RowIds) -> npt.NDArray[np.float32]:
    """Inner products of ``query`` with the rows ``row_ids``, each computed on its own.

    FAISS's scan picks its kernel by the index's size (a blocked matrix product from about 10,000
    rows), so one vector can score a few float32 ulps apart in an index and in a shard of it.
    ``fvec_inner_products_by_idx`` runs the single-vector kernel per row: a row's score depends
    on that row and the query only, so a sharded index ranks exactly as the unsharded one.
    """
    vectors = np.ascontiguousarray(index.reconstruct_batch(row_ids), dtype=np.float32)
    positions = np.arange(len(row_ids), dtype=np.int64)
    scores = np.empty(len(row_ids), dtype=np.float32)
    # The bundled type stubs lack fvec_inner_products_by_idx; it exists at run time.
    faiss.fvec_inner_products_by_idx(  # type: ignore[attr-defined]
        faiss.swig_ptr(scores), faiss.swig_ptr(query[0]), faiss.swig_ptr(vectors),
        faiss.swig_ptr(positions), int(index.d), 1, len(row_ids))
    return scores


def _exact_subset(index: faiss.IndexHNSW, query: npt.NDArray[np.float32], row_ids: RowIds,
                  k: int) -> list[Hit]:
    vectors = index.reconstruct_batch(row_ids)
    scores = (vectors @ query[0]).astype(np.float32)
    return _ranked(row_ids, scores, k)


def search_dense(index: faiss.Index, query_vector: npt.ArrayLike, k: int,
                 rows: npt.ArrayLike | None = None) -> list[Hit]:
    """Top ``k`` rows by inner product with a ``(d,)`` query, optionally only among ``rows``.

    ``k`` is clamped to the number of candidates (FAISS pads with id ``-1`` otherwise, and a huge
    ``k`` aborts the process). Out-of-range filter rows are ignored. Raises ``ValueError`` for a
    wrong shape or a non-finite query.
    """
    query = _query_matrix(query_vector, index.d)
    total = int(index.ntotal)
    row_ids = None if rows is None else _valid_rows(rows, total)
    candidates = total if row_ids is None else len(row_ids)
    k = min(int(k), candidates)
    if k <= 0:
        return []
    graph = faiss.downcast_index(index)
    selector = None
    if row_ids is not None and len(row_ids) < total:
        if isinstance(graph, faiss.IndexHNSW) and len(row_ids) <= EXACT_FILTER_LIMIT:
            return _exact_subset(graph, query, row_ids, k)
        # Kept in a local for the whole search: the parameters hold only a raw pointer to it.
        selector = faiss.IDSelectorBatch(row_ids)
    if isinstance(graph, faiss.IndexHNSW):
        # The bundled type stubs lack SearchParametersHNSW; it exists at run time.
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = max(int(graph.hnsw.efSearch), k)
        params.sel = selector
        scores, ids = graph.search(query, k, params=params)
        return _ranked(ids[0].astype(np.int64), scores[0], k)
    params = faiss.SearchParameters()
    params.sel = selector
    # Exact scan: take a margin of candidates, then rank them by per-row scores (``_row_scores``)
    # so that the k-th place does not depend on the scan's rounding.
    fetch = min(candidates, k + max(k, RESCORE_MARGIN))
    _, ids = graph.search(query, fetch, params=params)
    row_ids = ids[0].astype(np.int64)
    row_ids = row_ids[row_ids >= 0]
    return _ranked(row_ids, _row_scores(graph, query, row_ids), k)
