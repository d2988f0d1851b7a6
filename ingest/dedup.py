"""Duplicate detection (pure): repeated lines become excluded regions; near-duplicate chunks drop.

Web-extracted news repeats itself: headlines printed twice, captions repeated under a gallery,
wire copy shared by several outlets. Each repeated text is indexed once, where it first occurs
(documents in doc_id order, so the result does not depend on file-system order).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ingest.records import Chunk, Document, Region
from text import WORD

_LINE = re.compile(r"[^\r\n]+")
MIN_DUPLICATE_WORDS = 5
SHINGLE_SIZE = 3
NEAR_DUPLICATE_JACCARD = 0.8
MINHASH_ROWS = 4
MISSED_PAIR_PROBABILITY = 5e-8
"""Locality-sensitive hashing for ``drop_near_duplicate_chunks``: bands of 4 min-hashes, as many as
make a pair at the threshold share none with at most this probability (``minhash_bands``: 32 at
0.8). A pair at Jaccard ``j`` shares no band with probability ``(1 - j**4)**bands``: 0.9968 at 0.1
with 32 bands, so chance pairs of ordinary text are almost never compared."""
LEAST_THRESHOLD = 0.5
_HASH_BLOCK = 4096
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, slots=True, kw_only=True)
class DroppedChunk:
    """A chunk left out of the index because it repeats ``duplicate_of``."""

    chunk_id: str
    duplicate_of: str
    similarity: float


def _words(text: str) -> list[str]:
    return WORD.findall(text.casefold())


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


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser, element-wise (uint64 arithmetic wraps, as it should here)."""
    mixed = values + _GOLDEN
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return mixed ^ (mixed >> np.uint64(31))


def minhash_bands(threshold: float) -> int:
    """How many bands of ``MINHASH_ROWS`` miss a pair at ``threshold`` with ``MISSED_PAIR_PROBABILITY``."""
    if threshold >= 1:
        return 1  # equal sets agree on every min-hash
    return math.ceil(math.log(MISSED_PAIR_PROBABILITY) / math.log1p(-(threshold**MINHASH_ROWS)))


def band_keys(shingle_sets: Sequence[npt.NDArray[np.int64]], bands: int) -> npt.NDArray[np.uint64]:
    """Each set's ``bands`` band keys: a hash of ``MINHASH_ROWS`` min-hashes per band.

    Min-hash ``h`` of a set is the least ``mix(key ^ seed_h)`` over its keys, so two sets agree on
    it with probability their Jaccard; equal bands give equal keys (unequal bands collide with
    probability 2**-64, and every candidate is checked exactly anyway). Sets are hashed a block at
    a time: the keys of a block, one row per hash function.
    """
    hashes = bands * MINHASH_ROWS
    seeds = _mix(np.arange(1, hashes + 1, dtype=np.uint64))
    keys = np.zeros((len(shingle_sets), bands), dtype=np.uint64)
    for first in range(0, len(shingle_sets), _HASH_BLOCK):
        block = shingle_sets[first : first + _HASH_BLOCK]
        values = np.concatenate(block).astype(np.uint64)
        starts = np.cumsum([0, *(len(shingles) for shingles in block[:-1])])
        minimums = np.empty((hashes, len(block)), dtype=np.uint64)
        for number, seed in enumerate(seeds):
            minimums[number] = np.minimum.reduceat(_mix(values ^ seed), starts)
        rows = minimums.reshape(bands, MINHASH_ROWS, len(block))
        band = np.zeros((bands, len(block)), dtype=np.uint64)
        for row in range(MINHASH_ROWS):
            band = _mix(band ^ rows[:, row])
        keys[first : first + len(block)] = band.T
    return keys


def _band_groups(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Per set and band, a number shared by the sets with the same key in that band (-1 if none)."""
    groups = np.full(keys.shape, -1, dtype=np.int64)
    offset = 0
    for band in range(keys.shape[1]):
        _, inverse, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
        shared = counts[inverse] > 1
        groups[shared, band] = offset + inverse[shared]
        offset += len(counts)
    return groups


def drop_near_duplicate_chunks(
    chunks: Sequence[Chunk], threshold: float = NEAR_DUPLICATE_JACCARD
) -> tuple[tuple[Chunk, ...], tuple[DroppedChunk, ...]]:
    """Keep the first of every group of chunks whose word-3-shingle Jaccard is ≥ ``threshold``.

    Each chunk is compared with the kept chunks of other documents (chunks of one document overlap
    by design) and dropped as a repeat of the most similar one (the earliest on a tie). Candidates
    come from min-hash locality-sensitive hashing (``band_keys``): a chunk is compared, exactly,
    with the kept chunks that share one of its bands, so the pass stays linear whatever the
    vocabulary (prefix filtering, used before, went quadratic on a generated corpus where even the
    rarest trigrams are common) and a cluster of repeats costs one comparison per repeat (only
    kept chunks are candidates). A pair at the threshold is missed with probability at most
    ``MISSED_PAIR_PROBABILITY`` (less above it); the result is deterministic. A threshold above 1
    drops nothing; one below ``LEAST_THRESHOLD`` would need too many bands and is refused.
    """
    if threshold < LEAST_THRESHOLD:
        raise ValueError(f"near-duplicate threshold {threshold} is below {LEAST_THRESHOLD}: min-hash "
                         "candidates would need too many bands; use a Jaccard threshold of at least 0.5")
    if threshold > 1 or not chunks:
        return tuple(chunks), ()
    shingle_sets = shingle_keys([chunk.text for chunk in chunks])
    groups = _band_groups(band_keys(shingle_sets, minhash_bands(threshold)))
    kept: list[Chunk] = []
    kept_in_group: dict[int, list[int]] = {}
    dropped: list[DroppedChunk] = []
    for number, (chunk, shingles) in enumerate(zip(chunks, shingle_sets, strict=True)):
        chunk_groups = groups[number][groups[number] >= 0].tolist()
        candidates = sorted({other for group in chunk_groups for other in kept_in_group.get(group, ())})
        size = len(shingles)
        best_number, best_similarity = -1, 0.0
        for other_number in candidates:
            other = shingle_sets[other_number]
            if chunks[other_number].doc_id == chunk.doc_id:
                continue
            if min(size, len(other)) < threshold * max(size, len(other)):
                continue  # Jaccard is at most the size ratio: this pair cannot reach the threshold
            overlap = _overlap(shingles, other)
            similarity = overlap / (size + len(other) - overlap)
            if similarity > best_similarity:
                best_number, best_similarity = other_number, similarity
        if best_number >= 0 and best_similarity >= threshold:
            dropped.append(DroppedChunk(chunk_id=chunk.chunk_id,
                                        duplicate_of=chunks[best_number].chunk_id,
                                        similarity=round(best_similarity, 4)))
            continue
        kept.append(chunk)
        for group in chunk_groups:
            kept_in_group.setdefault(group, []).append(number)
    return tuple(kept), tuple(dropped)
