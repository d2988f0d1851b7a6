"""Loading the shipped claim verifier: an int8 ONNX cross-encoder, its tokenizer and card, hash-checked.

The folder (``models/verifier-minilm-v2``, written by ``python -m training.export verifier``) holds
``model.onnx``, ``tokenizer.json`` and ``card.json``; loading verifies every file's sha256 against
the card, as the index manifest is verified, and needs neither torch nor a network: ONNX Runtime on
one thread (the service's query slots already use the cores). Outputs are the softmax of the three
logits, in ``grounding.verifier.LABELS`` order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from grounding.errors import VerifierModelError
from grounding.verifier import LABELS, Verification
from index import SHIPPED_MODELS, ModelCard, OnnxPairModel, model_choice, verify_pair_model

DEFAULT_VERIFIER = SHIPPED_MODELS / "verifier-minilm-v2"


def verify_verifier_folder(folder: Path) -> ModelCard:
    """The verifier's card after every file's sha256 is checked; ``VerifierModelError`` otherwise."""
    card = verify_pair_model(folder, VerifierModelError, "a claim verifier")
    labels = card.figures.get("labels", list(LABELS))
    if labels != list(LABELS):
        raise VerifierModelError(f"{folder} is not a claim verifier: its card lists no labels {list(LABELS)} "
                                 f"(it has {labels}); give a folder written by `python -m training.export verifier`")
    return card


class OnnxClaimVerifier:
    """A verified claim verifier on ONNX Runtime: (claim, evidence) pairs -> label and probabilities."""

    def __init__(self, folder: Path, *, threads: int = 1) -> None:
        self.card = verify_verifier_folder(folder)
        self.folder = folder
        self._model = OnnxPairModel(folder, max_length=self.card.max_length, threads=threads)

    @property
    def name(self) -> str:
        """``name@version`` from the card."""
        return f"{self.card.name}@{self.card.version}"

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """``(len(pairs), 3)`` softmax probabilities, float64."""
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float64)
        logits = self._model.logits(pairs).reshape(len(pairs), len(LABELS))
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))

    def verify(self, pairs: Sequence[tuple[str, str]]) -> list[Verification]:
        """One ``Verification`` per (claim, evidence text) pair."""
        return [Verification(label=LABELS[int(np.argmax(row))], model=self.name,
                             probabilities=(round(float(row[0]), 4), round(float(row[1]), 4), round(float(row[2]), 4)))
                for row in self.probabilities(pairs)]


def verifier_folder(choice: str) -> Path | None:
    """The folder a verifier setting names: ``shipped`` (the repository's), ``off`` (None) or a path."""
    return model_choice(choice, DEFAULT_VERIFIER)


def load_verifier(folder: Path | None = None, *, threads: int = 1) -> OnnxClaimVerifier:
    """The claim verifier in ``folder`` (default: the shipped one), verified."""
    return OnnxClaimVerifier(folder or DEFAULT_VERIFIER, threads=threads)
