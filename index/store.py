"""Former home of ``index.layout``, ``index.publish`` and ``index.load``: re-exports only.

Kept for the harnesses in ``bench/`` (reorganised on another branch); product code and tests import
the three modules directly. Delete this file once ``bench/`` does too. Patching a name here does
not reach the code that uses it: patch it in ``index.load`` or ``index.publish``.
"""

from __future__ import annotations

from index.dense import read_dense
from index.layout import CURRENT_NAME, STAGING_PREFIX, VERSIONS_NAME, current_version
from index.load import _read_records, load_index, load_previous_vectors, read_manifest
from index.publish import clean_leftovers, publish
from index.sparse import load_sparse

__all__ = [
    "CURRENT_NAME",
    "STAGING_PREFIX",
    "VERSIONS_NAME",
    "_read_records",
    "clean_leftovers",
    "current_version",
    "load_index",
    "load_previous_vectors",
    "load_sparse",
    "publish",
    "read_dense",
    "read_manifest",
]
