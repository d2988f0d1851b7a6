"""Errors raised when writing or loading an index folder.

IndexFolderError (a ``GroundedError``, ``ingest.errors``)
├── IndexMissingError     no published version in the folder: run `grounded ingest --index DIR`
├── IndexCorruptedError   a file fails its checksum or cannot be parsed: re-run ingest
├── ModelMismatchError    the index was built with another model/dimension than requested
├── PublishError          a new version could not be written (disk full, fsync failure)
├── BuildError            a distributed build (`--ray`) failed before publishing anything
└── ShardUnavailableError a shard served remotely (`grounded serve --ray`) did not answer in time;
                          no partial ranking is ever made from the other shards
"""

from ingest import GroundedError

__all__ = [
    "BuildError", "GroundedError", "IndexCorruptedError", "IndexFolderError", "IndexMissingError",
    "ModelMismatchError", "PublishError", "ShardUnavailableError",
]
"""``GroundedError`` is re-exported: ranking, service and eval, which never import ingest, derive from it here."""


class IndexFolderError(GroundedError):
    """Base class of index errors; the message names the file and the fix."""


class IndexMissingError(IndexFolderError):
    """The index folder holds no published version."""


class IndexCorruptedError(IndexFolderError):
    """A file of the published version fails verification."""


class ModelMismatchError(IndexFolderError):
    """The index was built with a different embedding model or dimension."""


class PublishError(IndexFolderError):
    """Writing or publishing a new version failed; the previous version is untouched."""


class BuildError(IndexFolderError):
    """A distributed build failed before publishing; the previous version keeps serving."""


class ShardUnavailableError(IndexFolderError):
    """A remote shard did not answer within its deadline; ``shard`` names it (the service's 503)."""

    def __init__(self, message: str, *, shard: int) -> None:
        super().__init__(message)
        self.shard = shard
