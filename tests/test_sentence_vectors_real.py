"""Pooled sentence vectors with the real model: close to encoding each sentence apart (slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.build import segment_corpus
from ingest.readers import read_corpus
from ingest.records import ChunkingParams
from ingest.sentence_vectors import POOLED, embed_texts

pytestmark = pytest.mark.slow


def test_pooled_sentences_are_close_to_encoded_ones_and_chunks_unchanged(
        seed_corpus: Path, real_embedder: Any) -> None:
    segmented = segment_corpus(read_corpus([seed_corpus]).documents, ChunkingParams())
    chunks = segmented.chunks[:6]
    sentences = tuple(sentence for sentence in segmented.sentences
                      if any(chunk.doc_id == sentence.doc_id
                             and chunk.start <= sentence.start and sentence.end <= chunk.end
                             for chunk in chunks))
    embedded = embed_texts(real_embedder, chunks, sentences, {}, method=POOLED)
    direct = real_embedder.encode([sentence.text for sentence in sentences])
    cosines = (embedded.sentence_vectors * direct).sum(axis=1)
    # Seed corpus, first 6 chunks: mean 0.73, median 0.74 (docs/benchmarks.md, "Ingest").
    assert float(np.median(cosines)) >= 0.65 and float(cosines.mean()) >= 0.65
    assert float(cosines.min()) > 0.0
    np.testing.assert_allclose(np.linalg.norm(embedded.sentence_vectors, axis=1), 1.0, atol=1e-5)
    reference = real_embedder.encode([chunk.text for chunk in chunks])
    np.testing.assert_allclose((embedded.chunk_vectors * reference).sum(axis=1), 1.0, atol=1e-5)
