"""Searching one shard of a sharded index, and merging shards' answers exactly.

The per-shard API is two frozen records and one call, so that an in-process thread pool (today,
``index.sharded.ShardedIndex``) and a remote deployment (a Ray Serve replica per shard, issue 14)
are two transports of the same messages::

    ShardSearcher(shard, index).search(ShardQuery) -> ShardResult      (one shard, any process)
    merge_hits([(global_rows, scores), ...], k) -> list[Hit]           (pure, on the coordinator)

Both records hold only numpy arrays, tuples, strings and numbers, so they pickle (Ray's object
store) and carry no reference to an index. Rows inside them are the shard's own (local) rows:
row ``i`` of a shard is the ``i``-th of its chunks sorted by ``(doc_id, ordinal)``; the
coordinator alone maps local rows to global ones, so a shard needs to know nothing but itself.

``ShardQuery`` asks for up to three things at once (a field left at its default is skipped):

- ``dense_k`` > 0: the shard's top ``dense_k`` rows by cosine similarity to ``query_vector``;
- ``sparse_k`` > 0: the shard's top ``sparse_k`` rows by BM25 score of ``question`` (positive only);
- ``score_rows``: for these rows, the exact BM25 score of ``question`` and the chunk vectors
  (the coordinator multiplies the vectors with the query itself, in one matrix in the unsharded
  row order, so every dense score is bit-identical to the unsharded index's);
- ``terms``: the document frequency of each analysed term in the shard (global idf = sums).

``rows``, when set, restricts both searches to those local rows (a document filter); an empty
array matches nothing.

A hybrid ``max_z`` query costs three rounds today (dense top k, BM25 top k, exact BM25 scores of
the fused pool). A remote transport can fold them into one: every row of the pool is in its own
shard's dense or BM25 top ``k``, so a shard that returns ``score_rows`` results for all of its
own candidates gives the coordinator everything ``max_z`` needs.

Why the merge is exact: BM25 statistics are global (each shard's score matrix is a row slice of
the whole corpus's, ``index.sharding.slice_sparse``), so a row scores the same in its shard as in
the unsharded index; the global top ``k`` of one side is contained in the union of every shard's
top ``k``; and ties are broken by the global row, which is the unsharded row, because every shard
keeps its rows in the global order. A shard breaks ties at its own ``k``-th place by its local row
(``index.sparse.top_rows``; FAISS's exact scan keeps the lower id), which is the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from index.records import Hit
from index.searcher import Index

RowIds = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]

_NO_ROWS: RowIds = np.zeros(0, dtype=np.int64)
_NO_SCORES: Scores = np.zeros(0, dtype=np.float32)


def _empty_rows() -> RowIds:
    return _NO_ROWS.copy()


def _empty_scores() -> Scores:
    return _NO_SCORES.copy()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardQuery:
    """One request to one shard (see the module docstring); rows are the shard's local rows."""

    question: str = ""
    query_vector: npt.NDArray[np.float32] | None = None
    dense_k: int = 0
    sparse_k: int = 0
    rows: RowIds | None = None
    score_rows: RowIds | None = None
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardResult:
    """One shard's answer to a ``ShardQuery``: local rows, best first, with their scores."""

    shard: int
    dense_rows: RowIds = field(default_factory=_empty_rows)
    dense_scores: Scores = field(default_factory=_empty_scores)
    sparse_rows: RowIds = field(default_factory=_empty_rows)
    sparse_scores: Scores = field(default_factory=_empty_scores)
    scored_rows: RowIds = field(default_factory=_empty_rows)
    scored_sparse: Scores = field(default_factory=_empty_scores)
    scored_vectors: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    term_frequencies: tuple[int, ...] = ()


def _as_arrays(hits: Sequence[Hit]) -> tuple[RowIds, Scores]:
    return (np.asarray([hit.row for hit in hits], dtype=np.int64),
            np.asarray([hit.score for hit in hits], dtype=np.float32))


class ShardSearcher:
    """Answers ``ShardQuery`` for one loaded shard (an unsharded ``Index`` over the shard's chunks).

    Read-only after construction, so one searcher serves concurrent queries from threads.
    """

    def __init__(self, shard: int, index: Index) -> None:
        self.shard = shard
        self.index = index

    def search(self, query: ShardQuery) -> ShardResult:
        """Run every part of ``query`` the query asks for on this shard (module docstring)."""
        index = self.index
        dense_rows, dense_scores = _NO_ROWS, _NO_SCORES
        if query.dense_k > 0 and query.query_vector is not None:
            dense_rows, dense_scores = _as_arrays(
                index.dense_search(query.query_vector, query.dense_k, query.rows))
        sparse_rows, sparse_scores = _NO_ROWS, _NO_SCORES
        if query.sparse_k > 0:
            sparse_rows, sparse_scores = _as_arrays(
                index.sparse_search(query.question, query.sparse_k, query.rows))
        scored_rows, scored_sparse = _NO_ROWS, _NO_SCORES
        scored_vectors = np.zeros((0, index.manifest.dimension), dtype=np.float32)
        if query.score_rows is not None and len(query.score_rows):
            scored_rows = np.asarray(query.score_rows, dtype=np.int64)
            scored_sparse = index.sparse_scores(query.question, scored_rows)
            scored_vectors = np.asarray(index.chunk_vectors[scored_rows], dtype=np.float32)
        frequencies = tuple(index.document_frequencies(query.terms)) if query.terms else ()
        return ShardResult(shard=self.shard, dense_rows=dense_rows, dense_scores=dense_scores,
                           sparse_rows=sparse_rows, sparse_scores=sparse_scores,
                           scored_rows=scored_rows, scored_sparse=scored_sparse,
                           scored_vectors=scored_vectors, term_frequencies=frequencies)


def merge_hits(parts: Sequence[tuple[RowIds, Scores]], k: int) -> list[Hit]:
    """The best ``k`` of several shards' hits (global rows): score descending, then row ascending.

    The same order ``index.dense`` and ``index.sparse`` give one index (scores compared as
    float64 of the float32 values), so merging shards' top ``k`` gives the unsharded top ``k``.
    """
    if not parts:
        return []
    rows = np.concatenate([part[0] for part in parts]).astype(np.int64)
    scores = np.concatenate([part[1] for part in parts]).astype(np.float32)
    order = np.lexsort((rows, -scores.astype(np.float64)))[:max(int(k), 0)]
    return [Hit(row=int(rows[i]), score=float(scores[i])) for i in order]
