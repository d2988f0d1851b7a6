"""Verify and load the current version of an unsharded index folder (``index.layout``).

Every file's size and sha256 is checked against the manifest before any file is parsed, and
nothing is ever unpickled; a damaged folder raises ``IndexCorruptedError`` naming the file.
``index.sharded`` loads each shard with it; ``index.load`` chooses between the two.
"""

from __future__ import annotations

import dataclasses
import os
import tokenize
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Protocol, TypeVar

from index.dense import read_dense
from index.document_lines import DocumentLines, DocumentLineTexts, read_document_lines
from index.errors import IndexCorruptedError, IndexFolderError, IndexMissingError, ModelMismatchError
from index.fsutil import sha256_file
from index.layout import (
    CHUNK_VECTORS_FILE,
    CHUNKS_FILE,
    CURRENT_NAME,
    DENSE_FILE,
    DOCUMENTS_FILE,
    REQUIRED_FILES,
    SENTENCE_VECTORS_FILE,
    SENTENCES_FILE,
    SPARSE_FOLDER,
    VERSIONS_NAME,
    current_version,
    fix_hint,
)
from index.manifest import (
    MANIFEST_NAME,
    address_of_canonical,
    manifest_from_json,
)
from index.records import Manifest, Vectors
from index.searcher import Index
from index.sparse import document_count, load_sparse
from index.table_lines import read_chunk_table, read_sentence_table
from index.tables import ChunkTable, DocumentTexts, SentenceTable
from index.vector_file import VectorFile, open_vector_file
from ingest import sentence_keys, text_key

# --------------------------------------------------------------------------------------- verify

_VERIFY_THREADS = max(1, min(8, os.cpu_count() or 1))

class _Addressed(Protocol):
    @property
    def index_version(self) -> str: ...


ManifestT = TypeVar("ManifestT", bound=_Addressed)


def verified_manifest_file(version_dir: Path, root: Path, name: str, *,
                           parse: Callable[[bytes, Path], ManifestT]) -> ManifestT:
    """Parse the manifest file ``name`` of a version folder and check that its bytes hash to its
    own content address (``index.manifest.address_of_canonical``), which names its folder.

    The address is the sha256 of the canonical bytes a publisher wrote, so a match means these are
    those bytes: nothing to serialise again (seconds for a million-chunk index's manifest). One
    check for ``manifest.json`` and a sharded version's ``shards.json``; raises
    ``IndexCorruptedError`` naming the file and the fix.
    """
    path = version_dir / name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IndexCorruptedError(f"cannot read {path}: {error}; {fix_hint(root)}") from error
    manifest = parse(data, path)
    try:
        address = address_of_canonical(data, manifest.index_version)
    except ValueError:
        address = ""
    if address != manifest.index_version or manifest.index_version != version_dir.name:
        raise IndexCorruptedError(
            f"{path} does not match its checksum (it was modified or damaged); {fix_hint(root)}"
        )
    return manifest


def _verified_manifest(version_dir: Path, root: Path) -> Manifest:
    """Parse ``manifest.json`` and check that its bytes match its own content address."""
    return verified_manifest_file(version_dir, root, MANIFEST_NAME, parse=manifest_from_json)


def _checksum(path: Path) -> tuple[str, int] | OSError:
    """``sha256_file(path)``, or the error reading it raised (so that a pool can report it in order)."""
    try:
        return sha256_file(path)
    except OSError as error:
        return error


def _verify_files(version_dir: Path, manifest: Manifest, root: Path) -> None:
    """Check every listed file's size and sha256 before any of them is parsed.

    The files are hashed concurrently (hashlib releases the GIL on large blocks, so a 1M-chunk
    index's ~14 GB verify on every core); a failure is reported for the first bad file by name.
    """
    missing = REQUIRED_FILES - set(manifest.files)
    if missing:
        raise IndexCorruptedError(
            f"{version_dir / MANIFEST_NAME} does not list {sorted(missing)}; {fix_hint(root)}"
        )
    names = sorted(manifest.files)
    for name in names:
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise IndexCorruptedError(f"{version_dir / MANIFEST_NAME} lists {name!r}; {fix_hint(root)}")
    # Largest first, so the longest hash starts at once and the small ones fill the other cores.
    by_size = sorted(names, key=lambda name: -manifest.files[name].size)
    with ThreadPoolExecutor(max_workers=_VERIFY_THREADS) as pool:
        checksums = dict(zip(by_size, pool.map(_checksum, [version_dir / name for name in by_size]),
                             strict=True))
    for name in names:
        path, entry, checksum = version_dir / name, manifest.files[name], checksums[name]
        if isinstance(checksum, FileNotFoundError):
            raise IndexCorruptedError(f"{path} is missing; {fix_hint(root)}") from checksum
        if isinstance(checksum, OSError):
            raise IndexCorruptedError(f"cannot read {path}: {checksum}; {fix_hint(root)}") from checksum
        if checksum != (entry.sha256, entry.size):
            raise IndexCorruptedError(
                f"{path} does not match its checksum in manifest.json (it was modified, "
                f"truncated or damaged); {fix_hint(root)}"
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
            f"{fix_hint(root)}"
        )
    return version_dir, _verified_manifest(version_dir, root)


def version_is_intact(version_dir: Path, manifest: Manifest, root: Path) -> bool:
    """True when an existing version folder holds exactly ``manifest`` and its files."""
    try:
        if _verified_manifest(version_dir, root) != manifest:
            return False
        _verify_files(version_dir, manifest, root)
    except IndexCorruptedError:
        return False
    return True


# ----------------------------------------------------------------------------------------- load

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Records:
    documents: DocumentLines
    chunks: ChunkTable
    sentences: SentenceTable
    chunk_vectors: VectorFile
    sentence_vectors: VectorFile


# What numpy and bm25s raise on a damaged file whose checksum passed: numpy parses a .npy header
# with ``tokenize`` and ``ast.literal_eval``, bm25s indexes JSON it trusts.
_PARSE_ERRORS = (ValueError, KeyError, TypeError, SyntaxError, tokenize.TokenError)


def _load_array(path: Path, rows: int, dimension: int, root: Path) -> VectorFile:
    """The vectors as a ``VectorFile``: rows are read from the verified file when asked for."""
    try:
        vectors = open_vector_file(path)
    except (OSError, *_PARSE_ERRORS) as error:
        raise IndexCorruptedError(f"cannot read {path}: {error}; {fix_hint(root)}") from error
    if vectors.shape != (rows, dimension):
        raise IndexCorruptedError(
            f"{path} holds float32 {vectors.shape}, expected float32 {(rows, dimension)}; "
            f"{fix_hint(root)}"
        )
    return vectors


def _read_records(version_dir: Path, manifest: Manifest, root: Path) -> _Records:
    """Parse the record and vector files of a version whose checksums were verified."""
    documents_path = version_dir / DOCUMENTS_FILE
    documents = read_document_lines(documents_path)
    if len(set(documents.doc_ids)) != len(documents):
        raise IndexCorruptedError(f"{documents_path} lists a doc_id twice; {fix_hint(root)}")
    # Texts are read from the file when a record or document is read, not held (index.document_lines).
    texts = DocumentTexts(documents.doc_ids, DocumentLineTexts(documents), lengths=documents.text_lengths)
    chunks_path = version_dir / CHUNKS_FILE
    chunks = read_chunk_table(chunks_path.read_bytes(), chunks_path, texts)
    sentences_path = version_dir / SENTENCES_FILE
    sentences = read_sentence_table(sentences_path.read_bytes(), sentences_path, texts)
    if (len(documents), len(chunks), len(sentences)) != (
        len(manifest.documents), manifest.chunk_count, manifest.sentence_count
    ):
        raise IndexCorruptedError(
            f"{version_dir} holds {len(documents)} documents, {len(chunks)} chunks and "
            f"{len(sentences)} sentences, but manifest.json says {len(manifest.documents)}, "
            f"{manifest.chunk_count} and {manifest.sentence_count}; {fix_hint(root)}"
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


def load_unsharded(root: Path, *, expected_model_id: str | None = None,
                   expected_dimension: int | None = None) -> Index:
    """Verify and load the current unsharded version of ``root`` into a ready ``Index``.

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
            raise IndexCorruptedError(f"cannot read {dense_path}: {error}; {fix_hint(root)}") from error
        if (dense.ntotal, dense.d) != (manifest.chunk_count, manifest.dimension):
            raise IndexCorruptedError(
                f"{dense_path} holds {dense.ntotal} vectors of dimension {dense.d}, expected "
                f"{manifest.chunk_count} of {manifest.dimension}; {fix_hint(root)}"
            )
        sparse_path = version_dir / SPARSE_FOLDER
        try:
            sparse = load_sparse(sparse_path)
        except _PARSE_ERRORS as error:
            message = f"cannot read {sparse_path}: {error}; {fix_hint(root)}"
            raise IndexCorruptedError(message) from error
        if document_count(sparse) != manifest.chunk_count:
            raise IndexCorruptedError(
                f"{sparse_path} scores {document_count(sparse)} chunks, expected "
                f"{manifest.chunk_count}; {fix_hint(root)}"
            )
        return Index(
            root=root,
            version_dir=version_dir,
            manifest=manifest,
            documents=records.documents,
            chunks=records.chunks,
            sentences=records.sentences,
            chunk_vectors=records.chunk_vectors,
            sentence_vectors=records.sentence_vectors,
            dense=dense,
            sparse=sparse,
        )
    except ValueError as error:
        raise IndexCorruptedError(f"{version_dir}: {error}; {fix_hint(root)}") from error
    except OSError as error:
        raise IndexCorruptedError(f"cannot read {version_dir}: {error}; {fix_hint(root)}") from error


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


def unsharded_vectors(root: Path, model_id: str) -> dict[str, Vectors]:
    """Cache key -> vector for every chunk and sentence of the current unsharded version.

    Chunks are keyed by ``text_key(text)``, sentences by ``ingest.sentence_vectors.sentence_keys``
    under the method the version was built with (their text when encoded, their chunks' when pooled).

    Empty when there is no valid current version or it was built with another model. The vectors
    are read-only views into the loaded arrays.
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
        cache[text_key(chunk.search_text)] = vector
    keys = sentence_keys(records.chunks, records.sentences, manifest.sentence_vectors)
    for key, vector in zip(keys, records.sentence_vectors, strict=True):
        cache[key] = vector
    return cache
