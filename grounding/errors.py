"""Errors of the grounding checker.

GroundingError (a ``GroundedError``, ``ingest.errors``, and a ValueError)
└── CitationError: a citation names an unknown document or an impossible range
"""

from __future__ import annotations

from ingest import GroundedError


class GroundingError(GroundedError, ValueError):
    """An answer or its citations cannot be checked as given."""


class CitationError(GroundingError):
    """A citation names a document the index does not hold, or a range outside its text."""
