"""Publish a version of the index folder atomically (``index.layout``) and collect old ones.

A reader only ever follows ``CURRENT`` to a complete, renamed folder, so a crash at any point of a
publish leaves either the old or the new version live. Nothing is ever pickled.
"""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import bm25s
import numpy as np

from index.dense import build_dense, write_dense
from index.errors import IndexCorruptedError, PublishError
from index.fsutil import (
    TRASH_PREFIX,
    fsync_dir,
    fsync_tree,
    remove_tree,
    replace_atomically,
    sha256_file,
    write_bytes,
)
from index.layout import (
    CHUNK_VECTORS_FILE,
    CHUNKS_FILE,
    CURRENT_NAME,
    DENSE_FILE,
    DOCUMENTS_FILE,
    SENTENCE_VECTORS_FILE,
    SENTENCES_FILE,
    SPARSE_FOLDER,
    STAGING_PREFIX,
    VERSIONS_NAME,
    current_version,
    fix_hint,
)
from index.manifest import (
    MANIFEST_NAME,
    chunks_to_jsonl,
    compute_index_version,
    documents_to_jsonl,
    manifest_to_json,
    sentences_to_jsonl,
)
from index.records import FORMAT_VERSION, DocumentEntry, FileEntry, IndexContent, Manifest, Vectors
from index.sparse import BM25_PARAMS, build_sparse
from index.sparse import save_sparse as write_sparse
from index.unsharded import version_is_intact
from ingest import Chunk, Sentence, blocks, release

T = TypeVar("T")

LOCK_NAME = ".publish.lock"
DEFAULT_KEEP = 2


def _check_content(content: IndexContent) -> None:
    """Refuse content that breaks the record invariants (a bug upstream, not a user error)."""
    text_of = {document.doc_id: document.text for document in content.documents}
    if len(text_of) != len(content.documents):
        raise ValueError("document ids are not unique")
    spans: list[Chunk | Sentence] = [*content.chunks, *content.sentences]
    for span in spans:
        text = text_of.get(span.doc_id)
        if text is None or text[span.start:span.end] != span.text or span.start > span.end:
            raise ValueError(f"{span} does not match its document's text at its offsets")
    if not _ascending((c.doc_id, c.ordinal) for c in content.chunks):
        raise ValueError("chunks must be sorted by (doc_id, ordinal)")
    if not _ascending((s.doc_id, s.start, s.end) for s in content.sentences):
        raise ValueError("sentences must be sorted by (doc_id, start)")
    for name, vectors, rows in (("chunk_vectors", content.chunk_vectors, len(content.chunks)),
                                ("sentence_vectors", content.sentence_vectors,
                                 len(content.sentences))):
        if vectors.shape != (rows, content.dimension):
            expected = (rows, content.dimension)
            raise ValueError(f"{name} has shape {vectors.shape}, expected {expected}")
        if not all(np.all(np.isfinite(block)) for block in blocks(vectors)):
            raise ValueError(f"{name} contains NaN or infinite values")


def _ascending(keys: Iterable[tuple[str, int] | tuple[str, int, int]]) -> bool:
    """True when ``keys`` never decrease (a million records compared without a sorted copy)."""
    return all(earlier <= later for earlier, later in itertools.pairwise(keys))


def _save_array(path: Path, vectors: Vectors) -> None:
    """``np.save`` of the float32 rows, the same bytes, written a block of rows at a time."""
    matrix = np.asarray(vectors, dtype=np.float32)
    with open(path, "xb") as handle:
        np.lib.format.write_array_header_1_0(handle, np.lib.format.header_data_from_array_1_0(matrix))
        for block in blocks(matrix):
            handle.write(np.ascontiguousarray(block).tobytes())


def _file_entries(folder: Path) -> dict[str, FileEntry]:
    entries = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha256, size = sha256_file(path)
            entries[path.relative_to(folder).as_posix()] = FileEntry(sha256=sha256, size=size)
    return entries


def _write_version(folder: Path, content: IndexContent, sparse: bm25s.BM25 | None = None) -> Manifest:
    """Write every file of ``content`` into ``folder`` (fsynced) and return its manifest.

    ``sparse`` replaces the BM25 index built from the chunks (a shard's slice of the global one).
    """
    write_bytes(folder / DOCUMENTS_FILE, documents_to_jsonl(content.documents))
    write_bytes(folder / CHUNKS_FILE, chunks_to_jsonl(content.chunks))
    write_bytes(folder / SENTENCES_FILE, sentences_to_jsonl(content.sentences))
    _save_array(folder / CHUNK_VECTORS_FILE, content.chunk_vectors)
    _save_array(folder / SENTENCE_VECTORS_FILE, content.sentence_vectors)
    dense, dense_type, dense_params = build_dense(content.chunk_vectors)
    release(content.chunk_vectors)
    write_dense(dense, folder / DENSE_FILE)
    if sparse is None:
        sparse = build_sparse([chunk.search_text for chunk in content.chunks])
    write_sparse(sparse, folder / SPARSE_FOLDER)
    chunk_counts: dict[str, int] = {}
    for chunk in content.chunks:
        chunk_counts[chunk.doc_id] = chunk_counts.get(chunk.doc_id, 0) + 1
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        index_version="",
        model_id=content.model_id,
        dimension=content.dimension,
        precision=content.precision,
        chunking=content.chunking,
        faiss_index=dense_type,
        faiss_params=dense_params,
        bm25_params=dict(BM25_PARAMS),
        chunk_count=len(content.chunks),
        sentence_count=len(content.sentences),
        documents=tuple(
            DocumentEntry(doc_id=document.doc_id, source=document.source,
                          content_hash=document.content_hash,
                          chunk_count=chunk_counts.get(document.doc_id, 0))
            for document in content.documents
        ),
        files=_file_entries(folder),
        sentence_vectors=content.sentence_method,
    )
    manifest = dataclasses.replace(manifest, index_version=compute_index_version(manifest))
    write_bytes(folder / MANIFEST_NAME, manifest_to_json(manifest))
    fsync_tree(folder)
    return manifest


@contextmanager
def _publish_lock(root: Path) -> Iterator[None]:
    """One publisher at a time per folder; the kernel drops the lock if the process dies."""
    descriptor = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _install(versions: Path, staging: Path, version: str, is_intact: Callable[[Path], bool]) -> None:
    """Move a complete staging folder to its version name (or reuse an identical existing one)."""
    final = versions / version
    if final.exists():
        if is_intact(final):
            shutil.rmtree(staging)
            # Counts as the newest version again when old versions are collected.
            os.utime(final)
            return
        # A damaged folder under this name (say, a disk error): replace it with the fresh copy.
        remove_tree(final)
    os.rename(staging, final)
    fsync_dir(versions)


def publish_staged(root: Path, content: IndexContent, *, keep: int, kind: str,
                   stage: Callable[[Path], tuple[str, Callable[[Path], bool], T]]) -> T:
    """Write one new version of ``root`` through ``stage`` and make it current, atomically.

    ``stage(staging)`` writes the whole version into the empty folder ``staging`` and returns its
    version name, a check that an existing folder of that name holds the same version intact, and
    what to return. Under the folder's lock: leftovers are cleaned, the staging folder is renamed
    to its version name (or an identical intact one reused), ``CURRENT`` is swapped, and only the
    newest ``keep`` versions remain. ``kind`` names the version in errors ("index version").
    """
    if not content.chunks:
        raise PublishError(
            f"nothing to publish to {root}: the corpus produced no chunks; add readable "
            ".txt/.md/.html files and re-run `grounded ingest`"
        )
    _check_content(content)
    versions = root / VERSIONS_NAME
    try:
        versions.mkdir(parents=True, exist_ok=True)
        with _publish_lock(root):
            clean_leftovers(root, keep=keep)
            staging = versions / f"{STAGING_PREFIX}{secrets.token_hex(8)}"
            staging.mkdir()
            try:
                version, is_intact, result = stage(staging)
                _install(versions, staging, version, is_intact)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
            if _current_or_none(root) != version:
                replace_atomically(root / CURRENT_NAME, f"{version}\n".encode())
            clean_leftovers(root, keep=keep)
    except OSError as error:
        raise PublishError(
            f"cannot publish a new {kind} to {root}: {error}. The previous version is "
            f"still current; free disk space or fix the folder's permissions and {fix_hint(root)}"
        ) from error
    return result


def publish(root: Path, content: IndexContent, *, keep: int = DEFAULT_KEEP,
            sparse: bm25s.BM25 | None = None) -> Manifest:
    """Write ``content`` as a new version of the index folder ``root`` and make it current.

    The version name is a sha256 of the content, so the same content gives a byte-identical
    folder, and publishing the content that is already current changes nothing. Afterwards only
    the newest ``keep`` versions (and the current one) remain. Raises ``PublishError`` when the
    content is empty or the disk fails (``ENOSPC``, ``EIO``, fsync); the previous version then
    stays current. Raises ``ValueError`` when ``content`` breaks its own invariants. ``sparse``,
    when given, is written instead of a BM25 index built from the chunks (``index.shard_publish``).
    """
    def stage(staging: Path) -> tuple[str, Callable[[Path], bool], Manifest]:
        manifest = _write_version(staging, content, sparse)
        return (manifest.index_version,
                lambda final: version_is_intact(final, manifest, root), manifest)

    return publish_staged(root, content, keep=keep, kind="index version", stage=stage)


# --------------------------------------------------------------------------------- housekeeping

def _current_or_none(root: Path) -> str | None:
    try:
        return current_version(root)
    except IndexCorruptedError:
        return None


def clean_leftovers(root: Path, *, keep: int = DEFAULT_KEEP) -> None:
    """Remove interrupted publishes and all but the newest ``keep`` versions (never the current).

    Interrupted publishes leave ``versions/.staging-*``, ``versions/.trash-*`` and temporary
    ``CURRENT`` files behind; a version's age is its folder's modification time.
    """
    versions = root / VERSIONS_NAME
    for leftover in root.glob(f".{CURRENT_NAME}.tmp-*"):
        leftover.unlink(missing_ok=True)
    if not versions.is_dir():
        return
    current = _current_or_none(root)
    finished = []
    for entry in versions.iterdir():
        if entry.name.startswith((STAGING_PREFIX, TRASH_PREFIX)):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        elif entry.is_dir():
            finished.append(entry)
    finished.sort(key=lambda folder: (folder.stat().st_mtime_ns, folder.name), reverse=True)
    for stale in finished[max(keep, 0):]:
        if stale.name != current:
            remove_tree(stale)
