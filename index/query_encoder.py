"""How to embed a question for an index: the model its manifest names, checked, on ONNX Runtime where it can.

``load_query_encoder(manifest)`` is what the service calls; it is the index's job because the
manifest, written at build time, is the only place that names the model (nobody configures it
twice). Callers above the index (the service, eval) use this module and never ``ingest.embedding``.

ONNX Runtime: the same model, exported from the loaded one. Why: a query is one short text, and
torch's eager forward of MiniLM spends much of it in Python (module calls, dispatch) holding the
GIL, so two queries on two cores serialise on it (`python -m bench.perf.profile_query`: half of
the GIL time was the encoder's Python). ONNX Runtime runs the whole graph in C++ with the GIL
released: `grounded bench query` measured a bare encode of 3.75 ms against 9.01 ms p50 for
torch, 1.8-2x the sequential throughput at 4 clients instead of 1.5x, and vectors whose least
cosine to torch's over the gold questions is 0.99999994.

The export is traced from the weights once and kept in the ONNX cache (``index.onnx_cache``),
keyed by the model's files, the library versions and the export settings. A start that finds a
verified entry loads it with onnxruntime and the ``tokenizers`` library alone: torch and
sentence-transformers are not imported (``grounded bench startup``: the second start). Nothing is
downloaded. Only the layout this module reproduces exactly is accepted (a ``Transformer`` whose
model takes ``input_ids`` and ``attention_mask`` with a fast tokenizer, mean ``Pooling``, an
optional ``Normalize``, float32), and every session must agree with torch on ``PROBES`` before it
is used (a cached one with the torch vectors stored at export); otherwise
``OnnxUnavailableError`` says why and the caller keeps the torch encoder.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from index.errors import GroundedError, ModelMismatchError
from index.onnx_cache import (
    CacheKey,
    DamagedEntryError,
    EncoderEntry,
    cache_key,
    onnx_cache_home,
    read_entry,
    write_entry,
)
from index.records import Manifest
from ingest import (
    HASHING_PREFIX,
    Embedder,
    SentenceTransformerEmbedder,
    Vectors,
    load_embedder,
    resolve_model,
)

__all__ = [
    "EXPORT_SETTINGS",
    "MIN_COSINE",
    "PROBES",
    "CheckedExport",
    "Embedder",
    "OnnxQueryEmbedder",
    "OnnxUnavailableError",
    "QueryRuntime",
    "check_model",
    "export_query_encoder",
    "load_embedder",
    "load_query_encoder",
    "onnx_query_embedder",
]
"""``Embedder`` (the encoder protocol) and ``load_embedder`` (the model a new index is built with,
for eval's BEIR mode) are ``ingest.embedding``'s, re-exported for the layers above the index."""

QueryRuntime = Literal["onnx", "torch"]
Origin = Literal["cache", "export"]
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

OPSET = 17
EXPORT_SETTINGS = {
    "exporter": "torch.onnx.export, TorchScript (dynamo=False)",
    "opset": str(OPSET),
    "graph": "input_ids, attention_mask -> last_hidden_state; dynamic batch and tokens",
    "pooling": "mean over the attention mask, then L2-normalised",
    "precision": "float32",
    "probes": hashlib.sha256("\n".join(PROBES).encode("utf-8")).hexdigest(),
}
"""What an export depends on besides the model and the libraries: part of its cache key."""


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
                       runtime: QueryRuntime = "onnx", source: str = "the index",
                       cache_home: Path | None = None) -> Embedder:
    """The encoder for questions to the index ``manifest`` describes (``model_path`` must be that model).

    ``runtime="onnx"`` encodes with ONNX Runtime where ``export_query_encoder`` accepts the model
    (same vectors, ~2x faster, GIL released), else with torch, logging why. The export is read
    from ``cache_home`` (default ``onnx_cache_home()``) when a verified entry is there, and written
    there after an export; a damaged entry is exported again and replaced, with a log line saying
    why. ``source`` names the index in errors. Raises ``ModelMismatchError`` for another model or
    dimension, ``ModelLoadError`` for a model that is not installed, ``ValueError`` for an unknown
    runtime.
    """
    if runtime not in ("onnx", "torch"):
        raise ValueError(f"query_runtime must be 'onnx' or 'torch', got {runtime!r}")
    name = model_path or manifest.model_id
    key: CacheKey | None = None
    home = cache_home or onnx_cache_home()
    if runtime == "onnx" and manifest.precision == "float32" and not name.startswith(HASHING_PREFIX):
        path, model_id = resolve_model(name)
        if Path(path).is_dir():
            key = cache_key(Path(path), EXPORT_SETTINGS)
            cached = _load_cached(home, key, model_id=model_id, threads=threads or 1)
            if cached is not None:
                check_model(cached, manifest, source=source)
                return cached
        else:
            _LOG.info("the ONNX export of %s is not cached: the model is not a local folder", model_id)
    encoder = load_embedder(name, precision=manifest.precision, threads=threads)
    check_model(encoder, manifest, source=source)
    if runtime == "onnx" and isinstance(encoder, SentenceTransformerEmbedder):
        try:
            exported = export_query_encoder(encoder, threads=threads or 1)
        except OnnxUnavailableError as error:
            _LOG.warning("questions are encoded with torch: %s", error)
            return encoder
        if key is not None:
            _store(home, key, exported)
        return exported.encoder
    return encoder


class OnnxQueryEmbedder:
    """The model's transformer on ONNX Runtime, one text per run, mean-pooled and normalised.

    Every text is encoded alone (no padding), so a text's vector is the same bits whether it comes
    alone or in a list; a list costs one run per text, which for the few short texts the service
    encodes at once (a question, an answer's sentences) is what a padded batch costs too.
    """

    def __init__(self, *, session: Any, tokenizer: Any, model_id: str, dimension: int, origin: Origin) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._model_id = model_id
        self._dimension = dimension
        self._origin: Origin = origin

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def precision(self) -> str:
        return "float32"

    @property
    def runtime(self) -> str:
        """What encodes queries: ``onnxruntime``."""
        return "onnxruntime"

    @property
    def origin(self) -> Origin:
        """``cache`` when the graph was read from the ONNX cache, ``export`` when traced in this process."""
        return self._origin

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack([self._encode_one(text) for text in texts]), dtype=np.float32)

    def _encode_one(self, text: str) -> Vectors:
        encoding = self._tokenizer.encode(text)
        input_ids = np.asarray([encoding.ids], dtype=np.int64)
        mask = np.asarray([encoding.attention_mask], dtype=np.int64)
        (tokens,) = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})
        weights = mask[..., None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        # sentence-transformers' encode normalises every vector (normalize_embeddings=True), so this does.
        pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled, dtype=np.float32)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedExport:
    """An export that agreed with torch on every probe: the encoder and what the cache stores of it."""

    encoder: OnnxQueryEmbedder
    graph: bytes
    tokenizer_json: str
    entry: EncoderEntry


def export_query_encoder(base: SentenceTransformerEmbedder, *, threads: int = 1) -> CheckedExport:
    """Export ``base``'s transformer to ONNX in memory and check it against torch on ``PROBES``.

    Raises ``OnnxUnavailableError`` when onnxruntime is missing, the model's layout, tokenizer or
    precision is not one this encoder reproduces, the export fails, or a probe's vectors disagree.
    """
    try:
        import torch
    except ImportError as error:
        raise OnnxUnavailableError(f"torch is not installed ({error})") from error
    if base.precision != "float32":
        raise OnnxUnavailableError(f"the index's precision is {base.precision}; the ONNX encoder is float32")
    transformer = _supported_layout(base.sentence_transformer)
    if not getattr(transformer.tokenizer, "is_fast", False):
        raise OnnxUnavailableError("the model's tokenizer has no fast (tokenizers library) version")
    max_length = int(transformer.max_seq_length or base.max_seq_length)
    graph = _export(transformer.auto_model, transformer.tokenizer, torch)
    tokenizer_json = str(transformer.tokenizer.backend_tokenizer.to_str())
    encoder = _session_encoder(graph, _tokenizer(tokenizer_json, max_length), model_id=base.model_id,
                               dimension=base.dimension, threads=threads, origin="export")
    references = np.vstack([base.encode([probe]) for probe in PROBES])
    _check_probes(encoder, references, against="torch")
    entry = EncoderEntry(dimension=base.dimension, max_length=max_length,
                         probe_vectors=tuple(tuple(float(value) for value in row) for row in references))
    return CheckedExport(encoder=encoder, graph=graph, tokenizer_json=tokenizer_json, entry=entry)


def onnx_query_embedder(base: SentenceTransformerEmbedder, *, threads: int = 1) -> OnnxQueryEmbedder:
    """``export_query_encoder(base).encoder``: exported now, not cached (benchmarks, tests)."""
    return export_query_encoder(base, threads=threads).encoder


def _load_cached(home: Path, key: CacheKey, *, model_id: str, threads: int) -> OnnxQueryEmbedder | None:
    """The cached encoder of ``key``, verified; ``None`` (with a log line saying why) to export it."""
    where = home / key.digest
    try:
        files = read_entry(home, key)
        if files is None:
            _LOG.info("no ONNX export of %s is cached in %s yet: exporting it once", model_id, where)
            return None
        tokenizer = _tokenizer(files.tokenizer.read_text(encoding="utf-8"), files.entry.max_length)
        encoder = _session_encoder(str(files.graph), tokenizer, model_id=model_id,
                                   dimension=files.entry.dimension, threads=threads, origin="cache")
        _check_probes(encoder, np.asarray(files.entry.probe_vectors, dtype=np.float32),
                      against="the torch vectors stored at export")
    except (DamagedEntryError, OnnxUnavailableError, OSError) as error:
        _LOG.warning("the cached ONNX export %s cannot be used (%s): exporting it again", where, error)
        return None
    _LOG.info("ONNX query encoder of %s read from the cache %s", model_id, where)
    return encoder


def _store(home: Path, key: CacheKey, exported: CheckedExport) -> None:
    """Write ``exported`` into the cache; a cache that cannot be written only costs the next start."""
    try:
        folder = write_entry(home, key, graph=exported.graph, tokenizer_json=exported.tokenizer_json,
                             entry=exported.entry)
    except OSError as error:
        _LOG.warning("the ONNX export could not be cached in %s (%s): the next start exports again", home, error)
        return
    _LOG.info("ONNX query encoder of %s exported and cached in %s", exported.encoder.model_id, folder)


def _tokenizer(tokenizer_json: str, max_length: int) -> Any:
    """A ``tokenizers.Tokenizer`` that truncates to ``max_length`` word pieces and never pads."""
    try:
        from tokenizers import Tokenizer
    except ImportError as error:
        raise OnnxUnavailableError(f"the tokenizers library is not installed ({error})") from error
    try:
        tokenizer = Tokenizer.from_str(tokenizer_json)
    except Exception as error:  # tokenizers raises its own exception type for a malformed file
        raise OnnxUnavailableError(f"the tokenizer cannot be read: {error}") from error
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


def _session_encoder(graph: bytes | str, tokenizer: Any, *, model_id: str, dimension: int, threads: int,
                     origin: Origin) -> OnnxQueryEmbedder:
    """An ``OnnxQueryEmbedder`` over ``graph`` (the model bytes or a file path) on ``threads`` threads."""
    try:
        import onnxruntime
    except ImportError as error:
        raise OnnxUnavailableError(f"onnxruntime is not installed ({error})") from error
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for a bad graph
        raise OnnxUnavailableError(f"onnxruntime cannot load the exported model: {error}") from error
    return OnnxQueryEmbedder(session=session, tokenizer=tokenizer, model_id=model_id, dimension=dimension,
                             origin=origin)


def _check_probes(encoder: OnnxQueryEmbedder, references: npt.NDArray[np.float32], *, against: str) -> None:
    """Raise ``OnnxUnavailableError`` unless ``encoder`` gives each probe its reference vector (``MIN_COSINE``)."""
    if references.shape != (len(PROBES), encoder.dimension):
        raise OnnxUnavailableError(f"{against} have shape {references.shape}, expected "
                                   f"({len(PROBES)}, {encoder.dimension})")
    for probe, reference in zip(PROBES, references, strict=True):
        vector = encoder.encode([probe])[0]
        cosine = float(vector @ reference) if vector.shape == reference.shape else float("nan")
        if not cosine >= MIN_COSINE:
            raise OnnxUnavailableError(
                f"the ONNX encoder disagrees with {against} on {probe[:40]!r} (cosine {cosine:.6f} < {MIN_COSINE})")


def _supported_layout(model: Any) -> Any:
    """The transformer module when the pipeline is Transformer, mean Pooling[, Normalize]."""
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
    return modules[0]


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
                opset_version=OPSET, dynamo=False)
    except Exception as error:  # the exporter raises many types for unsupported operators
        raise OnnxUnavailableError(f"the model cannot be exported to ONNX: {error}") from error
    finally:
        auto_model.train(was_training)
    return buffer.getvalue()
