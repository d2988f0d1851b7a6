"""Loading a shipped reader model: an ONNX cross-encoder, its tokenizer and its card, hash-checked.

A model folder holds ``model.onnx`` (int8, exported by ``training.export``), ``tokenizer.json``
and ``card.json`` (base model, data, command, held-out figures, and the sha256 of every file);
``README.md`` is the same card for people. Loading verifies every hash, as the index manifest
does, and runs ONNX Runtime on one thread (the service's slots already use the cores). Scores
are the model's logits through a sigmoid: in [0, 1], comparable with ``rerank.min_score``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index import SHIPPED_MODELS, ModelCard, OnnxPairModel, model_choice, verify_pair_model
from ranking.errors import ReaderModelError

DEFAULT_READER = SHIPPED_MODELS / "reader-minilm-l3"


def verify_folder(folder: Path) -> ModelCard:
    """The reader's card after every file's sha256 is checked; ``ReaderModelError`` otherwise."""
    return verify_pair_model(folder, ReaderModelError, "a reader")


class OnnxPairScorer:
    """A verified reader model on ONNX Runtime: (question, text) pairs -> scores in [0, 1]."""

    def __init__(self, folder: Path, *, threads: int = 1) -> None:
        self.card = verify_folder(folder)
        self.folder = folder
        self._model = OnnxPairModel(folder, max_length=self.card.max_length, threads=threads)

    @property
    def name(self) -> str:
        """``name@version`` from the card."""
        return f"{self.card.name}@{self.card.version}"

    def score(self, question: str, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Sigmoid of the model's logit for each (question, text) pair."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        logits = self._model.logits([(question, text) for text in texts]).reshape(-1)
        scores: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        return scores


def reader_folder(choice: str) -> Path | None:
    """The folder a reader setting names: ``shipped`` (the repository's), ``off`` (None) or a path."""
    return model_choice(choice, DEFAULT_READER)


def load_reader(folder: Path | None = None, *, threads: int = 1) -> OnnxPairScorer:
    """The reader model in ``folder`` (default: the shipped one), verified."""
    return OnnxPairScorer(folder or DEFAULT_READER, threads=threads)
