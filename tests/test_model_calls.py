"""Replaying an ingest's model calls gives exactly the vectors of running them in place (no Ray)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import segment_corpus
from index.model_calls import Answer, ReplayEmbedder
from ingest.embedding import HashingEmbedder
from ingest.readers import read_corpus
from ingest.records import ChunkingParams
from ingest.sentence_vectors import ENCODED, POOLED, embed_texts


@pytest.mark.parametrize("method", [ENCODED, POOLED])
def test_replayed_calls_give_the_vectors_of_the_embedder_itself(seed_corpus: Path, method: str) -> None:
    segmented = segment_corpus(read_corpus([seed_corpus]).documents, ChunkingParams())
    embedder = HashingEmbedder()
    direct = embed_texts(embedder, segmented.chunks, segmented.sentences, {}, method=method)
    answers: dict[str, Answer] = {}
    rounds = 0
    while True:
        replay = ReplayEmbedder(model_id=embedder.model_id, dimension=embedder.dimension,
                                precision=embedder.precision, answers=answers)
        replayed = embed_texts(replay, segmented.chunks, segmented.sentences, {}, method=method)
        if not replay.missing:
            break
        rounds += 1
        for key, call in replay.missing.items():
            if call.spans is None:
                answers[key] = embedder.encode(call.texts, batch_size=call.batch_size)
            else:
                assert len(call.texts) <= 64 and call.batch_size == len(call.texts)
                answers[key] = embedder.encode_with_spans(call.texts, call.spans, batch_size=call.batch_size)
    assert 1 <= rounds <= 2
    np.testing.assert_array_equal(replayed.chunk_vectors, direct.chunk_vectors)
    np.testing.assert_array_equal(replayed.sentence_vectors, direct.sentence_vectors)
    assert replayed.embedded == direct.embedded
