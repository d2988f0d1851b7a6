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

from index import SHIPPED_MODELS, ModelCard, ModelLoadError
from index import verify_folder as verify_card
from ranking.errors import ReaderModelError

DEFAULT_READER = SHIPPED_MODELS / "reader-minilm-l3"
FILES = ("model.onnx", "tokenizer.json")


def verify_folder(folder: Path) -> ModelCard:
    """The reader's card after every file's sha256 is checked; ``ReaderModelError`` otherwise."""
    try:
        card = verify_card(folder)
    except ModelLoadError as error:
        raise ReaderModelError(str(error)) from error
    missing = [name for name in FILES if name not in card.sha256]
    if missing:
        raise ReaderModelError(f"{folder} is not a reader: its card lists no {', '.join(missing)}")
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


def reader_folder(choice: str) -> Path | None:
    """The folder a reader setting names: ``shipped`` (the repository's), ``off`` (None) or a path."""
    if choice.strip().lower() in ("off", "none", "rules", ""):
        return None
    if choice.strip().lower() == "shipped":
        return DEFAULT_READER
    return Path(choice)


def load_reader(folder: Path | None = None, *, threads: int = 1) -> OnnxPairScorer:
    """The reader model in ``folder`` (default: the shipped one), verified."""
    return OnnxPairScorer(folder or DEFAULT_READER, threads=threads)
