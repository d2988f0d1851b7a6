"""The index folder on disk: publish a version atomically, verify and load the current one.

Layout (docs/architecture.md, "Index folder")::

    DIR/CURRENT              name of the live version, replaced by temp file + fsync + rename
    DIR/versions/<version>/  manifest.json + data files; <version> is a sha256 of the content

A reader only ever follows ``CURRENT`` to a complete, renamed folder, so a crash at any point of a
publish leaves either the old or the new version live. Nothing is ever pickled or unpickled.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import re
import secrets
import shutil
import tokenize
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import numpy as np

from index.dense import build_dense, read_dense, write_dense
from index.errors import (
    IndexCorruptedError,
    IndexFolderError,
    IndexMissingError,
    ModelMismatchError,
    PublishError,
)
from index.fsutil import (
    TRASH_PREFIX,
    fsync_dir,
    fsync_tree,
    remove_tree,
    replace_atomically,
    sha256_file,
    write_bytes,
)
from index.manifest import (
    MANIFEST_NAME,
    chunks_from_jsonl,
    chunks_to_jsonl,
    compute_index_version,
    documents_from_jsonl,
    documents_to_jsonl,
    manifest_from_json,
    manifest_to_json,
    sentences_from_jsonl,
    sentences_to_jsonl,
)
from index.records import FORMAT_VERSION, DocumentEntry, FileEntry, IndexContent, Manifest, Vectors
from index.searcher import Index
from index.sparse import BM25_PARAMS, SPARSE_FILES, build_sparse, document_count, load_sparse
from index.sparse import save_sparse as write_sparse
from ingest.embedding import text_key
from ingest.records import Chunk, Document, Sentence
from ingest.sentence_vectors import sentence_keys

CURRENT_NAME = "CURRENT"
VERSIONS_NAME = "versions"
STAGING_PREFIX = ".staging-"
LOCK_NAME = ".publish.lock"
DEFAULT_KEEP = 2

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


def _fix(root: Path) -> str:
    return f"re-run `grounded ingest --index {root}`"


# ---------------------------------------------------------------------------------------- publish

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
    if [(c.doc_id, c.ordinal) for c in content.chunks] != sorted(
        (c.doc_id, c.ordinal) for c in content.chunks
    ):
        raise ValueError("chunks must be sorted by (doc_id, ordinal)")
    order = [(s.doc_id, s.start, s.end) for s in content.sentences]
    if order != sorted(order):
        raise ValueError("sentences must be sorted by (doc_id, start)")
    for name, vectors, rows in (("chunk_vectors", content.chunk_vectors, len(content.chunks)),
                                ("sentence_vectors", content.sentence_vectors,
                                 len(content.sentences))):
        if vectors.shape != (rows, content.dimension):
            expected = (rows, content.dimension)
            raise ValueError(f"{name} has shape {vectors.shape}, expected {expected}")
        if not np.all(np.isfinite(vectors)):
            raise ValueError(f"{name} contains NaN or infinite values")


def _save_array(path: Path, vectors: Vectors) -> None:
    with open(path, "xb") as handle:
        np.save(handle, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)


def _file_entries(folder: Path) -> dict[str, FileEntry]:
    entries = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha256, size = sha256_file(path)
            entries[path.relative_to(folder).as_posix()] = FileEntry(sha256=sha256, size=size)
    return entries


def _write_version(folder: Path, content: IndexContent) -> Manifest:
    """Write every file of ``content`` into ``folder`` (fsynced) and return its manifest."""
    write_bytes(folder / DOCUMENTS_FILE, documents_to_jsonl(content.documents))
    write_bytes(folder / CHUNKS_FILE, chunks_to_jsonl(content.chunks))
    write_bytes(folder / SENTENCES_FILE, sentences_to_jsonl(content.sentences))
    _save_array(folder / CHUNK_VECTORS_FILE, content.chunk_vectors)
    _save_array(folder / SENTENCE_VECTORS_FILE, content.sentence_vectors)
    dense, dense_type, dense_params = build_dense(content.chunk_vectors)
    write_dense(dense, folder / DENSE_FILE)
    write_sparse(build_sparse([chunk.text for chunk in content.chunks]), folder / SPARSE_FOLDER)
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


def _is_intact(version_dir: Path, manifest: Manifest, root: Path) -> bool:
    """True when an existing version folder holds exactly ``manifest`` and its files."""
    try:
        if _verified_manifest(version_dir, root) != manifest:
            return False
        _verify_files(version_dir, manifest, root)
    except IndexCorruptedError:
        return False
    return True


def _install(versions: Path, staging: Path, manifest: Manifest) -> None:
    """Move a complete staging folder to its version name (or reuse an identical existing one)."""
    final = versions / manifest.index_version
    if final.exists():
        if _is_intact(final, manifest, versions.parent):
            shutil.rmtree(staging)
            # Counts as the newest version again when old versions are collected.
            os.utime(final)
            return
        # A damaged folder under this name (say, a disk error): replace it with the fresh copy.
        remove_tree(final)
    os.rename(staging, final)
    fsync_dir(versions)


def publish(root: Path, content: IndexContent, *, keep: int = DEFAULT_KEEP) -> Manifest:
    """Write ``content`` as a new version of the index folder ``root`` and make it current.

    The version name is a sha256 of the content, so the same content gives a byte-identical
    folder, and publishing the content that is already current changes nothing. Afterwards only
    the newest ``keep`` versions (and the current one) remain. Raises ``PublishError`` when the
    content is empty or the disk fails (``ENOSPC``, ``EIO``, fsync); the previous version then
    stays current. Raises ``ValueError`` when ``content`` breaks its own invariants.
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
                manifest = _write_version(staging, content)
                _install(versions, staging, manifest)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
            if _current_or_none(root) != manifest.index_version:
                replace_atomically(root / CURRENT_NAME, f"{manifest.index_version}\n".encode())
            clean_leftovers(root, keep=keep)
    except OSError as error:
        raise PublishError(
            f"cannot publish a new index version to {root}: {error}. The previous version is "
            f"still current; free disk space or fix the folder's permissions and {_fix(root)}"
        ) from error
    return manifest


# --------------------------------------------------------------------------------- housekeeping

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
        raise IndexCorruptedError(f"cannot read {path}: {error}; {_fix(root)}") from error
    name = data.decode("ascii", errors="replace").strip()
    if _VERSION_NAME.fullmatch(name) is None or data != f"{name}\n".encode():
        raise IndexCorruptedError(f"{path} does not name an index version; {_fix(root)}")
    return name


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


# --------------------------------------------------------------------------------------- verify

def _verified_manifest(version_dir: Path, root: Path) -> Manifest:
    """Parse ``manifest.json`` and check it is canonical and matches its own content address."""
    path = version_dir / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IndexCorruptedError(f"cannot read {path}: {error}; {_fix(root)}") from error
    manifest = manifest_from_json(data, path)
    if (manifest_to_json(manifest) != data
            or compute_index_version(manifest) != manifest.index_version
            or manifest.index_version != version_dir.name):
        raise IndexCorruptedError(
            f"{path} does not match its checksum (it was modified or damaged); {_fix(root)}"
        )
    return manifest


def _verify_files(version_dir: Path, manifest: Manifest, root: Path) -> None:
    """Check every listed file's size and sha256 before any of them is parsed."""
    missing = REQUIRED_FILES - set(manifest.files)
    if missing:
        raise IndexCorruptedError(
            f"{version_dir / MANIFEST_NAME} does not list {sorted(missing)}; {_fix(root)}"
        )
    for name, entry in sorted(manifest.files.items()):
        relative = PurePosixPath(name)
        path = version_dir / relative
        if relative.is_absolute() or ".." in relative.parts:
            raise IndexCorruptedError(f"{version_dir / MANIFEST_NAME} lists {name!r}; {_fix(root)}")
        try:
            sha256, size = sha256_file(path)
        except FileNotFoundError as error:
            raise IndexCorruptedError(f"{path} is missing; {_fix(root)}") from error
        except OSError as error:
            raise IndexCorruptedError(f"cannot read {path}: {error}; {_fix(root)}") from error
        if (sha256, size) != (entry.sha256, entry.size):
            raise IndexCorruptedError(
                f"{path} does not match its checksum in manifest.json (it was modified, "
                f"truncated or damaged); {_fix(root)}"
            )


def _open_current(root: Path) -> tuple[Path, Manifest]:
    """The current version's folder and verified manifest (files not yet checked)."""
    name = current_version(root)
    if name is None:
        raise IndexMissingError(f"no index at {root}: run `grounded ingest --index {root}`")
    version_dir = root / VERSIONS_NAME / name
    if not version_dir.is_dir():
        raise IndexCorruptedError(
            f"{root / CURRENT_NAME} names version {name}, but {version_dir} does not exist; "
            f"{_fix(root)}"
        )
    return version_dir, _verified_manifest(version_dir, root)


# ----------------------------------------------------------------------------------------- load

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Records:
    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    sentences: tuple[Sentence, ...]
    chunk_vectors: Vectors
    sentence_vectors: Vectors


# What numpy and bm25s raise on a damaged file whose checksum passed: numpy parses a .npy header
# with ``tokenize`` and ``ast.literal_eval``, bm25s indexes JSON it trusts.
_PARSE_ERRORS = (ValueError, KeyError, TypeError, SyntaxError, tokenize.TokenError)


def _load_array(path: Path, rows: int, dimension: int, root: Path) -> Vectors:
    try:
        vectors: Vectors = np.load(path, allow_pickle=False)
    except (OSError, *_PARSE_ERRORS) as error:
        raise IndexCorruptedError(f"cannot read {path}: {error}; {_fix(root)}") from error
    if vectors.dtype != np.float32 or vectors.shape != (rows, dimension):
        raise IndexCorruptedError(
            f"{path} holds {vectors.dtype} {vectors.shape}, expected float32 {(rows, dimension)}; "
            f"{_fix(root)}"
        )
    vectors.flags.writeable = False
    return vectors


def _read_records(version_dir: Path, manifest: Manifest, root: Path) -> _Records:
    """Parse the record and vector files of a version whose checksums were verified."""
    documents_path = version_dir / DOCUMENTS_FILE
    documents = documents_from_jsonl(documents_path.read_bytes(), documents_path)
    text_of = {document.doc_id: document.text for document in documents}
    chunks_path = version_dir / CHUNKS_FILE
    chunks = chunks_from_jsonl(chunks_path.read_bytes(), chunks_path, text_of)
    sentences_path = version_dir / SENTENCES_FILE
    sentences = sentences_from_jsonl(sentences_path.read_bytes(), sentences_path, text_of)
    if (len(text_of), len(chunks), len(sentences)) != (
        len(manifest.documents), manifest.chunk_count, manifest.sentence_count
    ):
        raise IndexCorruptedError(
            f"{version_dir} holds {len(text_of)} documents, {len(chunks)} chunks and "
            f"{len(sentences)} sentences, but manifest.json says {len(manifest.documents)}, "
            f"{manifest.chunk_count} and {manifest.sentence_count}; {_fix(root)}"
        )
    return _Records(
        documents=documents,
        chunks=chunks,
        sentences=sentences,
        chunk_vectors=_load_array(version_dir / CHUNK_VECTORS_FILE, len(chunks),
                                  manifest.dimension, root),
        sentence_vectors=_load_array(version_dir / SENTENCE_VECTORS_FILE, len(sentences),
                                     manifest.dimension, root),
    )


def _check_model(manifest: Manifest, root: Path, model_id: str | None,
                 dimension: int | None) -> None:
    if (model_id is not None and model_id != manifest.model_id) or (
        dimension is not None and dimension != manifest.dimension
    ):
        raise ModelMismatchError(
            f"the index at {root} was built with model {manifest.model_id} "
            f"({manifest.dimension}-d), but model {model_id or manifest.model_id} "
            f"({dimension or manifest.dimension}-d) was requested; serve with the index's model "
            f"or re-run `grounded ingest --index {root}` with the new one"
        )


def load_index(root: Path, *, expected_model_id: str | None = None,
               expected_dimension: int | None = None) -> Index:
    """Verify and load the current version of ``root`` into a ready ``Index``.

    Every file's sha256 is checked against ``manifest.json`` before any is parsed. Raises
    ``IndexMissingError`` (no version yet), ``IndexCorruptedError`` (a file is missing, damaged or
    inconsistent; the message names it) or ``ModelMismatchError``.
    """
    version_dir, manifest = _open_current(root)
    _check_model(manifest, root, expected_model_id, expected_dimension)
    _verify_files(version_dir, manifest, root)
    try:
        records = _read_records(version_dir, manifest, root)
        dense_path = version_dir / DENSE_FILE
        try:
            dense = read_dense(dense_path, count=manifest.chunk_count, dimension=manifest.dimension)
        except RuntimeError as error:
            raise IndexCorruptedError(f"cannot read {dense_path}: {error}; {_fix(root)}") from error
        if (dense.ntotal, dense.d) != (manifest.chunk_count, manifest.dimension):
            raise IndexCorruptedError(
                f"{dense_path} holds {dense.ntotal} vectors of dimension {dense.d}, expected "
                f"{manifest.chunk_count} of {manifest.dimension}; {_fix(root)}"
            )
        sparse_path = version_dir / SPARSE_FOLDER
        try:
            sparse = load_sparse(sparse_path)
        except _PARSE_ERRORS as error:
            message = f"cannot read {sparse_path}: {error}; {_fix(root)}"
            raise IndexCorruptedError(message) from error
        if document_count(sparse) != manifest.chunk_count:
            raise IndexCorruptedError(
                f"{sparse_path} scores {document_count(sparse)} chunks, expected "
                f"{manifest.chunk_count}; {_fix(root)}"
            )
    except OSError as error:
        raise IndexCorruptedError(f"cannot read {version_dir}: {error}; {_fix(root)}") from error
    return Index(
        root=root,
        version_dir=version_dir,
        manifest=manifest,
        documents={document.doc_id: document for document in records.documents},
        chunks=records.chunks,
        sentences=records.sentences,
        chunk_vectors=records.chunk_vectors,
        sentence_vectors=records.sentence_vectors,
        dense=dense,
        sparse=sparse,
    )


def read_manifest(root: Path) -> Manifest | None:
    """The fully verified manifest of the current version, or ``None`` when there is no valid one.

    A damaged index reads as ``None`` so that ingest simply rebuilds it.
    """
    try:
        version_dir, manifest = _open_current(root)
        _verify_files(version_dir, manifest, root)
    except (IndexMissingError, IndexCorruptedError):
        return None
    return manifest


def load_previous_vectors(root: Path, model_id: str) -> dict[str, Vectors]:
    """Cache key -> vector for every chunk and sentence of the current version.

    Chunks are keyed by ``text_key(text)``, sentences by ``ingest.sentence_vectors.sentence_keys``
    under the method the version was built with (their text when encoded, their chunks' when pooled).

    Empty when there is no valid current version or it was built with another model, so ingest
    never re-embeds unchanged text and never reuses another model's vectors. The vectors are
    read-only views into the loaded arrays.
    """
    try:
        version_dir, manifest = _open_current(root)
        if manifest.model_id != model_id:
            return {}
        _verify_files(version_dir, manifest, root)
        records = _read_records(version_dir, manifest, root)
    except (IndexFolderError, OSError):
        return {}
    cache: dict[str, Vectors] = {}
    for chunk, vector in zip(records.chunks, records.chunk_vectors, strict=True):
        cache[text_key(chunk.text)] = vector
    keys = sentence_keys(records.chunks, records.sentences, manifest.sentence_vectors)
    for key, vector in zip(keys, records.sentence_vectors, strict=True):
        cache[key] = vector
    return cache
