"""Durable file-system steps for publishing: fsync, atomic replace, atomic removal, checksums."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from pathlib import Path

TRASH_PREFIX = ".trash-"
_BLOCK_BYTES = 1 << 20


def fsync_file(path: Path) -> None:
    """Flush one file's data and metadata to stable storage."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries, so a rename or a new file inside it survives power loss."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(path: Path) -> None:
    """Fsync every file and directory under ``path`` (children before their directory)."""
    for directory, _, file_names in os.walk(path, topdown=False):
        for file_name in file_names:
            fsync_file(Path(directory) / file_name)
        fsync_dir(Path(directory))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file (no fsync: the caller fsyncs the whole staging tree)."""
    with open(path, "xb") as handle:
        handle.write(data)


def replace_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by temp file + fsync + rename + directory fsync (readers never see half).

    All or nothing: when the directory fsync after the rename fails, the previous content (or
    absence) of ``path`` is put back before the ``OSError`` is raised, so a caller that reports
    "nothing changed" tells the truth. Only if that restore fails too does ``path`` keep ``data``.
    """
    try:
        previous: bytes | None = path.read_bytes()
    except FileNotFoundError:
        previous = None
    _write_and_rename(path, data)
    try:
        fsync_dir(path.parent)
    except OSError:
        # The first error is the one to report; if the restore fails too, the new content stays.
        with contextlib.suppress(OSError):
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                _write_and_rename(path, previous)
        raise


def _write_and_rename(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{secrets.token_hex(8)}")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def remove_tree(path: Path) -> None:
    """Remove a folder so that it disappears at once: rename it to a trash name, then delete it.

    A kill during the delete leaves only a ``.trash-*`` folder, which ``clean_leftovers`` removes;
    it never leaves a half-deleted folder under a version name.
    """
    trash = path.with_name(f"{TRASH_PREFIX}{secrets.token_hex(8)}")
    os.rename(path, trash)
    shutil.rmtree(trash)


def sha256_file(path: Path) -> tuple[str, int]:
    """Return ``(hex sha256, size in bytes)`` of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK_BYTES):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
