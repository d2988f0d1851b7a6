"""Errors raised by ingestion.

IngestError
├── CorpusError        a corpus path is missing or unreadable (the CLI exits 2, nothing is published)
├── OptionError        an ingest option is out of range (chunk sizes, shards; also a ValueError)
├── ModelLoadError     the embedding model cannot be loaded from local files (or a preset is not installed)
└── ModelInstallError  `grounded models install` failed a check (nothing was installed)
"""


class IngestError(Exception):
    """Base class of every ingestion error; the message says what to fix."""


class CorpusError(IngestError):
    """A corpus path is missing or unreadable."""


class OptionError(IngestError, ValueError):
    """An ingest option is out of range; the message names the option and its valid range."""


class ModelLoadError(IngestError):
    """The embedding model cannot be loaded offline."""


class ModelInstallError(IngestError):
    """A model install failed (pip, a digest, the zip); nothing was left half-unpacked."""
