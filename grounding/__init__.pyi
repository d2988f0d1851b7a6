"""The face of ``grounding``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .answers import AnswerToCheck, parse_answers
from .checker import Checker, check_answer
from .errors import CitationError, GroundingError
from .markers import Claim, MarkedAnswer, parse_marked_answer
from .records import CheckResult, Citation, Evidence, Reason, SentenceCheck, Thresholds
from .report import report_json, report_markdown

__all__ = [
    "AnswerToCheck",
    "CheckResult",
    "Checker",
    "Citation",
    "CitationError",
    "Claim",
    "Evidence",
    "GroundingError",
    "MarkedAnswer",
    "Reason",
    "SentenceCheck",
    "Thresholds",
    "check_answer",
    "parse_answers",
    "parse_marked_answer",
    "report_json",
    "report_markdown",
]
