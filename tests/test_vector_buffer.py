"""Vectors of a large corpus in a file-backed buffer, and the hashing embedder's bits (ingest at scale)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from index.build import ingest
from index.layout import current_version
from ingest import vector_buffer
from ingest.embedding import HashingEmbedder, embed_with_cache
from ingest.vector_buffer import blocks, release, zero_vectors


def _reference_hashing(texts: list[str], dimension: int) -> np.ndarray:
    """The hashing embedder as first written: one float32 addition per word."""
    import re

    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower(), re.UNICODE):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            vectors[row, int.from_bytes(digest[:4], "little") % dimension] += 1.0 if digest[4] & 1 else -1.0
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    vectors /= norms
    return vectors


def test_the_hashing_embedder_gives_the_bits_it_always_gave() -> None:
    texts = ["", "The the THE", "Zürich, 12 février: naïve café", "a b c d e f g " * 40, "—"]
    for dimension in (8, 384):
        expected = _reference_hashing(texts, dimension)
        assert HashingEmbedder(dimension).encode(texts).tobytes() == expected.tobytes()
    assert HashingEmbedder(384).encode([]).shape == (0, 384)


def test_a_large_array_is_file_backed_and_reads_back_what_was_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_buffer, "FILE_BACKED_BYTES", 1024)
    monkeypatch.setattr(vector_buffer, "BLOCK_BYTES", 4 * 16 * 5)
    small = zero_vectors(2, 16)
    assert not isinstance(small, np.memmap) and not small.any()
    vectors = zero_vectors(37, 16)
    assert isinstance(vectors, np.memmap) and vectors.shape == (37, 16) and not vectors.any()
    expected = np.arange(37 * 16, dtype=np.float32).reshape(37, 16)
    vectors[:] = expected
    release(vectors)  # pages dropped from this process; the data stays in the file
    assert np.array_equal(vectors, expected)
    assert [len(block) for block in blocks(vectors)] == [5] * 7 + [2]
    assert np.array_equal(np.concatenate(list(blocks(vectors))), expected)
    release(vectors[3:9])
    release(small)


def test_file_backed_vectors_publish_the_same_index(monkeypatch: pytest.MonkeyPatch, seed_corpus: Path,
                                                     tmp_path: Path) -> None:
    ingest([seed_corpus], tmp_path / "memory", HashingEmbedder(384))
    monkeypatch.setattr(vector_buffer, "FILE_BACKED_BYTES", 0)
    monkeypatch.setattr(vector_buffer, "BLOCK_BYTES", 10_000)
    vectors, _ = embed_with_cache(HashingEmbedder(384), ["one text", "another"], {})
    assert isinstance(vectors, np.memmap)
    ingest([seed_corpus], tmp_path / "file", HashingEmbedder(384))
    assert current_version(tmp_path / "file") == current_version(tmp_path / "memory")
