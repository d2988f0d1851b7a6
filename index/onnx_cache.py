"""The on-disk cache of exported ONNX query encoders: keyed, verified when read, published atomically.

Exporting the query encoder (``index.query_encoder``) and checking it cost every start 2.3 s of
CPU, and importing torch and sentence-transformers to do it 6.2 s more (``python -m
bench.perf.startup_steps --export``, docs/benchmarks.md "Start-up"). An export depends only on the
model's files, the library versions that traced and run it, and the export settings, so it is done
once per such key and kept in ``onnx_cache_home() / <key>/``:

- ``model.onnx``: the transformer's ``last_hidden_state`` graph;
- ``tokenizer.json``: the model's fast tokenizer (the ``tokenizers`` library reads it without
  transformers);
- ``entry.json``, written last: the cache format, every field the key hashes, the sha256 of both
  files and what the encoder needs besides them (dimension, input limit) with the torch vectors
  of the probe questions, which the cached graph must reproduce before it is used.

A reader trusts nothing it has not checked: a missing, unreadable or mismatching part raises
``DamagedEntryError`` saying which, and the caller exports again and replaces the entry. Entries
are built in a staging folder beside the others and renamed into place, so no reader ever sees
half of one; two processes exporting at once both succeed (the first rename wins, the second
keeps its own export in memory).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from index.errors import GroundedError
from index.fsutil import TRASH_PREFIX, fsync_dir, fsync_tree, remove_tree, sha256_file, write_bytes
from ingest import grounded_home

CACHE_FORMAT = 1
"""Version of the entry layout; part of the key, so a new layout never reads an old entry."""
GRAPH_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
ENTRY_FILE = "entry.json"
STAGING_PREFIX = ".staging-"
RUNTIME_PACKAGES = ("onnx", "onnxruntime", "torch", "transformers", "tokenizers", "sentence-transformers")
"""Distributions whose versions can change an export or how it runs: each is part of the key."""
LEFTOVER_SECONDS = 3600.0
"""Age after which a staging or trash folder is a leftover of a killed export and is removed."""
ONNX_CACHE_ENV = "GROUNDED_ONNX_CACHE"


class DamagedEntryError(GroundedError):
    """A cache entry exists but cannot be used; the message says which part failed its check."""


def onnx_cache_home() -> Path:
    """Where exported encoders are kept: ``$GROUNDED_ONNX_CACHE``, else ``grounded_home() / "onnx"``
    (``~/.cache/grounded/onnx``). Deleting it is always safe: the next start exports again."""
    override = os.environ.get(ONNX_CACHE_ENV)
    return Path(override).expanduser() if override else grounded_home() / "onnx"


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheKey:
    """Everything an export depends on; ``digest`` names its entry folder."""

    model_sha256: str
    """``model_sha256`` of the model folder: weights, tokenizer and configuration files."""
    versions: tuple[tuple[str, str], ...]
    """``(distribution, version)`` of each of ``RUNTIME_PACKAGES`` (``absent`` when not installed)."""
    export: tuple[tuple[str, str], ...]
    """The export settings as ``(name, value)`` pairs (opset, exporter, precision, probes...)."""

    def fields(self) -> dict[str, Any]:
        """The key as JSON-ready data (what ``entry.json`` stores and a reader compares)."""
        return {"format": CACHE_FORMAT, "model_sha256": self.model_sha256,
                "versions": dict(self.versions), "export": dict(self.export)}

    @property
    def digest(self) -> str:
        """Hex sha256 of the canonical JSON of ``fields()``."""
        canonical = json.dumps(self.fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class EncoderEntry:
    """What a cached encoder needs besides its two files."""

    dimension: int
    max_length: int
    """Word pieces kept of a text (the model's ``max_seq_length``); longer texts are truncated."""
    probe_vectors: tuple[tuple[float, ...], ...]
    """torch's vector of each probe question at export time, in probe order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedFiles:
    """A verified entry: where its graph and tokenizer are, and what it holds."""

    folder: Path
    entry: EncoderEntry

    @property
    def graph(self) -> Path:
        return self.folder / GRAPH_FILE

    @property
    def tokenizer(self) -> Path:
        return self.folder / TOKENIZER_FILE


def model_sha256(folder: Path) -> str:
    """One sha256 over every file of a model folder (relative path and content), hidden files aside.

    Any change to the weights, the tokenizer or a configuration file gives another digest, so a
    cached export of the old files is never used for the new ones.
    """
    digest = hashlib.sha256()
    for relative in _model_files(folder):
        file_digest, size = sha256_file(folder / relative)
        digest.update(f"{relative}\0{size}\0{file_digest}\n".encode())
    return digest.hexdigest()


def _model_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the non-hidden regular files under ``folder``, sorted."""
    if not folder.is_dir():
        raise NotADirectoryError(f"model folder {folder} does not exist")
    found = []
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in files:
            path = Path(directory) / name
            if not name.startswith(".") and path.is_file():
                found.append(path.relative_to(folder).as_posix())
    return sorted(found)


def runtime_versions(names: Iterable[str] = RUNTIME_PACKAGES) -> tuple[tuple[str, str], ...]:
    """``(name, installed version)`` for each distribution, read from its metadata (nothing is imported)."""
    versions = []
    for name in names:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, "absent"))
    return tuple(versions)


def cache_key(model_folder: Path, export: Mapping[str, str]) -> CacheKey:
    """The key of ``model_folder``'s export with these settings and the libraries installed now."""
    return CacheKey(model_sha256=model_sha256(model_folder), versions=runtime_versions(),
                    export=tuple(sorted(export.items())))


def read_entry(home: Path, key: CacheKey) -> CachedFiles | None:
    """The verified entry of ``key`` under ``home``; ``None`` when there is none.

    Raises ``DamagedEntryError`` when the entry exists but its ``entry.json`` is missing or
    malformed, was written for another key, or a file is missing or has another sha256.
    """
    folder = home / key.digest
    if not folder.is_dir():
        return None
    path = folder / ENTRY_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise DamagedEntryError(f"it has no {ENTRY_FILE}") from error
    except (OSError, ValueError) as error:
        raise DamagedEntryError(f"{ENTRY_FILE} is unreadable ({error})") from error
    if not isinstance(raw, dict):
        raise DamagedEntryError(f"{ENTRY_FILE} is not a JSON object")
    if raw.get("key") != key.fields():
        raise DamagedEntryError(f"{ENTRY_FILE} was written for another key")
    try:
        entry = _entry_from_json(raw["encoder"])
        expected = {name: str(raw["sha256"][name]) for name in (GRAPH_FILE, TOKENIZER_FILE)}
    except (KeyError, TypeError, ValueError) as error:
        raise DamagedEntryError(f"{ENTRY_FILE} lacks a field or has a wrong one ({error!r})") from error
    for name, digest in expected.items():
        try:
            actual, _ = sha256_file(folder / name)
        except OSError as error:
            raise DamagedEntryError(f"{name} is unreadable ({error.strerror or error})") from error
        if actual != digest:
            raise DamagedEntryError(f"{name} has sha256 {actual[:12]}…, its entry says {digest[:12]}…")
    return CachedFiles(folder=folder, entry=entry)


def write_entry(home: Path, key: CacheKey, *, graph: bytes, tokenizer_json: str, entry: EncoderEntry) -> Path:
    """Publish ``key``'s entry under ``home`` atomically and return its folder.

    A damaged entry of the same key is replaced. When another process publishes the same key
    first, its entry is kept (both were made from the same inputs). Raises ``OSError`` when
    ``home`` cannot be written; nothing half-written is left behind.
    """
    home.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(home)
    final = home / key.digest
    staging = home / f"{STAGING_PREFIX}{key.digest[:16]}-{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        tokenizer_bytes = tokenizer_json.encode("utf-8")
        write_bytes(staging / GRAPH_FILE, graph)
        write_bytes(staging / TOKENIZER_FILE, tokenizer_bytes)
        record = {"key": key.fields(), "encoder": _entry_to_json(entry),
                  "sha256": {GRAPH_FILE: hashlib.sha256(graph).hexdigest(),
                             TOKENIZER_FILE: hashlib.sha256(tokenizer_bytes).hexdigest()},
                  "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        write_bytes(staging / ENTRY_FILE, json.dumps(record, indent=1, sort_keys=True).encode("utf-8"))
        fsync_tree(staging)
        if final.exists():
            remove_tree(final)  # a damaged entry: read_entry refused it, or the caller would not write
        try:
            os.rename(staging, final)
        except OSError:
            if not (final / ENTRY_FILE).is_file():
                raise
            # Another process published the same key between our check and our rename.
        fsync_dir(home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _remove_leftovers(home: Path) -> None:
    """Remove staging and trash folders that a killed export left more than an hour ago."""
    now = time.time()
    for child in home.iterdir():
        if child.name.startswith((STAGING_PREFIX, TRASH_PREFIX)):
            with contextlib.suppress(OSError):
                if now - child.stat().st_mtime > LEFTOVER_SECONDS:
                    shutil.rmtree(child)


def _entry_to_json(entry: EncoderEntry) -> dict[str, Any]:
    return {"dimension": entry.dimension, "max_length": entry.max_length,
            "probe_vectors": [list(vector) for vector in entry.probe_vectors]}


def _entry_from_json(raw: Any) -> EncoderEntry:
    vectors: Sequence[Sequence[float]] = raw["probe_vectors"]
    return EncoderEntry(dimension=int(raw["dimension"]), max_length=int(raw["max_length"]),
                        probe_vectors=tuple(tuple(float(value) for value in vector) for vector in vectors))
