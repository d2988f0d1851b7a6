"""``Index``: one loaded, verified index version, ready to search when constructed."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import bm25s
import faiss
import numpy as np
import numpy.typing as npt

from index.dense import search_dense
from index.records import Hit, Manifest, Vectors
from index.sparse import document_frequencies, score_rows, search_sparse, term_idf
from ingest.records import Chunk, Document, Sentence

RowIds = npt.NDArray[np.int64]


def _sentence_ranges(chunks: tuple[Chunk, ...],
                     sentences: tuple[Sentence, ...]) -> tuple[range, ...]:
    """For each chunk, the rows of ``sentences`` of its document that lie inside its offsets.

    Sentences are sorted by ``(doc_id, start)`` and do not overlap, so those rows are contiguous.
    """
    first_row: dict[str, int] = {}
    starts: dict[str, list[int]] = {}
    ends: dict[str, list[int]] = {}
    for row, sentence in enumerate(sentences):
        first_row.setdefault(sentence.doc_id, row)
        starts.setdefault(sentence.doc_id, []).append(sentence.start)
        ends.setdefault(sentence.doc_id, []).append(sentence.end)
    ranges = []
    for chunk in chunks:
        if chunk.doc_id not in first_row:
            ranges.append(range(0))
            continue
        base = first_row[chunk.doc_id]
        low = bisect.bisect_left(starts[chunk.doc_id], chunk.start)
        high = bisect.bisect_right(ends[chunk.doc_id], chunk.end)
        ranges.append(range(base + low, base + max(low, high)))
    return tuple(ranges)


class Index:
    """A verified index version in memory: records, vectors, FAISS and BM25 (see ``load_index``).

    Row ``i`` of ``chunk_vectors``, of the FAISS index and of the BM25 index is ``chunks[i]``.
    Read-only after construction, so concurrent searches from threads are safe.
    """

    def __init__(
        self,
        *,
        root: Path,
        version_dir: Path,
        manifest: Manifest,
        documents: Mapping[str, Document],
        chunks: tuple[Chunk, ...],
        sentences: tuple[Sentence, ...],
        chunk_vectors: Vectors,
        sentence_vectors: Vectors,
        dense: faiss.Index,
        sparse: bm25s.BM25,
    ) -> None:
        self.root = root
        self.version_dir = version_dir
        self.manifest = manifest
        self.documents: Mapping[str, Document] = MappingProxyType(dict(documents))
        self.chunks = chunks
        self.sentences = sentences
        self.chunk_vectors = chunk_vectors
        self.sentence_vectors = sentence_vectors
        self._dense = dense
        self._sparse = sparse
        self._sentence_ranges = _sentence_ranges(chunks, sentences)
        rows_by_document: dict[str, list[int]] = {}
        for row, chunk in enumerate(chunks):
            rows_by_document.setdefault(chunk.doc_id, []).append(row)
        self._rows_by_document = {
            doc_id: np.asarray(rows, dtype=np.int64) for doc_id, rows in rows_by_document.items()
        }

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
        return search_sparse(self._sparse, question, k, rows)

    def sparse_scores(self, question: str, rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Exact BM25 scores of ``question`` for the given chunk rows."""
        return score_rows(self._sparse, question, np.asarray(rows, dtype=np.int64))

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
        parts = [self._rows_by_document[doc_id] for doc_id in set(doc_ids)
                 if doc_id in self._rows_by_document]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(parts))

    def sentence_rows(self, chunk_row: int) -> range:
        """Rows of ``sentences`` that lie inside chunk ``chunk_row``, in text order."""
        return self._sentence_ranges[chunk_row]
