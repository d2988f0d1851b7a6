"""The model calls an ingest makes, so another executor can run them and give back the same vectors.

A model's vectors depend (in the last bits) on which texts share its forward batch, so an executor
that must reproduce the single-process index byte for byte runs exactly the batches that path
runs. ``ReplayEmbedder`` stands in for the embedder inside ``embed_texts``: it splits every call
the way the real embedder batches it, answers the calls it has results for, and records the others
(answering them with placeholders). Running ``embed_texts`` until nothing is missing, with the
recorded calls executed between rounds, gives exactly the vectors of one local run (pure).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ingest import OnRows, PooledVectors, Spans, Vectors

Answer = Vectors | PooledVectors


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCall:
    """One call of the model: ``encode`` when ``spans`` is None, else one ``encode_with_spans`` batch."""

    texts: tuple[str, ...]
    spans: tuple[tuple[tuple[int, int], ...], ...] | None
    batch_size: int

    @property
    def key(self) -> str:
        """Identity of the call: equal calls give equal answers."""
        digest = hashlib.sha256(f"{self.batch_size}\n{self.spans!r}\n".encode())
        for text in self.texts:
            digest.update(hashlib.sha256(text.encode("utf-8")).digest())
        return digest.hexdigest()


@dataclass(slots=True, kw_only=True)
class ReplayEmbedder:
    """An embedder answering from ``answers`` (``ModelCall.key`` -> answer) and recording misses."""

    model_id: str
    dimension: int
    precision: str
    answers: Mapping[str, Answer]
    missing: dict[str, ModelCall] = field(default_factory=dict)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        """The answer of this very call (sentence-transformers batches inside it), zeros until known."""
        call = ModelCall(texts=tuple(texts), spans=None, batch_size=batch_size)
        answer = self.answers.get(call.key)
        if isinstance(answer, np.ndarray):
            return answer
        self.missing[call.key] = call
        return np.zeros((len(texts), self.dimension), dtype=np.float32)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          batch_size: int = 64, on_rows: OnRows | None = None) -> PooledVectors:
        """Batched as ``SentenceTransformerEmbedder.encode_with_spans`` does: longest first, ``batch_size`` a call."""
        offsets = np.cumsum([0, *[len(text_spans) for text_spans in spans]])
        text_vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        span_vectors = np.zeros((int(offsets[-1]), self.dimension), dtype=np.float32)
        # A missing call's spans count as pooled so no fallback call is planned on placeholders.
        span_pooled = np.ones(int(offsets[-1]), dtype=np.bool_)
        order = sorted(range(len(texts)), key=lambda row: (-len(texts[row]), row))
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            call = ModelCall(texts=tuple(texts[row] for row in rows),
                             spans=tuple(tuple(spans[row]) for row in rows), batch_size=len(rows))
            answer = self.answers.get(call.key)
            if not isinstance(answer, PooledVectors):
                self.missing[call.key] = call
                continue
            span_row = 0
            for position, row in enumerate(rows):
                text_vectors[row] = answer.text_vectors[position]
                count = len(spans[row])
                target = slice(int(offsets[row]), int(offsets[row]) + count)
                span_vectors[target] = answer.span_vectors[span_row : span_row + count]
                span_pooled[target] = answer.span_pooled[span_row : span_row + count]
                span_row += count
            if on_rows is not None:
                on_rows(rows)
        return PooledVectors(text_vectors=text_vectors, span_vectors=span_vectors, span_pooled=span_pooled)
