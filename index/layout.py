"""The index folder's layout: names of its files and folders, and which version is current.

Layout (docs/architecture.md, "Index folder")::

    DIR/CURRENT              name of the live version, replaced by temp file + fsync + rename
    DIR/versions/<version>/  manifest.json + data files; <version> is a sha256 of the content

A sharded index's version folder holds ``shards.json`` and one such index folder per shard
(``shard-NNN/CURRENT``, ``shard-NNN/versions/<shard version>/``): see ``index.shard_manifest``.

``index.publish`` writes this layout and ``index.load`` verifies and reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.errors import IndexCorruptedError
from index.sparse import SPARSE_FILES

CURRENT_NAME = "CURRENT"
VERSIONS_NAME = "versions"
STAGING_PREFIX = ".staging-"

DOCUMENTS_FILE = "documents.jsonl"
CHUNKS_FILE = "chunks.jsonl"
SENTENCES_FILE = "sentences.jsonl"
CHUNK_VECTORS_FILE = "chunk_vectors.npy"
SENTENCE_VECTORS_FILE = "sentence_vectors.npy"
DENSE_FILE = "dense.faiss"
SPARSE_FOLDER = "bm25"
REQUIRED_FILES = frozenset(
    {DOCUMENTS_FILE, CHUNKS_FILE, SENTENCES_FILE, CHUNK_VECTORS_FILE, SENTENCE_VECTORS_FILE,
     DENSE_FILE} | {f"{SPARSE_FOLDER}/{name}" for name in SPARSE_FILES}
)

_VERSION_NAME = re.compile(r"[0-9a-f]{64}")


def fix_hint(root: Path) -> str:
    """The end of every error about a damaged index folder: how to rebuild it."""
    return f"re-run `grounded ingest --index {root}`"


def current_version(root: Path) -> str | None:
    """The name of the current version, or ``None`` when ``root`` has no ``CURRENT`` file.

    Raises ``IndexCorruptedError`` when ``CURRENT`` does not hold a version name.
    """
    path = root / CURRENT_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise IndexCorruptedError(f"cannot read {path}: {error}; {fix_hint(root)}") from error
    name = data.decode("ascii", errors="replace").strip()
    if _VERSION_NAME.fullmatch(name) is None or data != f"{name}\n".encode():
        raise IndexCorruptedError(f"{path} does not name an index version; {fix_hint(root)}")
    return name


SHARDS_MANIFEST_NAME = "shards.json"
"""Present (instead of ``manifest.json``) in a sharded version folder (``index.shard_manifest``)."""


def sharded_version(root: Path) -> str | None:
    """The current version of ``root`` when it is a sharded one (holds ``shards.json``), else ``None``."""
    name = current_version(root)
    if name is None or not (root / VERSIONS_NAME / name / SHARDS_MANIFEST_NAME).is_file():
        return None
    return name
