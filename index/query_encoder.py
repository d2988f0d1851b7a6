"""How to embed a question for an index: the model its manifest names, checked, on ONNX Runtime where it can.

``load_query_encoder(manifest)`` is what the service calls; it is the index's job because the
manifest, written at build time, is the only place that names the model (nobody configures it
twice). Callers above the index (the service, eval) use this module and never ``ingest.embedding``.

ONNX Runtime: the same model, exported in memory from the loaded one. Why: a query is one short
text, and torch's eager forward of MiniLM spends much of it in Python (module calls, dispatch)
holding the GIL, so two queries on two cores serialise on it (`python -m bench.perf.profile_query`:
half of the GIL time was the encoder's Python). ONNX Runtime runs the whole graph in C++ with the
GIL released: `grounded bench query` measured a bare encode of 3.75 ms against 9.01 ms p50 for
torch, 1.8-2x the sequential throughput at 4 clients instead of 1.5x, and vectors whose least
cosine to torch's over the gold questions is 0.99999994.

Nothing is downloaded or written: the transformer is traced from the weights already in memory
into bytes and loaded from them. Only the layout this module reproduces exactly is accepted
(a ``Transformer`` whose model takes ``input_ids`` and ``attention_mask``, mean ``Pooling``, an
optional ``Normalize``, float32), and every session must agree with torch on ``PROBES`` before it
is used; otherwise ``OnnxUnavailableError`` says why and the caller keeps the torch encoder.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from index.errors import GroundedError, ModelMismatchError
from index.records import Manifest
from ingest import Embedder, SentenceTransformerEmbedder, Vectors, load_embedder

__all__ = [
    "MIN_COSINE",
    "PROBES",
    "Embedder",
    "OnnxQueryEmbedder",
    "OnnxUnavailableError",
    "QueryRuntime",
    "check_model",
    "load_embedder",
    "load_query_encoder",
    "onnx_query_embedder",
]
"""``Embedder`` (the encoder protocol) and ``load_embedder`` (the model a new index is built with,
for eval's BEIR mode) are ``ingest.embedding``'s, re-exported for the layers above the index."""

QueryRuntime = Literal["onnx", "torch"]
_LOG = logging.getLogger(__name__)

MIN_COSINE = 0.9999
"""Least cosine between the ONNX and the torch vector of every probe for the session to be used."""

PROBES = (
    "What did the US offer?",
    "Who mediated the talks between the government and the opposition, and where did they meet?",
    "¿Quién medió?  Émigré naïveté — 2024: 6 million people; 北京 😀",
    " ".join(["a long question that goes past the model's input limit"] * 40),
)
"""Short, long, non-English and over-long (truncated) inputs: the cases a trace could get wrong."""


class OnnxUnavailableError(GroundedError):
    """The ONNX query encoder cannot be used for this model here; the message says why."""


def check_model(encoder: Embedder, manifest: Manifest, *, source: str = "the index") -> None:
    """Raise ``ModelMismatchError`` unless ``encoder`` is the model and dimension ``manifest`` names."""
    if encoder.model_id != manifest.model_id or encoder.dimension != manifest.dimension:
        raise ModelMismatchError(
            f"{source} was built with {manifest.model_id} ({manifest.dimension}-d) but the "
            f"model given is {encoder.model_id} ({encoder.dimension}-d); re-run `grounded ingest` "
            "with this model or serve with the index's model")


def load_query_encoder(manifest: Manifest, *, model_path: str | None = None, threads: int | None = 1,
                       runtime: QueryRuntime = "onnx", source: str = "the index") -> Embedder:
    """The encoder for questions to the index ``manifest`` describes (``model_path`` must be that model).

    ``runtime="onnx"`` encodes single questions with ONNX Runtime where ``onnx_query_embedder``
    accepts the model (same vectors, ~2x faster, GIL released), else with torch, logging why.
    ``source`` names the index in errors. Raises ``ModelMismatchError`` for another model or
    dimension, ``ValueError`` for an unknown runtime.
    """
    if runtime not in ("onnx", "torch"):
        raise ValueError(f"query_runtime must be 'onnx' or 'torch', got {runtime!r}")
    encoder = load_embedder(model_path or manifest.model_id, precision=manifest.precision, threads=threads)
    check_model(encoder, manifest, source=source)
    if runtime == "onnx" and isinstance(encoder, SentenceTransformerEmbedder):
        try:
            return onnx_query_embedder(encoder, threads=threads or 1)
        except OnnxUnavailableError as error:
            _LOG.warning("questions are encoded with torch: %s", error)
    return encoder


class OnnxQueryEmbedder:
    """One text at a time on ONNX Runtime; any other batch goes to the torch embedder it wraps."""

    def __init__(self, base: SentenceTransformerEmbedder, session: Any, tokenizer: Any,
                 max_length: int, normalize: bool) -> None:
        self._base = base
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._normalize = normalize

    @property
    def model_id(self) -> str:
        return self._base.model_id

    @property
    def dimension(self) -> int:
        return self._base.dimension

    @property
    def precision(self) -> str:
        return self._base.precision

    @property
    def runtime(self) -> str:
        """What encodes queries: ``onnxruntime``."""
        return "onnxruntime"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        if len(texts) != 1:
            return self._base.encode(texts, batch_size=batch_size, progress=progress)
        return self._encode_one(texts[0])

    def _encode_one(self, text: str) -> Vectors:
        encoded = self._tokenizer([text], padding=True, truncation=True, max_length=self._max_length,
                                  return_tensors="np")
        mask = np.asarray(encoded["attention_mask"], dtype=np.int64)
        (tokens,) = self._session.run(None, {"input_ids": np.asarray(encoded["input_ids"], dtype=np.int64),
                                             "attention_mask": mask})
        weights = mask[..., None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        if self._normalize:
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled, dtype=np.float32)


def onnx_query_embedder(base: SentenceTransformerEmbedder, *, threads: int = 1) -> OnnxQueryEmbedder:
    """Export ``base``'s transformer to ONNX in memory and check it against torch on ``PROBES``.

    Raises ``OnnxUnavailableError`` when onnxruntime is missing, the model's layout or precision is
    not one this encoder reproduces, the export fails, or a probe's vectors disagree.
    """
    try:
        import onnxruntime
        import torch
    except ImportError as error:
        raise OnnxUnavailableError(f"onnxruntime is not installed ({error})") from error
    if base.precision != "float32":
        raise OnnxUnavailableError(f"the index's precision is {base.precision}; the ONNX encoder is float32")
    transformer, normalize = _supported_layout(base.sentence_transformer)
    tokenizer = transformer.tokenizer
    max_length = int(transformer.max_seq_length or base.max_seq_length)
    graph = _export(transformer.auto_model, tokenizer, torch)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for a bad graph
        raise OnnxUnavailableError(f"onnxruntime cannot load the exported model: {error}") from error
    encoder = OnnxQueryEmbedder(base, session, tokenizer, max_length, normalize)
    for probe in PROBES:
        cosine = float(encoder.encode([probe])[0] @ base.encode([probe])[0])
        if not cosine >= MIN_COSINE:
            raise OnnxUnavailableError(
                f"the ONNX encoder disagrees with torch on {probe[:40]!r} (cosine {cosine:.6f} < {MIN_COSINE})")
    return encoder


def _supported_layout(model: Any) -> tuple[Any, bool]:
    """``(transformer module, normalize)`` when the pipeline is Transformer, mean Pooling[, Normalize]."""
    modules = list(model)
    names = [type(module).__name__ for module in modules]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise OnnxUnavailableError(f"model pipeline {names} is not Transformer, Pooling[, Normalize]")
    if getattr(modules[1], "pooling_mode", None) != "mean":
        raise OnnxUnavailableError(f"pooling {getattr(modules[1], 'pooling_mode', None)!r} is not mean pooling")
    if getattr(modules[0], "do_lower_case", False):
        raise OnnxUnavailableError("the Transformer module lower-cases inputs itself")
    if not hasattr(modules[0], "auto_model") or not hasattr(modules[0], "tokenizer"):
        raise OnnxUnavailableError("the Transformer module has no auto_model or tokenizer")
    return modules[0], len(modules) == 3


def _export(auto_model: Any, tokenizer: Any, torch: Any) -> bytes:
    """The transformer's ``last_hidden_state`` as an ONNX graph with dynamic batch and length."""

    class _LastHiddenState(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = tokenizer([PROBES[1]], return_tensors="pt")
    buffer = io.BytesIO()
    was_training = auto_model.training
    auto_model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LastHiddenState(auto_model), (example["input_ids"], example["attention_mask"]), buffer,
                input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"}
                              for name in ("input_ids", "attention_mask", "last_hidden_state")},
                opset_version=17, dynamo=False)
    except Exception as error:  # the exporter raises many types for unsupported operators
        raise OnnxUnavailableError(f"the model cannot be exported to ONNX: {error}") from error
    finally:
        auto_model.train(was_training)
    return buffer.getvalue()
