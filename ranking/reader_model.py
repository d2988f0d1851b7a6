"""Loading a shipped reader model: an ONNX cross-encoder, its tokenizer and its card, hash-checked.

A model folder holds ``model.onnx`` (int8, exported by ``training.export``), ``tokenizer.json``
and ``card.json`` (base model, data, command, held-out figures, and the sha256 of every file);
``README.md`` is the same card for people. Loading verifies every hash, as the index manifest
does, and runs ONNX Runtime on one thread (the service's slots already use the cores). Scores
are the model's logits through a sigmoid: in [0, 1], comparable with ``rerank.min_score``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ranking.errors import ReaderModelError

MODELS = Path(__file__).resolve().parent.parent / "models"
DEFAULT_READER = MODELS / "reader-minilm-l3"
CARD_NAME = "card.json"
FILES = ("model.onnx", "tokenizer.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCard:
    """The machine-readable card of a shipped model (``card.json``)."""

    name: str
    version: str
    task: str
    base_model: str
    max_length: int
    sha256: dict[str, str]
    data: dict[str, Any]
    training: dict[str, Any]
    figures: dict[str, Any]


def read_card(folder: Path) -> ModelCard:
    """The card of a model folder; raises ``ReaderModelError`` when it is missing or malformed."""
    path = folder / CARD_NAME
    if not path.is_file():
        raise ReaderModelError(f"{folder} has no {CARD_NAME}: not a grounded model folder "
                               "(models/ ships one; `grounded models list` shows them)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ModelCard(name=str(raw["name"]), version=str(raw["version"]), task=str(raw["task"]),
                         base_model=str(raw["base_model"]), max_length=int(raw["max_length"]),
                         sha256=dict(raw["sha256"]), data=dict(raw["data"]), training=dict(raw["training"]),
                         figures=dict(raw["figures"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ReaderModelError(f"{path} is not a valid model card ({error}); restore it from git") from error


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_folder(folder: Path) -> ModelCard:
    """The card, after checking that every file it names is present and has its sha256."""
    card = read_card(folder)
    for name in FILES:
        expected = card.sha256.get(name)
        path = folder / name
        if expected is None or not path.is_file():
            raise ReaderModelError(f"{folder} lacks {name} (or its card has no hash for it); restore the folder")
        actual = sha256_of(path)
        if actual != expected:
            raise ReaderModelError(f"{path} has sha256 {actual[:12]}…, its card says {expected[:12]}…: the file "
                                   "is damaged or was replaced; restore it (git checkout) or retrain")
    return card


class OnnxPairScorer:
    """A verified reader model on ONNX Runtime: (question, text) pairs -> scores in [0, 1]."""

    def __init__(self, folder: Path, *, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.card = verify_folder(folder)
        self.folder = folder
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.card.max_length, strategy="only_second")
        tokenizer.enable_padding()
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                     providers=["CPUExecutionProvider"])

    @property
    def name(self) -> str:
        """``name@version`` from the card."""
        return f"{self.card.name}@{self.card.version}"

    def score(self, question: str, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Sigmoid of the model's logit for each (question, text) pair."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        encodings = self._tokenizer.encode_batch([(question, text) for text in texts])
        feeds = {"input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
                 "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
                 "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64)}
        logits = np.asarray(self._session.run(None, feeds)[0], dtype=np.float64).reshape(-1)
        scores: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        return scores


def load_reader(folder: Path | None = None, *, threads: int = 1) -> OnnxPairScorer:
    """The reader model in ``folder`` (default: the shipped one), verified."""
    return OnnxPairScorer(folder or DEFAULT_READER, threads=threads)
