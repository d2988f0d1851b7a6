"""Claim-level grounding checks: is each answer sentence supported by the text it cites?

The pure core (``facts``, ``compare``) works on frozen records; ``evidence`` reads an index; the
facade ``check_answer`` ties them together for the CLI, the service and eval.
"""

from grounding.checker import Checker, check_answer
from grounding.records import CheckResult, Citation, Evidence, Reason, SentenceCheck, Thresholds

__all__ = ["CheckResult", "Checker", "Citation", "Evidence", "Reason", "SentenceCheck", "Thresholds", "check_answer"]
