"""Load the current version of an index folder, sharded or not: the index's one loading entry.

``index.unsharded`` verifies and loads one unsharded version; ``index.sharded`` loads every shard
of a sharded version with it. This module only chooses between them, so neither imports it.
"""

from __future__ import annotations

from pathlib import Path

from index.errors import IndexFolderError
from index.layout import sharded_version
from index.records import Vectors
from index.searcher import Index
from index.sharded import load_sharded, previous_shard_vectors
from index.unsharded import load_unsharded, unsharded_vectors


def load_index(root: Path, *, expected_model_id: str | None = None,
               expected_dimension: int | None = None) -> Index:
    """Verify and load the current version of ``root`` into a ready ``Index``.

    Every file's sha256 is checked against its manifest before any is parsed. Raises
    ``IndexMissingError`` (no version yet), ``IndexCorruptedError`` (a file is missing, damaged or
    inconsistent; the message names it) or ``ModelMismatchError``. A sharded root loads as an
    ``index.sharded.ShardedIndex`` (the same interface and rows as the unsharded index).
    """
    sharded = sharded_version(root)
    if sharded is not None:
        return load_sharded(root, sharded, expected_model_id=expected_model_id,
                            expected_dimension=expected_dimension)
    return load_unsharded(root, expected_model_id=expected_model_id, expected_dimension=expected_dimension)


def load_previous_vectors(root: Path, model_id: str) -> dict[str, Vectors]:
    """Cache key -> vector for every chunk and sentence of the current version.

    Empty when there is no valid current version or it was built with another model, so ingest
    never re-embeds unchanged text and never reuses another model's vectors
    (``index.unsharded.unsharded_vectors``). A sharded root gives every intact shard's vectors.
    """
    try:
        sharded = sharded_version(root)
    except IndexFolderError:
        return {}
    if sharded is not None:
        return previous_shard_vectors(root, sharded, model_id)
    return unsharded_vectors(root, model_id)
