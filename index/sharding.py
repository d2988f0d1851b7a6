"""Splitting one index's content into shards (pure): which shard a document goes to, and its rows.

A document goes to shard ``int(sha256(doc_id)) mod N``, so the assignment never depends on the
rest of the corpus, the machine or the Python process. A shard holds whole documents: their
chunks, sentences and vectors, in the global order (sorted by ``(doc_id, ordinal)`` and
``(doc_id, start)``), so a shard's row order is the global row order restricted to it.

BM25 statistics stay global: ``slice_sparse`` cuts a shard's score matrix out of the whole
corpus's (bm25s precomputes every (chunk, term) score with the corpus-wide idf and average
length), so a chunk scores the same in its shard as in the unsharded index.
"""

from __future__ import annotations

import dataclasses
import hashlib

import bm25s
import numpy as np
import numpy.typing as npt

from index.records import IndexContent

MAX_SHARDS = 1024
SHARDING_RULE = "sha256(doc_id utf-8) as a big-endian integer, mod shard_count"


def shard_of(doc_id: str, count: int) -> int:
    """The shard (``0..count-1``) that holds document ``doc_id``."""
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"shard count must lie in 1..{MAX_SHARDS}, got {count}")
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest(), "big") % count


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ShardContent:
    """One shard's content and the global rows of its chunks (ascending)."""

    shard: int
    content: IndexContent
    chunk_rows: npt.NDArray[np.int64]


def split_content(content: IndexContent, count: int) -> tuple[ShardContent | None, ...]:
    """``content`` cut into ``count`` shards by ``shard_of``; ``None`` for a shard without chunks."""
    document_shard = {document.doc_id: shard_of(document.doc_id, count)
                      for document in content.documents}
    chunk_shards = np.asarray([document_shard[chunk.doc_id] for chunk in content.chunks],
                              dtype=np.int64)
    sentence_shards = np.asarray([document_shard[sentence.doc_id] for sentence in content.sentences],
                                 dtype=np.int64)
    shards: list[ShardContent | None] = []
    for shard in range(count):
        chunk_rows = np.flatnonzero(chunk_shards == shard).astype(np.int64)
        if len(chunk_rows) == 0:
            shards.append(None)
            continue
        sentence_rows = np.flatnonzero(sentence_shards == shard)
        part = dataclasses.replace(
            content,
            documents=tuple(document for document in content.documents
                            if document_shard[document.doc_id] == shard),
            chunks=tuple(content.chunks[row] for row in chunk_rows),
            sentences=tuple(content.sentences[row] for row in sentence_rows),
            chunk_vectors=np.ascontiguousarray(content.chunk_vectors[chunk_rows]),
            sentence_vectors=np.ascontiguousarray(content.sentence_vectors[sentence_rows]),
        )
        shards.append(ShardContent(shard=shard, content=part, chunk_rows=chunk_rows))
    return tuple(shards)


def slice_sparse(retriever: bm25s.BM25, rows: npt.NDArray[np.int64]) -> bm25s.BM25:
    """The BM25 index of the chunks ``rows`` (ascending) of ``retriever``, with its global scores.

    Keeps the columns (terms) that still score a chunk, plus bm25s's empty-token column, numbered
    in the global order (so in sorted term order, like ``index.sparse.build_sparse``). Each kept
    score is copied bit for bit, and a query adds a chunk's per-term scores in the query's term
    order on either index, so every row scores exactly what it scores in ``retriever``.
    """
    scores = retriever.scores
    data = np.asarray(scores["data"])
    indices = np.asarray(scores["indices"])
    indptr = np.asarray(scores["indptr"])
    total = int(scores["num_docs"])
    local_of = np.full(total, -1, dtype=np.int64)
    local_of[rows] = np.arange(len(rows), dtype=np.int64)
    keep = local_of[indices] >= 0
    columns = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    kept_per_column = np.bincount(columns[keep], minlength=len(indptr) - 1)
    vocabulary: dict[str, int] = retriever.vocab_dict
    term_of = {number: term for term, number in vocabulary.items()}
    kept_columns = [number for number in range(len(indptr) - 1)
                    if kept_per_column[number] > 0 or term_of.get(number) == ""]
    new_number = {old: new for new, old in enumerate(kept_columns)}
    sliced = bm25s.BM25(method=retriever.method, k1=retriever.k1, b=retriever.b,
                        delta=retriever.delta, idf_method=retriever.idf_method,
                        dtype=retriever.dtype, int_dtype=retriever.int_dtype, backend="numpy")
    new_indptr = np.zeros(len(kept_columns) + 1, dtype=indptr.dtype)
    new_indptr[1:] = np.cumsum(kept_per_column[kept_columns])
    sliced.scores = {
        "data": data[keep],
        "indices": local_of[indices[keep]].astype(indices.dtype),
        "indptr": new_indptr,
        "num_docs": len(rows),
    }
    sliced.vocab_dict = {term: new_number[number] for term, number in vocabulary.items()
                         if number in new_number}
    if "" in vocabulary and "" not in sliced.vocab_dict:
        # bm25s numbers its empty token one past the last column, without a column of its own.
        sliced.vocab_dict[""] = len(kept_columns)
    sliced.unique_token_ids_set = set(sliced.vocab_dict.values())
    sliced.nonoccurrence_array = None
    return sliced
