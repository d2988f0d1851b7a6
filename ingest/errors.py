"""Errors raised by ingestion.

IngestError
├── CorpusError        a corpus path is missing or unreadable (the CLI exits 2, nothing is published)
└── ModelLoadError     the embedding model cannot be loaded from local files
"""


class IngestError(Exception):
    """Base class of every ingestion error; the message says what to fix."""


class CorpusError(IngestError):
    """A corpus path is missing or unreadable."""


class ModelLoadError(IngestError):
    """The embedding model cannot be loaded offline."""
