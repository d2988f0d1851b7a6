"""Errors of ranking.

    RankingError
    └── ReaderModelError   a reader model folder is missing, incomplete or fails its card's hashes
"""


class RankingError(Exception):
    """Base of the ranking package's errors."""


class ReaderModelError(RankingError):
    """A reader model folder is missing, incomplete or does not match its card."""
