"""``Index``: one loaded, verified index version, ready to search when constructed."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import bm25s
import faiss
import numpy as np
import numpy.typing as npt

from index.dense import search_dense
from index.document_lines import DocumentLines
from index.records import Hit, Manifest, Vectors
from index.sparse import document_frequencies, query_scores, score_rows, search_sparse, term_idf
from index.tables import ChunkTable, SentenceTable
from index.vector_file import VectorFile
from ingest import Document

RowIds = npt.NDArray[np.int64]


def _sentence_bounds(chunks: ChunkTable, sentences: SentenceTable) -> tuple[RowIds, RowIds]:
    """For each chunk, the first and past-the-last rows of the sentences inside its offsets.

    Sentences are grouped by document, sorted by offsets inside it and do not overlap, so those
    rows are contiguous: from the first sentence of the chunk's document starting at or after the
    chunk's start to the last one ending at or before its end. Documents are ranked in sentence
    order so that one sorted key (``rank << 32 | offset``) finds both with a binary search.
    Raises ``ValueError`` when the sentences are not so ordered.
    """
    document_count = len(chunks.document_texts.doc_ids)
    sentence_documents = sentences.doc_rows.astype(np.int64)
    first_rows, first_positions = np.unique(sentence_documents, return_index=True)
    rank = np.full(document_count, -1, dtype=np.int64)
    rank[first_rows[np.argsort(first_positions)]] = np.arange(len(first_rows))
    shift = np.int64(32)
    sentence_ranks = rank[sentence_documents] << shift
    starts = sentence_ranks | sentences.starts.astype(np.int64)
    ends = sentence_ranks | sentences.ends.astype(np.int64)
    if np.any(np.diff(starts) < 0) or np.any(np.diff(ends) < 0):
        raise ValueError("sentences are not grouped by document and sorted by offsets")
    chunk_ranks = rank[chunks.doc_rows.astype(np.int64)]
    low = np.searchsorted(starts, (chunk_ranks << shift) | chunks.starts.astype(np.int64), side="left")
    high = np.searchsorted(ends, (chunk_ranks << shift) | chunks.ends.astype(np.int64), side="right")
    without = chunk_ranks < 0
    low[without] = 0
    high = np.where(without, 0, np.maximum(low, high))
    return low.astype(np.int64), high.astype(np.int64)


class Index:
    r"""A verified index version in memory: records, vectors, FAISS and BM25 (see ``load_index``).

    Row ``i`` of ``chunk_vectors``, of the FAISS index and of the BM25 index is ``chunks[i]``.
    ``chunks`` and ``sentences`` are column tables (``index.tables``) that build a record on
    access; the vectors are ``VectorFile``\ s, read from the version's files row by row (a
    ``ShardedIndex`` holds its merged vectors as read-only arrays instead).
    Read-only after construction, so concurrent searches from threads are safe.
    """

    def __init__(
        self,
        *,
        root: Path,
        version_dir: Path,
        manifest: Manifest,
        documents: Mapping[str, Document],
        chunks: ChunkTable,
        sentences: SentenceTable,
        chunk_vectors: VectorFile | Vectors,
        sentence_vectors: VectorFile | Vectors,
        dense: faiss.Index,
        sparse: bm25s.BM25,
    ) -> None:
        self.root = root
        self.version_dir = version_dir
        self.manifest = manifest
        # Documents read from their file on access stay so; any other mapping is copied read-only.
        self.documents: Mapping[str, Document] = (documents if isinstance(documents, DocumentLines)
                                                  else MappingProxyType(dict(documents)))
        self.chunks = chunks
        self.sentences = sentences
        self.chunk_vectors: VectorFile | Vectors = chunk_vectors
        self.sentence_vectors: VectorFile | Vectors = sentence_vectors
        self._dense = dense
        self._sparse = sparse
        self._sentence_starts, self._sentence_ends = _sentence_bounds(chunks, sentences)
        # Chunk rows grouped by document row: document d's rows are
        # _rows_by_document[_document_offsets[d] : _document_offsets[d + 1]].
        document_rows = chunks.doc_rows.astype(np.int64)
        self._rows_by_document: RowIds = np.argsort(document_rows, kind="stable").astype(np.int64)
        self._document_offsets: RowIds = np.searchsorted(
            document_rows[self._rows_by_document], np.arange(len(chunks.document_texts.doc_ids) + 1), side="left"
        ).astype(np.int64)
        self._document_row_of = chunks.document_texts.row_of
        self._last_sparse_query = threading.local()

    @property
    def index_version(self) -> str:
        """The content address of the loaded version (its folder name)."""
        return self.manifest.index_version

    def dense_search(self, query_vector: npt.ArrayLike, k: int,
                     rows: npt.ArrayLike | None = None) -> list[Hit]:
        """Top ``k`` chunk rows by cosine similarity to a ``(dimension,)`` unit query vector.

        Raises ``ValueError`` for a wrong shape or a NaN/infinite query.
        """
        return search_dense(self._dense, query_vector, k, rows)

    def sparse_search(self, question: str, k: int,
                      rows: npt.ArrayLike | None = None) -> list[Hit]:
        """Top ``k`` chunk rows by BM25 score; ``[]`` when no query word is in the vocabulary."""
        return search_sparse(self._sparse, question, k, rows, scores=self._query_scores(question))

    def sparse_scores(self, question: str, rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Exact BM25 scores of ``question`` for the given chunk rows."""
        return score_rows(self._sparse, question, np.asarray(rows, dtype=np.int64),
                          scores=self._query_scores(question))

    def _query_scores(self, question: str) -> npt.NDArray[np.float32] | None:
        """``query_scores`` of ``question``, kept for the thread's next call with the same question.

        Hybrid ``max_z`` retrieval asks BM25 for the top rows and then for the pool's exact scores:
        one pass over the query terms' columns serves both (at a million chunks the pass is most of
        the BM25 time). One vector per thread, so concurrent queries never share one.
        """
        memo = self._last_sparse_query
        if getattr(memo, "question", None) != question:
            memo.question, memo.scores = None, query_scores(self._sparse, question)
            memo.question = question
        scores: npt.NDArray[np.float32] | None = memo.scores
        return scores

    def dense_scores(self, query_vector: npt.NDArray[np.float32], rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Exact cosine similarities of a unit query vector to the given chunk rows."""
        # Inner product equals cosine similarity on unit vectors.
        return np.asarray(self.chunk_vectors[np.asarray(rows, dtype=np.int64)] @ query_vector, dtype=np.float32)

    def term_weights(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25 idf of analysed query terms over this index's chunks (rarer terms weigh more)."""
        return term_idf(self._sparse, list(terms))

    def document_frequencies(self, terms: Iterable[str]) -> list[int]:
        """How many of this index's chunks contain each analysed term (sharded idf sums these)."""
        return document_frequencies(self._sparse, list(terms))

    def rows_for_documents(self, doc_ids: Iterable[str]) -> RowIds:
        """Sorted int64 chunk rows of the given documents; unknown ids match nothing."""
        parts = [self._rows_by_document[self._document_offsets[row] : self._document_offsets[row + 1]]
                 for row in {self._document_row_of[doc_id] for doc_id in doc_ids
                             if doc_id in self._document_row_of}]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(parts))

    def sentence_rows(self, chunk_row: int) -> range:
        """Rows of ``sentences`` that lie inside chunk ``chunk_row``, in text order."""
        return range(int(self._sentence_starts[chunk_row]), int(self._sentence_ends[chunk_row]))

    def document_summaries(self) -> list[tuple[str, str, str]]:
        """``(doc_id, title, source)`` of every document, by doc_id, without reading any text."""
        if isinstance(self.documents, DocumentLines):
            lines = self.documents
            return sorted(zip(lines.doc_ids, lines.titles, lines.sources, strict=True))
        return sorted((document.doc_id, document.title, document.source)
                      for document in self.documents.values())

    def chunk_counts(self) -> dict[str, int]:
        """Number of chunks of every document of the index (0 for one without chunks)."""
        counts = np.diff(self._document_offsets)
        return {doc_id: int(counts[row]) for doc_id, row in self._document_row_of.items()}
