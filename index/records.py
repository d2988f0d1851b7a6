"""Records of the index: what a build writes, what the manifest says, what a search returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from ingest import Chunk, ChunkingParams, Document, Sentence, chunking_with

__all__ = [
    "FORMAT_VERSION",
    "Chunk",
    "ChunkingParams",
    "Document",
    "DocumentEntry",
    "FileEntry",
    "Hit",
    "IndexContent",
    "Manifest",
    "Mode",
    "Sentence",
    "Vectors",
    "chunking_with",
]
"""The ingest records an index holds (``Document``, ``Chunk``, ``Sentence``, ``ChunkingParams`` and
its ``chunking_with``) are re-exported, so the layers above the index import them from here, never
from ``ingest``."""

Vectors = npt.NDArray[np.float32]

FORMAT_VERSION = 1

Mode = Literal["hybrid", "dense", "sparse"]
"""Which first stage a search runs: fused dense + BM25, dense only or BM25 only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexContent:
    """Everything one index version holds, in memory, before it is written.

    Row ``i`` of ``chunk_vectors`` embeds ``chunks[i]``; row ``j`` of ``sentence_vectors`` embeds
    ``sentences[j]``. Chunks are sorted by ``(doc_id, ordinal)``, sentences by ``(doc_id, start)``.
    """

    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    sentences: tuple[Sentence, ...]
    chunk_vectors: Vectors
    sentence_vectors: Vectors
    model_id: str
    dimension: int
    precision: str
    chunking: ChunkingParams
    # How sentence vectors were made (``ingest.sentence_vectors``): "encoded" or "pooled_from_chunk".
    sentence_method: str = "encoded"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEntry:
    """One file of an index version with its checksum."""

    sha256: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentEntry:
    """Per-document line of the manifest: lets ingest skip unchanged files."""

    doc_id: str
    source: str
    content_hash: str
    chunk_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """``manifest.json``: the single source of truth for model, chunking and file integrity."""

    format_version: int
    index_version: str
    model_id: str
    dimension: int
    precision: str
    chunking: ChunkingParams
    faiss_index: str
    faiss_params: dict[str, int] = field(default_factory=dict)
    bm25_params: dict[str, str | float] = field(default_factory=dict)
    chunk_count: int = 0
    sentence_count: int = 0
    documents: tuple[DocumentEntry, ...] = ()
    files: dict[str, FileEntry] = field(default_factory=dict)
    # Written only when not "encoded", so indexes built before pooling keep their bytes and version.
    sentence_vectors: str = "encoded"


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """One retrieved chunk: ``row`` indexes the loaded index's ``chunks``; higher score is better."""

    row: int
    score: float
