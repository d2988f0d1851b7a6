"""Errors of the grounding checker.

GroundingError (a ``GroundedError``, ``ingest.errors``, and a ValueError)
├── CitationError: a citation names an unknown document or an impossible range
└── VerifierModelError: the claim verifier's folder is missing, incomplete or fails its card's hashes
"""

from __future__ import annotations

from ingest import GroundedError


class GroundingError(GroundedError, ValueError):
    """An answer or its citations cannot be checked as given."""


class CitationError(GroundingError):
    """A citation names a document the index does not hold, or a range outside its text."""


class VerifierModelError(GroundingError):
    """A claim-verifier folder that cannot be loaded: restore it from git or give another folder."""
