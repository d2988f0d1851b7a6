"""A shipped ONNX cross-encoder on ONNX Runtime: (text, text) pairs -> logits (thin I/O edge).

The trained reader (``ranking.reader_model``) and the claim verifier (``grounding.verifier_model``)
both run one: a folder's ``model.onnx`` with its ``tokenizer.json``, on one intra-op thread (the
service's query slots already use the cores), never torch. What the logits mean (a sigmoid score, a
softmax over labels) and which card a folder must carry is theirs to say.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.model_card import ModelCard, ModelLoadError, verify_folder

PAIR_MODEL_FILES = ("model.onnx", "tokenizer.json")
"""What a shipped cross-encoder's card must list (``training.export`` writes both)."""


def verify_pair_model(folder: Path, error: Callable[[str], Exception], kind: str) -> ModelCard:
    """The card of ``folder`` after every file's sha256 is checked and it lists ``PAIR_MODEL_FILES``;
    raises ``error(message)`` otherwise (``kind`` names what the folder should be: "a reader")."""
    try:
        card = verify_folder(folder)
    except ModelLoadError as problem:
        raise error(str(problem)) from problem
    missing = [name for name in PAIR_MODEL_FILES if name not in card.sha256]
    if missing:
        raise error(f"{folder} is not {kind}: its card lists no {', '.join(missing)}")
    return card


class OnnxPairModel:
    """``model.onnx`` and ``tokenizer.json`` of ``folder``: the logits of (first, second) text pairs."""

    def __init__(self, folder: Path, *, max_length: int, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The second text (a passage, an evidence window) is what gets cut when a pair is too long:
        # the question or the claim is read whole.
        tokenizer.enable_truncation(max_length=max_length, strategy="only_second")
        tokenizer.enable_padding()
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                     providers=["CPUExecutionProvider"])

    def logits(self, pairs: Sequence[tuple[str, str]]) -> npt.NDArray[np.float64]:
        """``(len(pairs), outputs)`` logits, float64 (``(0, 0)`` for no pairs)."""
        if not pairs:
            return np.zeros((0, 0), dtype=np.float64)
        encodings = self._tokenizer.encode_batch(list(pairs))
        feeds = {"input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
                 "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
                 "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64)}
        return np.asarray(self._session.run(None, feeds)[0], dtype=np.float64).reshape(len(pairs), -1)


def model_choice(choice: str, shipped: Path) -> Path | None:
    """The folder a model setting names: ``shipped`` (the repository's), ``off`` / ``none`` / ``rules``
    (None: no model) or a path."""
    lowered = choice.strip().lower()
    if lowered in ("off", "none", "rules", ""):
        return None
    if lowered == "shipped":
        return shipped
    return Path(choice)
