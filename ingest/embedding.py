"""Embedders: the real sentence-transformers model and a deterministic hashing embedder for tests.

Every embedder returns float32 unit vectors of shape ``(len(texts), dimension)``, so inner product
equals cosine similarity downstream.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ingest.errors import ModelLoadError
from ingest.models import DEFAULT_PRESET, find_preset, preset_path
from ingest.vector_buffer import release, zero_vectors
from text import WORD

Vectors = npt.NDArray[np.float32]
# Character ranges ``(start, end)`` inside one text, half-open.
Spans = Sequence[tuple[int, int]]
# Called with the rows (indices into the texts) whose vectors are done.
OnRows = Callable[[Sequence[int]], None]

HASHING_PREFIX = "hashing:"
DEFAULT_MODEL = DEFAULT_PRESET.aliases[0]
# Texts per ``encode`` call in ``embed_with_cache``: 6 MiB of float32 vectors at 384 dimensions,
# and enough texts that sentence-transformers' sort by length still keeps padding small.
ENCODE_GROUP = 4096


class Embedder(Protocol):
    """Anything that turns texts into unit vectors."""

    @property
    def model_id(self) -> str:
        """Identity recorded in the manifest; a loaded index refuses another model."""
        ...

    @property
    def dimension(self) -> int:
        """Vector dimension."""
        ...

    @property
    def precision(self) -> str:
        """``float32`` or ``bfloat16`` (recorded in the manifest)."""
        ...

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        """Embed ``texts`` into an ``(n, dimension)`` float32 array of unit vectors."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PooledVectors:
    """Vectors of texts and of character spans inside them, from one forward pass per text.

    ``span_vectors`` has one row per requested span, in the order given (texts first to last, each
    text's spans in order); ``span_pooled[k]`` is False where span ``k`` has no token inside the
    model's window (truncated away, or only whitespace), and then its row is zero.
    """

    text_vectors: Vectors
    span_vectors: Vectors
    span_pooled: npt.NDArray[np.bool_]


class SpanEmbedder(Embedder, Protocol):
    """An embedder that can also pool vectors of spans from each text's own forward pass."""

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          batch_size: int = 64, on_rows: OnRows | None = None) -> PooledVectors:
        """Embed ``texts`` and mean-pool each text's ``spans`` from the same token embeddings."""
        ...


def _unit_rows(vectors: Vectors) -> Vectors:
    """``vectors`` with every non-zero row scaled to unit length, in place."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    vectors /= norms  # in place: the same float32 quotients without two more copies
    return vectors


@lru_cache(maxsize=1 << 20)
def _word_slot(word: str, dimension: int) -> tuple[int, float]:
    """The bucket and sign (+1.0 or -1.0) a word adds to a hashing vector of ``dimension``."""
    digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little") % dimension, 1.0 if digest[4] & 1 else -1.0


class HashingEmbedder:
    """Deterministic bag-of-words embedder: shared words give real cosine similarity.

    Each lower-cased word is hashed (blake2b, so runs and machines agree) to a bucket and a sign;
    the count vector is L2-normalised. Used by the fast tests and the crash-loop script.
    """

    def __init__(self, dimension: int = 384) -> None:
        self._dimension = dimension

    @property
    def model_id(self) -> str:
        return f"{HASHING_PREFIX}{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def precision(self) -> str:
        return "float32"

    def _add_word(self, vector: Vectors, word: str) -> None:
        bucket, sign = _word_slot(word, self._dimension)
        vector[bucket] += sign

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        # Counts are small integers, exact in float32 in any order: one bincount gives the same bits.
        positions: list[int] = []
        signs: list[float] = []
        for row, text in enumerate(texts):
            offset = row * self._dimension
            for word in WORD.findall(text.lower()):
                bucket, sign = _word_slot(word, self._dimension)
                positions.append(offset + bucket)
                signs.append(sign)
        counts = np.bincount(np.asarray(positions, dtype=np.int64), weights=np.asarray(signs),
                             minlength=len(texts) * self._dimension)
        vectors = counts.astype(np.float32).reshape(len(texts), self._dimension)
        return _unit_rows(vectors)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          batch_size: int = 64, on_rows: OnRows | None = None) -> PooledVectors:
        """Bag of the words lying wholly inside each span: equal to ``encode`` of the span's text."""
        flat = [span for text_spans in spans for span in text_spans]
        span_vectors = np.zeros((len(flat), self._dimension), dtype=np.float32)
        span_pooled = np.zeros(len(flat), dtype=np.bool_)
        row = 0
        for text, text_spans in zip(texts, spans, strict=True):
            words = [(match.start(), match.end(), match.group())
                     for match in WORD.finditer(text.lower())]
            for start, end in text_spans:
                for word_start, word_end, word in words:
                    if start <= word_start and word_end <= end:
                        self._add_word(span_vectors[row], word)
                        span_pooled[row] = True
                row += 1
        text_vectors = self.encode(texts)
        if on_rows is not None:
            on_rows(range(len(texts)))
        return PooledVectors(text_vectors=text_vectors, span_vectors=_unit_rows(span_vectors),
                             span_pooled=span_pooled)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder (never from a hub at run time)."""

    def __init__(self, model_path: str, *, model_id: str, precision: str = "float32",
                 threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads is not None:
            torch.set_num_threads(threads)
        kwargs: dict[str, object] = {}
        if precision == "bfloat16":
            kwargs["model_kwargs"] = {"torch_dtype": torch.bfloat16}
        else:
            # A model shipped with float16 weights (half the size in git) computes in float32 here.
            kwargs["model_kwargs"] = {"dtype": torch.float32}
        try:
            self._model = SentenceTransformer(model_path, device="cpu", **kwargs)  # type: ignore[arg-type]
        except (OSError, ValueError) as error:
            raise ModelLoadError(
                f"cannot load embedding model {model_path!r}: {error}. Pass --model with a local "
                "sentence-transformers folder (no model is downloaded at run time)."
            ) from error
        self._model_id = model_id
        self._precision = precision
        # sentence-transformers 5.x renamed the method; support both without a FutureWarning.
        get_dimension = getattr(self._model, "get_embedding_dimension", None)
        dimension = (get_dimension() if get_dimension is not None
                     else self._model.get_sentence_embedding_dimension())
        if dimension is None:
            raise ModelLoadError(f"model {model_path!r} does not report an embedding dimension")
        self._dimension = int(dimension)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def precision(self) -> str:
        return self._precision

    @property
    def sentence_transformer(self) -> Any:
        """The loaded ``SentenceTransformer`` (for the ONNX query encoder, ``index.query_encoder``)."""
        return self._model

    @property
    def max_seq_length(self) -> int:
        """Longest input in word pieces; longer inputs are truncated by the model."""
        length = self._model.max_seq_length
        return int(length) if length is not None else 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        # sentence-transformers sorts by length internally, so padding waste stays small.
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          batch_size: int = 64, on_rows: OnRows | None = None) -> PooledVectors:
        """One forward pass per text; each span is the mean of the last hidden state over the word
        pieces inside it, L2-normalised: the model's own pooling (mean, normalise) on a sub-range.
        """
        offsets = np.cumsum([0, *[len(text_spans) for text_spans in spans]])
        text_vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        span_vectors = np.zeros((int(offsets[-1]), self._dimension), dtype=np.float32)
        span_pooled = np.zeros(int(offsets[-1]), dtype=np.bool_)
        # Longest first, as sentence-transformers orders its batches, so padding stays small.
        order = sorted(range(len(texts)), key=lambda row: (-len(texts[row]), row))
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            batch = [texts[row] for row in rows]
            outputs: Any = self._model.encode(batch, output_value=None, batch_size=len(batch),
                                         convert_to_numpy=False, normalize_embeddings=True,
                                         show_progress_bar=False)
            tokenized = self._model.tokenizer(batch, return_offsets_mapping=True, truncation=True,
                                              max_length=self.max_seq_length)
            for position, row in enumerate(rows):
                output = outputs[position]
                text_vectors[row] = output["sentence_embedding"].float().numpy()
                length = int(output["attention_mask"].sum())
                token_ids = tokenized["input_ids"][position]
                if output["input_ids"][:length].tolist() != list(token_ids):
                    continue  # not the tokens the model saw: no span is pooled, callers fall back
                characters = np.asarray(tokenized["offset_mapping"][position], dtype=np.int64)
                tokens = output["token_embeddings"][:length].float().numpy()
                # Special tokens ([CLS], [SEP]) map to the empty range (0, 0) and to no span.
                real = characters[:, 1] > characters[:, 0]
                for number, (start, end) in enumerate(spans[row]):
                    inside = real & (characters[:, 0] >= start) & (characters[:, 1] <= end)
                    if inside.any():
                        target = int(offsets[row]) + number
                        span_vectors[target] = tokens[inside].mean(axis=0)
                        span_pooled[target] = True
            if on_rows is not None:
                on_rows(rows)
        return PooledVectors(text_vectors=text_vectors, span_vectors=_unit_rows(span_vectors),
                             span_pooled=span_pooled)


def bf16_supported() -> bool:
    """True when this CPU has native bf16 matrix instructions (AVX512-BF16 or AMX-BF16)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            flags = cpuinfo.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_model(name_or_path: str | None) -> tuple[str, str]:
    """Map a ``--model`` or manifest value to ``(local_path, model_id)``.

    ``None`` is the default preset (MiniLM); a preset name or identity (``minilm``, ``mpnet``,
    ``sentence-transformers/all-mpnet-base-v2``: ``ingest.models``) resolves to its installed
    folder or raises ``ModelLoadError`` naming the install command. A folder path is used as is;
    any other name must already be in the local Hugging Face cache.
    """
    preset = find_preset(name_or_path)
    if preset is not None:
        return preset_path(preset), preset.model_id
    assert name_or_path is not None
    if os.path.isdir(name_or_path):
        return name_or_path, os.path.abspath(name_or_path)
    return name_or_path, name_or_path


def load_embedder(name_or_path: str | None, *, precision: str = "auto",
                  threads: int | None = None) -> Embedder:
    """Build the embedder named by a manifest or ``--model`` value (``hashing:N`` for the fake one)."""
    if name_or_path is not None and name_or_path.startswith(HASHING_PREFIX):
        return HashingEmbedder(int(name_or_path.removeprefix(HASHING_PREFIX)))
    if precision == "auto":
        # bf16 is offered, never chosen for the user: even with native bf16 (AVX512-BF16, 2.4x
        # faster to ingest) it changed the dense top-10 of 45 % of the gold questions
        # (docs/benchmarks.md, "Precision"), and the issue asks for identical rankings.
        precision = "float32"
    path, model_id = resolve_model(name_or_path)
    return SentenceTransformerEmbedder(path, model_id=model_id, precision=precision, threads=threads)


def text_key(text: str) -> str:
    """Cache key of a text's vector (the model is fixed per index, so the text alone decides)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_with_cache(embedder: Embedder, texts: Sequence[str],
                     cache: Mapping[str, Vectors], *, progress: bool = False,
                     batch_size: int = 64, group_size: int = ENCODE_GROUP,
                     on_rows: OnRows | None = None) -> tuple[Vectors, int]:
    """Embed ``texts``, reusing vectors from ``cache`` (``text_key`` -> vector) where possible.

    Returns the ``(len(texts), dimension)`` vectors and how many texts were actually encoded;
    unchanged text is never re-embedded. Duplicate texts are encoded once. Texts are encoded
    ``group_size`` at a time straight into the one result array, so memory beyond the result stays
    at one group's vectors whatever the corpus size (a large result is file-backed,
    ``ingest.vector_buffer``). ``on_rows`` hears of each finished group.
    """
    vectors = zero_vectors(len(texts), embedder.dimension)
    missing: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        key = text_key(text)
        cached = cache.get(key)
        if cached is not None and cached.shape == (embedder.dimension,):
            vectors[row] = cached
        else:
            missing.setdefault(key, []).append(row)
    rows_of_text = list(missing.values())
    for first in range(0, len(rows_of_text), group_size):
        group = rows_of_text[first : first + group_size]
        fresh = embedder.encode([texts[rows[0]] for rows in group], batch_size=batch_size,
                                progress=progress)
        for rows, vector in zip(group, fresh, strict=True):
            vectors[rows] = vector
        release(vectors)
        if on_rows is not None:
            on_rows([row for rows in group for row in rows])
    return vectors, len(missing)
