"""Publish a sharded index version atomically: every shard, then ``shards.json``, then one ``CURRENT`` swap.

The whole sharded version is written into ``DIR/versions/.staging-<random>/`` (each shard a
complete index folder published there by ``index.publish.publish`` with its slice of the global
BM25 index), fsynced, renamed to its content address and made current by the same
temp file + rename of ``CURRENT`` as an unsharded publish. A failure anywhere publishes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from index.fsutil import fsync_tree, sha256_file, write_bytes
from index.layout import SHARDS_MANIFEST_NAME, VERSIONS_NAME
from index.manifest import MANIFEST_NAME
from index.publish import DEFAULT_KEEP, LOCK_NAME, publish, publish_staged
from index.records import IndexContent, Manifest
from index.shard_manifest import (
    SHARDS_FORMAT_VERSION,
    ShardEntry,
    ShardsManifest,
    combined_manifest,
    compute_shards_version,
    shard_folder_name,
    shards_manifest_to_json,
)
from index.sharding import SHARDING_RULE, slice_sparse, split_content
from index.sparse import build_sparse
from index.unsharded import read_manifest


def _publish_shards(staging: Path, content: IndexContent, count: int) -> tuple[ShardsManifest, Manifest]:
    """Write every non-empty shard and ``shards.json`` into ``staging``; return both manifests."""
    global_sparse = build_sparse([chunk.search_text for chunk in content.chunks])
    entries: list[ShardEntry] = []
    parts: list[Manifest] = []
    for part in split_content(content, count):
        if part is None:
            continue
        shard_root = staging / shard_folder_name(part.shard)
        manifest = publish(shard_root, part.content, keep=1,
                           sparse=slice_sparse(global_sparse, part.chunk_rows))
        (shard_root / LOCK_NAME).unlink()
        version_dir = shard_root / VERSIONS_NAME / manifest.index_version
        manifest_sha256, _ = sha256_file(version_dir / MANIFEST_NAME)
        entries.append(ShardEntry(shard=part.shard, index_version=manifest.index_version,
                                  manifest_sha256=manifest_sha256, chunk_count=manifest.chunk_count,
                                  document_count=len(manifest.documents)))
        parts.append(manifest)
    shards = ShardsManifest(format_version=SHARDS_FORMAT_VERSION, index_version="", shard_count=count,
                            sharding=SHARDING_RULE, model_id=content.model_id,
                            dimension=content.dimension, shards=tuple(entries))
    shards = dataclasses.replace(shards, index_version=compute_shards_version(shards))
    write_bytes(staging / SHARDS_MANIFEST_NAME, shards_manifest_to_json(shards))
    fsync_tree(staging)
    return shards, combined_manifest(shards, tuple(parts))


def _is_intact(folder: Path, shards: ShardsManifest) -> bool:
    """True when an existing sharded version folder holds exactly ``shards`` with intact shards."""
    try:
        if (folder / SHARDS_MANIFEST_NAME).read_bytes() != shards_manifest_to_json(shards):
            return False
    except OSError:
        return False
    for entry in shards.shards:
        manifest = read_manifest(folder / shard_folder_name(entry.shard))
        if manifest is None or manifest.index_version != entry.index_version:
            return False
    return True


def publish_sharded(root: Path, content: IndexContent, shard_count: int, *,
                    keep: int = DEFAULT_KEEP) -> Manifest:
    """Write ``content`` as ``shard_count`` shards, one new version of ``root``, and make it current.

    BM25 statistics are the whole corpus's (``index.sharding``). Returns the combined manifest
    (``index.shard_manifest.combined_manifest``) whose ``index_version`` is the sharded version.
    Raises what ``index.publish.publish`` raises; on any failure the previous version stays current.
    """
    def stage(staging: Path) -> tuple[str, Callable[[Path], bool], Manifest]:
        shards, manifest = _publish_shards(staging, content, shard_count)
        return shards.index_version, lambda final: _is_intact(final, shards), manifest

    return publish_staged(root, content, keep=keep, kind="sharded index version", stage=stage)
