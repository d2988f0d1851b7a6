"""Errors raised by evaluation.

EvalError (a ``GroundedError``, ``ingest.errors``)
├── GoldSetError        the gold question file breaks its schema (the message names the line)
├── BeirFormatError     a BEIR folder lacks a file or has a malformed line (named in the message)
└── MetricInputError    a metric or bootstrap got input it cannot score (empty sample, bad k, ...)
"""

from index import GroundedError


class EvalError(GroundedError):
    """Base class of every evaluation error; the message says what to fix."""


class GoldSetError(EvalError):
    """The gold question file is malformed."""


class BeirFormatError(EvalError):
    """A BEIR-format dataset folder is incomplete or malformed."""


class MetricInputError(EvalError, ValueError):
    """A metric or bootstrap was given input it cannot score."""
