"""Duplicate detection (pure): repeated lines become excluded regions; near-duplicate chunks drop.

Web-extracted news repeats itself: headlines printed twice, captions repeated under a gallery,
wire copy shared by several outlets. Each repeated text is indexed once, where it first occurs
(documents in doc_id order, so the result does not depend on file-system order).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ingest.records import Chunk, Document, Region

_WORD = re.compile(r"\w+", re.UNICODE)
_LINE = re.compile(r"[^\r\n]+")
MIN_DUPLICATE_WORDS = 5
SHINGLE_SIZE = 3
NEAR_DUPLICATE_JACCARD = 0.8
EXTRA_PREFIX = 5
"""Shingles indexed and probed beyond the prefix one shared shingle needs (``_least_shared``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DroppedChunk:
    """A chunk left out of the index because it repeats ``duplicate_of``."""

    chunk_id: str
    duplicate_of: str
    similarity: float


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def merge_regions(regions: Iterable[Region]) -> tuple[Region, ...]:
    """Sort regions and merge overlapping ones (the earlier region's reason wins)."""
    merged: list[Region] = []
    for region in sorted(regions, key=lambda region: (region.start, region.end)):
        if merged and region.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = replace(last, end=max(last.end, region.end))
        else:
            merged.append(region)
    return tuple(merged)


def _inside(start: int, end: int, regions: Sequence[Region]) -> bool:
    return any(region.start <= start and end <= region.end for region in regions)


def _line_digest(words: Sequence[str]) -> bytes:
    """A 16-byte digest of a line's words (words never contain the separator, so it is injective
    up to the hash: ``mark_duplicate_lines`` compares the words themselves on a match)."""
    return hashlib.blake2b("\x1f".join(words).encode("utf-8"), digest_size=16).digest()


def mark_duplicate_lines(documents: Sequence[Document]) -> tuple[Document, ...]:
    """Exclude every line (of at least ``MIN_DUPLICATE_WORDS`` words) that repeats an earlier kept line.

    Lines are compared by their words, case-folded, ignoring punctuation and spacing. Lines that
    are already excluded neither count as first occurrences nor get marked again. Kept lines are
    remembered by a digest of their words and where they are, not by the words (which, for a
    million-chunk corpus, would be most of its text again as Python objects).
    """
    ordered = sorted(documents, key=lambda document: document.doc_id)
    # digest -> (document number, start, end) of each first occurrence with that digest
    seen: dict[bytes, list[tuple[int, int, int]]] = {}
    result: list[Document] = []
    for number, document in enumerate(ordered):
        duplicates: list[Region] = []
        for line in _LINE.finditer(document.text):
            if _inside(line.start(), line.end(), document.excluded):
                continue
            words = _words(line.group())
            if len(words) < MIN_DUPLICATE_WORDS:
                continue
            places = seen.setdefault(_line_digest(words), [])
            if any(_words(ordered[first].text[start:end]) == words for first, start, end in places):
                duplicates.append(Region(start=line.start(), end=line.end(), reason="duplicate"))
            else:
                places.append((number, line.start(), line.end()))
        result.append(replace(document, excluded=merge_regions((*document.excluded, *duplicates)))
                      if duplicates else document)
    return tuple(result)


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _words(text)
    if len(words) < SHINGLE_SIZE:
        return frozenset({tuple(words)})
    return frozenset(tuple(words[i : i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1))


def _least_shared(size: int, other_size: int, threshold: float) -> int:
    """How many shingles two sets at ``threshold`` share at least among their extended prefixes.

    With ``o`` shingles in common (``o`` is at least ``max(1, floor(t * size))`` for each set, as in
    ``_prefix_length``), the ``j``-th common shingle in the global order has at most ``o - j``
    common ones after it, so it lies within the first ``size - o + j`` of each set: the first
    ``min(1 + EXTRA_PREFIX, o)`` common shingles all lie in both prefixes extended by
    ``EXTRA_PREFIX``.
    """
    least_overlap = max(1, math.floor(threshold * size), math.floor(threshold * other_size))
    return min(1 + EXTRA_PREFIX, least_overlap)


def _prefix_length(size: int, threshold: float) -> int:
    """How many of a set's rarest shingles to index and probe so no pair at ``threshold`` is missed.

    Jaccard ≥ t needs an overlap of at least ``ceil(t * size)`` shingles (and at least one), and
    two sets overlapping in k shingles, both sorted in one global order, share a shingle among the
    first ``size - k + 1`` of each. Rounding ``t * size`` down only lengthens the prefix, so float
    error never makes it unsafe.
    """
    least_overlap = max(1, math.floor(threshold * size))
    return max(0, size - least_overlap + 1)


def shingle_keys(texts: Sequence[str]) -> list[npt.NDArray[np.int64]]:
    """Each text's word-3-shingle set (``_shingles``) as a sorted array of distinct integer keys.

    Equal keys mean equal shingles: words are numbered from 1 in first-seen order and a shingle
    ``(a, b, c)`` is the base-``V`` number ``abc`` (``V`` one more than the vocabulary), a text of
    fewer than three words being its words padded with 0. Where ``V**3`` would not fit in int64,
    shingles are numbered through a dictionary instead. One array per text instead of a set of
    word tuples per text keeps a million chunks in about 1 KB each.
    """
    vocabulary: dict[str, int] = {}
    word_ids = [np.fromiter((vocabulary.setdefault(word, len(vocabulary) + 1) for word in _words(text)),
                            dtype=np.int64) for text in texts]
    base = len(vocabulary) + 1
    numbered: dict[tuple[int, int, int], int] | None = None if base**3 < 2**63 else {}
    keys: list[npt.NDArray[np.int64]] = []
    for text_ids in word_ids:
        ids = (text_ids if len(text_ids) >= SHINGLE_SIZE else
               np.concatenate([text_ids, np.zeros(SHINGLE_SIZE - len(text_ids), dtype=np.int64)]))
        first, second, third = ids[:-2], ids[1:-1], ids[2:]
        if numbered is None:
            keys.append(np.unique((first * base + second) * base + third))
        else:
            keys.append(np.unique(np.fromiter(
                (numbered.setdefault(triple, len(numbered))
                 for triple in zip(first.tolist(), second.tolist(), third.tolist(), strict=True)),
                dtype=np.int64)))
    return keys


def _overlap(first: npt.NDArray[np.int64], second: npt.NDArray[np.int64]) -> int:
    """How many keys two sorted arrays of distinct keys share."""
    places = np.minimum(np.searchsorted(second, first), len(second) - 1)
    return int(np.count_nonzero(second[places] == first))


def drop_near_duplicate_chunks(
    chunks: Sequence[Chunk], threshold: float = NEAR_DUPLICATE_JACCARD
) -> tuple[tuple[Chunk, ...], tuple[DroppedChunk, ...]]:
    """Keep the first of every group of chunks whose word-3-shingle Jaccard is ≥ ``threshold``.

    Each chunk is compared with the kept chunks of other documents (chunks of one document overlap
    by design) and dropped as a repeat of the most similar one (the earliest on a tie).
    Prefix filtering (Bayardo et al., "Scaling up all pairs similarity search", 2007) keeps this
    near-linear without missing a pair: only each chunk's rarest shingles are indexed and probed,
    so common trigrams ("said on Monday") do not make every pair a candidate, and each candidate's
    Jaccard is computed exactly from its full overlap. Any one global order of the shingles finds
    every pair at the threshold, so the result does not depend on the order; a shingle found in one
    chunk only can match nothing and is not indexed. The prefixes are ``EXTRA_PREFIX`` shingles
    longer than one shared shingle needs, and a candidate must share as many more
    (``_least_shared``): where even the rarest shingles are common (a generated corpus of a small
    vocabulary) most chunks share one or two of them by chance, and checking each such pair made
    the pass quadratic.
    """
    shingle_sets = shingle_keys([chunk.text for chunk in chunks])
    if shingle_sets:
        distinct, frequencies = np.unique(np.concatenate(shingle_sets), return_counts=True)
    else:
        distinct, frequencies = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    kept: list[Chunk] = []
    kept_shingles: list[npt.NDArray[np.int64]] = []
    postings: dict[int, list[int]] = {}
    dropped: list[DroppedChunk] = []
    for chunk, shingles in zip(chunks, shingle_sets, strict=True):
        frequency = frequencies[np.searchsorted(distinct, shingles)]
        size = len(shingles)
        rarest_first = np.lexsort((shingles, frequency))[: _prefix_length(size, threshold) + EXTRA_PREFIX]
        prefix = shingles[rarest_first][frequency[rarest_first] > 1].tolist()
        shared = Counter(position for shingle in prefix for position in postings.get(shingle, ()))
        best_position, best_similarity = -1, 0.0
        for position in sorted(shared):
            other = kept_shingles[position]
            if kept[position].doc_id == chunk.doc_id \
                    or shared[position] < _least_shared(size, len(other), threshold):
                continue
            if min(size, len(other)) < threshold * max(size, len(other)):
                continue  # Jaccard is at most the size ratio: this pair cannot reach the threshold
            overlap = _overlap(shingles, other)
            similarity = overlap / (size + len(other) - overlap)
            if similarity > best_similarity:
                best_position, best_similarity = position, similarity
        if best_position >= 0 and best_similarity >= threshold:
            dropped.append(DroppedChunk(chunk_id=chunk.chunk_id,
                                        duplicate_of=kept[best_position].chunk_id,
                                        similarity=round(best_similarity, 4)))
            continue
        position = len(kept)
        kept.append(chunk)
        kept_shingles.append(shingles)
        for shingle in prefix:
            postings.setdefault(shingle, []).append(position)
    return tuple(kept), tuple(dropped)
