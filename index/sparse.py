"""Sparse retrieval: BM25 (bm25s, Lucene variant) over chunk texts, saved without pickle.

Terms come from ``index.analysis.content_terms`` (bm25s's word pattern, lower-cased, initialisms
joined, English stopwords and question words removed, Snowball-stemmed by PyStemmer), the same
terms answer scoring uses. The vocabulary is numbered in sorted term order rather than bm25s's set
order, which follows Python's per-process string hashing, so the same texts give the same files.
"""

from __future__ import annotations

import array
import itertools
import mmap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt

from index.analysis import content_terms
from index.records import Hit

BM25_METHOD = "lucene"
BM25_K1 = 1.2
BM25_B = 0.75

BM25_PARAMS: dict[str, str | float] = {
    "method": BM25_METHOD,
    "k1": BM25_K1,
    "b": BM25_B,
    "analyzer": "index.analysis.content_terms (acronyms kept)",
    "stopwords": "bm25s en_plus + question words",
    "stemmer": "snowball english",
}
"""What the manifest records about the sparse index."""

SPARSE_FILES = (
    "data.csc.index.npy",
    "indices.csc.index.npy",
    "indptr.csc.index.npy",
    "params.index.json",
    "vocab.index.json",
)
"""The files ``BM25.save`` writes for the Lucene method without a corpus: three ``.npy`` arrays
(``allow_pickle=False``) and two JSON files."""

_PLACEHOLDER_TOKEN = ""


@dataclass(frozen=True, slots=True)
class _TokenIdRows:
    """Each text's term ids, one flat int32 array: what bm25s reads as a corpus of ``ids``.

    bm25s iterates the rows (twice) and counts each one; a list per text of Python ints would cost
    about 36 bytes a term (over 2 GB at a million chunks) where this costs 4.
    """

    flat: npt.NDArray[np.int32]
    offsets: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __iter__(self) -> Iterator[list[int]]:
        for first, last in itertools.pairwise(self.offsets.tolist()):
            yield self.flat[first:last].tolist()


@dataclass(frozen=True, slots=True)
class _TokenizedCorpus:
    """The ``ids`` and ``vocab`` pair bm25s accepts in place of token lists."""

    ids: _TokenIdRows
    vocab: dict[str, int]


def build_sparse(texts: Sequence[str]) -> bm25s.BM25:
    """Build a BM25 index whose document ``i`` is ``texts[i]``; needs at least one text."""
    if not texts:
        raise ValueError("cannot build a BM25 index over zero texts")
    # Terms are numbered as first seen, then renumbered in sorted term order.
    first_seen: dict[str, int] = {}
    flat = array.array("i")
    offsets = [0]
    for text in texts:
        flat.extend(first_seen.setdefault(token, len(first_seen)) for token in content_terms(text))
        offsets.append(len(flat))
    if first_seen:
        terms = sorted(first_seen)
        vocabulary = {token: number for number, token in enumerate(terms)}
        renumbered = np.empty(len(terms), dtype=np.int32)
        renumbered[[first_seen[token] for token in terms]] = np.arange(len(terms), dtype=np.int32)
        rows = _TokenIdRows(flat=renumbered[np.frombuffer(flat, dtype=np.int32)],
                            offsets=np.asarray(offsets, dtype=np.int64))
    else:
        # Every text is empty or only stopwords. bm25s divides by the mean document length, so give
        # each document one placeholder token that no query can contain.
        vocabulary = {_PLACEHOLDER_TOKEN: 0}
        rows = _TokenIdRows(flat=np.zeros(len(texts), dtype=np.int32),
                            offsets=np.arange(len(texts) + 1, dtype=np.int64))
    retriever = bm25s.BM25(method=BM25_METHOD, k1=BM25_K1, b=BM25_B, backend="numpy")
    retriever.index(_TokenizedCorpus(ids=rows, vocab=vocabulary), show_progress=False)
    return retriever


def save_sparse(retriever: bm25s.BM25, folder: Path) -> None:
    """Write the BM25 arrays and vocabulary into ``folder`` (no corpus, nothing pickled)."""
    retriever.save(str(folder), corpus=None, allow_pickle=False, show_progress=False)


def load_sparse(folder: Path) -> bm25s.BM25:
    """Load a saved BM25 index with its score arrays memory-mapped read-only.

    A query reads only its terms' columns, so the arrays stay out of resident memory except for
    the pages queries touch (version folders are never modified, and a mapping outlives the
    removal of its file). The arrays are checked for the invariants a query relies on
    (``check_sparse``), so damage that passed the checksums (a writer bug, a re-signed folder) is
    refused here with ``ValueError`` instead of failing later, at query time; the pages that check
    read are then dropped from this process again.
    """
    retriever = bm25s.BM25.load(
        str(folder),
        mmap=True,
        load_corpus=False,
        allow_pickle=False,
        show_progress=False,
        override_params={"backend": "numpy"},
    )
    check_sparse(retriever)
    for name in ("data", "indices", "indptr"):
        release_pages(retriever.scores[name])
    return retriever


def release_pages(array: object) -> None:
    """Drop the resident pages of a read-only memory-mapped array (they are read again on use)."""
    mapping = getattr(array, "_mmap", None)
    if isinstance(mapping, mmap.mmap):
        mapping.madvise(mmap.MADV_DONTNEED)


_FLOAT_DTYPES = frozenset({"float32", "float64"})
_INT_DTYPES = frozenset({"int32", "int64"})


def check_sparse(retriever: bm25s.BM25) -> None:
    """Raise ``ValueError`` unless the BM25 arrays form a well-formed score matrix.

    The matrix is CSC with one column per term id: ``indptr`` starts at 0, never decreases, has
    at most one entry more than the vocabulary and ends at ``len(data) == len(indices)``; every
    row index is a document ``< num_docs``; scores are finite; term ids are distinct and in range;
    the parameters name the method and dtypes this module writes.
    """
    if (retriever.method != BM25_METHOD or str(retriever.dtype) not in _FLOAT_DTYPES
            or str(retriever.int_dtype) not in _INT_DTYPES):
        raise ValueError(f"unexpected BM25 parameters: method {retriever.method!r}, dtype "
                         f"{retriever.dtype!r}, int_dtype {retriever.int_dtype!r}")
    scores = retriever.scores
    data, indices, indptr = (np.asarray(scores.get(name)) for name in ("data", "indices", "indptr"))
    num_docs = scores.get("num_docs")
    vocabulary: dict[str, int] = retriever.vocab_dict
    if not isinstance(num_docs, int) or isinstance(num_docs, bool) or num_docs < 0:
        raise ValueError(f"num_docs is {num_docs!r}, not a count")
    if data.dtype.kind != "f" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise ValueError(f"score arrays have dtypes {data.dtype}, {indices.dtype}, {indptr.dtype}")
    if data.ndim != 1 or indices.shape != data.shape or indptr.ndim != 1 or len(indptr) == 0:
        raise ValueError(f"score arrays have shapes {data.shape}, {indices.shape}, {indptr.shape}")
    if len(indptr) > len(vocabulary) + 1 or indptr[0] != 0 or indptr[-1] != len(data) \
            or bool(np.any(np.diff(indptr) < 0)):
        raise ValueError("indptr is not a column pointer over the score arrays")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= num_docs):
        raise ValueError(f"a score names a document outside 0..{num_docs - 1}")
    if not bool(np.all(np.isfinite(data))):
        raise ValueError("a BM25 score is not finite")
    ids = list(vocabulary.values())
    if any(not isinstance(term_id, int) or isinstance(term_id, bool) for term_id in ids) \
            or sorted(ids) != list(range(len(ids))):
        raise ValueError("the vocabulary's term ids are not 0..n-1")


def document_count(retriever: bm25s.BM25) -> int:
    """Number of documents (rows) the BM25 index scores."""
    return int(retriever.scores["num_docs"])


def top_rows(scores: npt.NDArray[np.float32], k: int) -> list[Hit]:
    """The ``k`` best positive scores, by score descending then row ascending."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        # Keep every row tied with the k-th score, so the tie-break below sees all of them.
        kth_best = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
        candidates = candidates[scores[candidates] >= kth_best]
    order = np.lexsort((candidates, -scores[candidates].astype(np.float64)))[:k]
    return [Hit(row=int(candidates[i]), score=float(scores[candidates[i]])) for i in order]


def _query_term_ids(retriever: bm25s.BM25, query: str) -> list[int]:
    """Term ids of the query's analysed terms that the vocabulary knows, in query order."""
    vocabulary: dict[str, int] = retriever.vocab_dict
    return [vocabulary[token] for token in content_terms(query, initials=False)
            if token != _PLACEHOLDER_TOKEN and token in vocabulary]


def query_scores(retriever: bm25s.BM25, query: str) -> npt.NDArray[np.float32] | None:
    """BM25 score of ``query`` for every row (float32); None when no query term is in the vocabulary."""
    token_ids = _query_term_ids(retriever, query)
    if not token_ids:
        return None
    return np.asarray(retriever.get_scores_from_ids(token_ids), dtype=np.float32)


def search_sparse(retriever: bm25s.BM25, query: str, k: int,
                  rows: npt.ArrayLike | None = None, *,
                  scores: npt.NDArray[np.float32] | None = None) -> list[Hit]:
    """Top ``k`` rows by BM25 score for ``query``, optionally only among ``rows``.

    Rows without any query term are never returned, so a query of only stopwords or unknown
    words gives ``[]``. Out-of-range filter rows are ignored. ``scores``, when given, is
    ``query_scores(retriever, query)``, computed once for several uses.
    """
    total = document_count(retriever)
    k = min(int(k), total)
    if scores is None and k > 0:
        scores = query_scores(retriever, query)
    if scores is None or k <= 0:
        return []
    if rows is not None:
        row_ids = np.unique(np.asarray(rows, dtype=np.int64).reshape(-1))
        row_ids = row_ids[(row_ids >= 0) & (row_ids < total)]
        if len(row_ids) == 0:
            return []
        # Excluded rows score 0 and are dropped (bm25s's weight mask, multiplied the same way).
        weight_mask = np.zeros(total, dtype=np.float32)
        weight_mask[row_ids] = 1.0
        scores = scores * weight_mask
    return top_rows(scores, k)


def score_rows(retriever: bm25s.BM25, query: str, rows: npt.ArrayLike, *,
               scores: npt.NDArray[np.float32] | None = None) -> npt.NDArray[np.float32]:
    """BM25 scores of ``query`` for the given rows (0 for a row without any query term).

    ``scores``, when given, is ``query_scores(retriever, query)``.
    """
    row_ids = np.asarray(rows, dtype=np.int64)
    if len(row_ids) == 0:
        return np.zeros(0, dtype=np.float32)
    if scores is None:
        scores = query_scores(retriever, query)
    if scores is None:
        return np.zeros(len(row_ids), dtype=np.float32)
    return scores[row_ids]


def document_frequencies(retriever: bm25s.BM25, terms: Sequence[str]) -> list[int]:
    """How many chunks contain each analysed term: the length of its column in the score matrix."""
    vocabulary: dict[str, int] = retriever.vocab_dict
    indptr = retriever.scores["indptr"]
    numbers = [vocabulary.get(term) for term in terms]
    return [0 if number is None else int(indptr[number + 1] - indptr[number]) for number in numbers]


def lucene_idf(total: int, frequency: int) -> float:
    """Lucene BM25 idf of a term found in ``frequency`` of ``total`` chunks."""
    return float(np.log(1.0 + (total - frequency + 0.5) / (frequency + 0.5)))


def term_idf(retriever: bm25s.BM25, terms: Sequence[str]) -> dict[str, float]:
    """Lucene BM25 idf of each analysed term; a term absent from the corpus gets the largest idf.

    Document frequency is the length of the term's column in bm25s's CSC score matrix.
    """
    total = document_count(retriever)
    return {term: lucene_idf(total, frequency)
            for term, frequency in zip(terms, document_frequencies(retriever, terms), strict=True)}
