"""Calibrating the abstention threshold from the best answer scores of answerable and unanswerable
questions.

The engine answers when its best sentence scores at least the threshold and abstains below it
(``ranking.AnswerConfig.min_score``). Two errors are possible: a *false abstention* (an
answerable question scored below the threshold) and an *answered unanswerable* question (scored at
or above it). Calibration picks the threshold that minimises their sum.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from eval.errors import MetricInputError


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdErrors:
    """Both error counts and rates of one threshold on one set of scores."""

    threshold: float
    false_abstentions: int
    answered_unanswerable: int
    false_abstention_rate: float
    """False abstentions over answerable questions (0 when there are none)."""
    answered_unanswerable_rate: float
    """Answered unanswerable questions over unanswerable questions (0 when there are none)."""

    @property
    def errors(self) -> int:
        """Total wrong decisions (the quantity calibration minimises)."""
        return self.false_abstentions + self.answered_unanswerable


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """The recommended threshold, how it and the current one do, and how far it is to be trusted."""

    recommended: ThresholdErrors
    current: ThresholdErrors
    margin: float
    """Distance from the recommended threshold to the nearest observed score: how far the threshold
    can move (or scores drift) before any decision on these questions changes."""
    leave_one_out_errors: int
    """Wrong decisions when each question is decided by a threshold calibrated without it."""
    answerable: int
    unanswerable: int

    @property
    def leave_one_out_error_rate(self) -> float:
        """Leave-one-out wrong decisions over all questions: an estimate for unseen questions."""
        return self.leave_one_out_errors / (self.answerable + self.unanswerable)

    @property
    def in_sample_error_rate(self) -> float:
        """Wrong decisions of the recommended threshold on the very questions it was fitted to."""
        return self.recommended.errors / (self.answerable + self.unanswerable)


def errors_at(threshold: float, answerable: Sequence[float],
              unanswerable: Sequence[float]) -> ThresholdErrors:
    """Count both errors when questions scoring ``>= threshold`` are answered."""
    false_abstentions = sum(1 for score in answerable if score < threshold)
    answered_unanswerable = sum(1 for score in unanswerable if score >= threshold)
    return ThresholdErrors(
        threshold=threshold,
        false_abstentions=false_abstentions,
        answered_unanswerable=answered_unanswerable,
        false_abstention_rate=false_abstentions / len(answerable) if answerable else 0.0,
        answered_unanswerable_rate=(answered_unanswerable / len(unanswerable)
                                    if unanswerable else 0.0),
    )


def candidate_thresholds(scores: Sequence[float]) -> list[float]:
    """Ascending thresholds, one inside each interval where the decisions stay the same.

    Errors only change when the threshold crosses a score, so one threshold per interval covers
    every outcome: the midpoint between neighbouring distinct scores, and below the lowest (answer
    everything) or above the highest score (abstain on everything) by half the neighbouring gap.
    Each keeps the largest distance to the scores around it.
    """
    distinct = sorted(set(scores))
    if len(distinct) == 1:
        return [distinct[0], math.nextafter(distinct[0], math.inf)]
    if not distinct:
        return []
    midpoints = [(low + high) / 2 for low, high in itertools.pairwise(distinct)]
    below = distinct[0] - (distinct[1] - distinct[0]) / 2
    above = distinct[-1] + (distinct[-1] - distinct[-2]) / 2
    return [below, *midpoints, above]


def choose_threshold(answerable: Sequence[float], unanswerable: Sequence[float]) -> float:
    """The candidate threshold with the fewest errors; ties go to the lower threshold.

    The lower threshold answers more: between two equally good thresholds on the sample, an answer
    the user can check against its citation costs less than a needless refusal.
    Raises ``MetricInputError`` when there are no scores or a score is not finite.
    """
    _check_scores(answerable, unanswerable)
    best_threshold = math.inf
    best_errors = math.inf
    for threshold in candidate_thresholds([*answerable, *unanswerable]):
        errors = errors_at(threshold, answerable, unanswerable).errors
        if errors < best_errors:  # strict: an equal count later (higher) never replaces
            best_threshold, best_errors = threshold, errors
    return best_threshold


def calibrate(answerable: Sequence[float], unanswerable: Sequence[float],
              current_threshold: float) -> Calibration:
    """Recommend a threshold and report both error rates there and at ``current_threshold``.

    Leave-one-out: each question in turn is left out, the threshold chosen on the rest, and the
    left-out question decided by it. With few unanswerable questions the in-sample error is
    optimistic; the leave-one-out count says how much.
    """
    threshold = choose_threshold(answerable, unanswerable)
    scores = [*answerable, *unanswerable]
    margin = min(abs(score - threshold) for score in scores)
    loo_errors = 0
    for position, score in enumerate(answerable):
        rest = [*answerable[:position], *answerable[position + 1:]]
        if (rest or unanswerable) and score < choose_threshold(rest, unanswerable):
            loo_errors += 1
    for position, score in enumerate(unanswerable):
        rest = [*unanswerable[:position], *unanswerable[position + 1:]]
        if (answerable or rest) and score >= choose_threshold(answerable, rest):
            loo_errors += 1
    return Calibration(
        recommended=errors_at(threshold, answerable, unanswerable),
        current=errors_at(current_threshold, answerable, unanswerable),
        margin=margin,
        leave_one_out_errors=loo_errors,
        answerable=len(answerable),
        unanswerable=len(unanswerable),
    )


def _check_scores(answerable: Sequence[float], unanswerable: Sequence[float]) -> None:
    """Reject samples for which no threshold can be chosen."""
    if not answerable and not unanswerable:
        raise MetricInputError("calibration needs at least one question's best answer score")
    if not all(math.isfinite(score) for score in [*answerable, *unanswerable]):
        raise MetricInputError("a best answer score is NaN or infinite; fix the engine's scores")
