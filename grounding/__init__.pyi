"""The face of ``grounding``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .answers import AnswerToCheck, parse_answers, read_answers
from .checker import Checker, check_answer
from .errors import CitationError, GroundingError
from .facts import extract_names
from .markers import Claim, MarkedAnswer, parse_marked_answer
from .records import CheckResult, Citation, Evidence, Reason, SentenceCheck, Thresholds, VerifierReading
from .report import report_json, report_markdown
from .verifier import LABELS, ClaimVerifier, window_rows
from .verifier_model import OnnxClaimVerifier, load_verifier, verifier_folder

__all__ = [
    "LABELS",
    "AnswerToCheck",
    "CheckResult",
    "Checker",
    "Citation",
    "CitationError",
    "Claim",
    "ClaimVerifier",
    "Evidence",
    "GroundingError",
    "MarkedAnswer",
    "OnnxClaimVerifier",
    "Reason",
    "SentenceCheck",
    "Thresholds",
    "VerifierReading",
    "check_answer",
    "extract_names",
    "load_verifier",
    "parse_answers",
    "parse_marked_answer",
    "read_answers",
    "report_json",
    "report_markdown",
    "verifier_folder",
    "window_rows",
]
