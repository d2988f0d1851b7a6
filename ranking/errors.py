"""Errors of ranking.

    RankingError (a ``GroundedError``, ``ingest.errors``)
    └── ReaderModelError   a reader model folder is missing, incomplete or fails its card's hashes
"""

from index import GroundedError


class RankingError(GroundedError):
    """Base of the ranking package's errors."""


class ReaderModelError(RankingError):
    """A reader model folder is missing, incomplete or does not match its card."""
