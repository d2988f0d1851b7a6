"""``shards.json``: the top-level manifest of a sharded index version, written and read canonically.

A sharded version folder ``DIR/versions/<version>/`` holds ``shards.json`` and one complete,
unsharded index folder per non-empty shard, ``shard-NNN/`` (its own ``CURRENT`` and
``versions/<shard version>/`` with ``manifest.json`` and checksummed files). ``shards.json``
lists every shard's ``index_version`` and the sha256 of its ``manifest.json``; its own
``index_version`` is the sha256 of its canonical bytes with an empty version, so the same shards
give the same version and any change in any shard gives a new one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from index.errors import IndexCorruptedError
from index.manifest import FieldReader
from index.records import Manifest

SHARDS_FORMAT_VERSION = 1


def shard_folder_name(shard: int) -> str:
    """The folder of shard ``shard`` inside a sharded version folder."""
    return f"shard-{shard:03d}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ShardEntry:
    """One non-empty shard: its number, version and the checksum of its ``manifest.json``."""

    shard: int
    index_version: str
    manifest_sha256: str
    chunk_count: int
    document_count: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ShardsManifest:
    """``shards.json``: how many shards, by which rule, and each non-empty shard (ascending)."""

    format_version: int
    index_version: str
    shard_count: int
    sharding: str
    model_id: str
    dimension: int
    shards: tuple[ShardEntry, ...]


def shards_manifest_to_json(manifest: ShardsManifest) -> bytes:
    """Canonical JSON: sorted keys, indent 2, trailing newline, UTF-8."""
    body = dataclasses.asdict(manifest)
    text = json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def compute_shards_version(manifest: ShardsManifest) -> str:
    """The content address of a sharded version: sha256 of its canonical JSON with no version."""
    unversioned = dataclasses.replace(manifest, index_version="")
    return hashlib.sha256(shards_manifest_to_json(unversioned)).hexdigest()


def shards_manifest_from_json(data: bytes, path: Path) -> ShardsManifest:
    """Parse ``shards.json`` bytes read from ``path``; raises ``IndexCorruptedError`` naming it."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FieldReader({}, "shards", path).error(f"not valid JSON: {error}") from error
    fields = FieldReader(value, "shards", path)
    if fields.raw("format_version") != SHARDS_FORMAT_VERSION:
        raise fields.error(f"format_version {fields.raw('format_version')!r} is not "
                           f"{SHARDS_FORMAT_VERSION}, the only sharded format this grounded reads")
    fields.keys({field.name for field in dataclasses.fields(ShardsManifest)})
    listed = fields.raw("shards")
    if not isinstance(listed, list):
        raise fields.error("shards is not a list")
    entries = []
    for position, item in enumerate(listed):
        entry = FieldReader(item, f"shards[{position}]", path)
        entry.keys({field.name for field in dataclasses.fields(ShardEntry)})
        entries.append(ShardEntry(shard=entry.count("shard"), index_version=entry.text("index_version"),
                                  manifest_sha256=entry.text("manifest_sha256"),
                                  chunk_count=entry.count("chunk_count"),
                                  document_count=entry.count("document_count")))
    manifest = ShardsManifest(
        format_version=SHARDS_FORMAT_VERSION, index_version=fields.text("index_version"),
        shard_count=fields.count("shard_count"), sharding=fields.text("sharding"),
        model_id=fields.text("model_id"), dimension=fields.count("dimension"), shards=tuple(entries),
    )
    numbers = [entry.shard for entry in manifest.shards]
    if numbers != sorted(set(numbers)) or any(number >= manifest.shard_count for number in numbers) \
            or not numbers:
        raise fields.error(f"shards lists shards {numbers}, not distinct ascending shards of "
                           f"0..{manifest.shard_count - 1}")
    return manifest


def combined_manifest(shards: ShardsManifest, parts: tuple[Manifest, ...]) -> Manifest:
    """One ``Manifest`` describing the whole sharded index (what the engine and reports read).

    Model, chunking and parameters are the shards' (equal by construction); counts and documents
    are summed and merged; ``files`` is empty (each shard's manifest lists its own);
    ``index_version`` is the sharded version.
    """
    if not parts:
        raise IndexCorruptedError("a sharded index needs at least one shard")
    first = parts[0]
    for part in parts[1:]:
        if (part.model_id, part.dimension, part.chunking, part.precision, part.sentence_vectors) != (
                first.model_id, first.dimension, first.chunking, first.precision,
                first.sentence_vectors):
            raise IndexCorruptedError(
                f"shard {part.index_version} was built with other settings than shard "
                f"{first.index_version}; re-run `grounded ingest --shards {shards.shard_count}`")
    documents = tuple(sorted((entry for part in parts for entry in part.documents),
                             key=lambda entry: entry.doc_id))
    return dataclasses.replace(
        first, index_version=shards.index_version, files={},
        chunk_count=sum(part.chunk_count for part in parts),
        sentence_count=sum(part.sentence_count for part in parts), documents=documents,
    )
