"""Duplicate detection (pure): repeated lines become excluded regions; near-duplicate chunks drop.

Web-extracted news repeats itself: headlines printed twice, captions repeated under a gallery,
wire copy shared by several outlets. Each repeated text is indexed once, where it first occurs
(documents in doc_id order, so the result does not depend on file-system order).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ingest.records import Chunk, Document, Region

_WORD = re.compile(r"\w+", re.UNICODE)
_LINE = re.compile(r"[^\r\n]+")
MIN_DUPLICATE_WORDS = 5
SHINGLE_SIZE = 3
NEAR_DUPLICATE_JACCARD = 0.8


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


def mark_duplicate_lines(documents: Sequence[Document]) -> tuple[Document, ...]:
    """Exclude every line (of at least ``MIN_DUPLICATE_WORDS`` words) that repeats an earlier kept line.

    Lines are compared by their words, case-folded, ignoring punctuation and spacing. Lines that
    are already excluded neither count as first occurrences nor get marked again.
    """
    seen: set[tuple[str, ...]] = set()
    result: list[Document] = []
    for document in sorted(documents, key=lambda document: document.doc_id):
        duplicates: list[Region] = []
        for line in _LINE.finditer(document.text):
            if _inside(line.start(), line.end(), document.excluded):
                continue
            key = tuple(_words(line.group()))
            if len(key) < MIN_DUPLICATE_WORDS:
                continue
            if key in seen:
                duplicates.append(Region(start=line.start(), end=line.end(), reason="duplicate"))
            else:
                seen.add(key)
        result.append(replace(document, excluded=merge_regions((*document.excluded, *duplicates)))
                      if duplicates else document)
    return tuple(result)


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _words(text)
    if len(words) < SHINGLE_SIZE:
        return frozenset({tuple(words)})
    return frozenset(tuple(words[i : i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1))


def _prefix_length(size: int, threshold: float) -> int:
    """How many of a set's rarest shingles to index and probe so no pair at ``threshold`` is missed.

    Jaccard ≥ t needs an overlap of at least ``ceil(t * size)`` shingles (and at least one), and
    two sets overlapping in k shingles, both sorted in one global order, share a shingle among the
    first ``size - k + 1`` of each. Rounding ``t * size`` down only lengthens the prefix, so float
    error never makes it unsafe.
    """
    least_overlap = max(1, math.floor(threshold * size))
    return max(0, size - least_overlap + 1)


def drop_near_duplicate_chunks(
    chunks: Sequence[Chunk], threshold: float = NEAR_DUPLICATE_JACCARD
) -> tuple[tuple[Chunk, ...], tuple[DroppedChunk, ...]]:
    """Keep the first of every group of chunks whose word-3-shingle Jaccard is ≥ ``threshold``.

    Each chunk is compared with the kept chunks of other documents (chunks of one document overlap
    by design) and dropped as a repeat of the most similar one (the earliest on a tie).
    Prefix filtering (Bayardo et al., "Scaling up all pairs similarity search", 2007) keeps this
    near-linear without missing a pair: only each chunk's rarest shingles are indexed and probed,
    so common trigrams ("said on Monday") do not make every pair a candidate, and each candidate's
    Jaccard is computed exactly from its full overlap.
    """
    shingle_sets = [_shingles(chunk.text) for chunk in chunks]
    frequency = Counter(shingle for shingles in shingle_sets for shingle in shingles)
    kept: list[Chunk] = []
    kept_shingles: list[frozenset[tuple[str, ...]]] = []
    postings: dict[tuple[str, ...], list[int]] = {}
    dropped: list[DroppedChunk] = []
    for chunk, shingles in zip(chunks, shingle_sets, strict=True):
        rarest_first = sorted(shingles, key=lambda shingle: (frequency[shingle], shingle))
        prefix = rarest_first[: _prefix_length(len(shingles), threshold)]
        candidates = {position for shingle in prefix for position in postings.get(shingle, ())}
        best_position, best_similarity = -1, 0.0
        for position in sorted(candidates):
            if kept[position].doc_id == chunk.doc_id:
                continue
            overlap = len(shingles & kept_shingles[position])
            similarity = overlap / (len(shingles) + len(kept_shingles[position]) - overlap)
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
