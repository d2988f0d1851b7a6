"""Errors raised by ingestion, and ``GroundedError``, the root of every error grounded raises.

GroundedError                 the root: every package's errors derive from it (``grounded.cli`` turns
│                             any of them into one line on stderr and exit code 2)
├── IngestError               (this module)
├── index.errors.IndexFolderError
├── ranking.errors.RankingError
├── grounding.errors.GroundingError (also a ValueError)
├── service.errors.ServiceError
└── eval.errors.EvalError

It lives here, in the lowest layer, so that every package can derive from it without importing
anything above itself.

IngestError
├── CorpusError        a corpus path is missing or unreadable (the CLI exits 2, nothing is published)
├── OptionError        an ingest option is out of range (chunk sizes, shards; also a ValueError)
├── ModelLoadError     the embedding model cannot be loaded from local files (or a preset is not installed)
└── ModelInstallError  `grounded models install` failed a check (nothing was installed)
"""


class GroundedError(Exception):
    """Base class of every error grounded raises on purpose; the message says what to fix."""


class IngestError(GroundedError):
    """Base class of every ingestion error; the message says what to fix."""


class CorpusError(IngestError):
    """A corpus path is missing or unreadable."""


class OptionError(IngestError, ValueError):
    """An ingest option is out of range; the message names the option and its valid range."""


class ModelLoadError(IngestError):
    """The embedding model cannot be loaded offline."""


class ModelInstallError(IngestError):
    """A model install failed (pip, a digest, the zip); nothing was left half-unpacked."""
