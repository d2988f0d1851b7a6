"""Abstention threshold calibration on hand-made scores, every number derived by hand."""

from __future__ import annotations

import math

import pytest

from eval.calibration import calibrate, candidate_thresholds, choose_threshold, errors_at
from eval.errors import MetricInputError

# Answerable questions score 0.5 .. 0.8; one unanswerable question (0.55) scores above the
# weakest answerable one (0.5), so no threshold separates the two groups perfectly.
ANSWERABLE = [0.5, 0.6, 0.7, 0.8]
UNANSWERABLE = [0.2, 0.3, 0.55]


def test_candidates_are_midpoints_plus_half_a_gap_outside() -> None:
    # Distinct scores 0.2 0.3 0.5 0.55: below = 0.2 - 0.1/2 = 0.15, midpoints 0.25 0.4 0.525,
    # above = 0.55 + 0.05/2 = 0.575.
    assert candidate_thresholds([0.3, 0.2, 0.55, 0.5, 0.3]) == pytest.approx(
        [0.15, 0.25, 0.4, 0.525, 0.575])


def test_a_score_equal_to_the_threshold_is_answered() -> None:
    errors = errors_at(0.5, answerable=[0.5, 0.4], unanswerable=[0.5, 0.1])
    assert errors.false_abstentions == 1  # 0.4 < 0.5
    assert errors.answered_unanswerable == 1  # 0.5 >= 0.5
    assert errors.false_abstention_rate == 0.5
    assert errors.answered_unanswerable_rate == 0.5
    assert errors.errors == 2


def test_picks_the_lowest_threshold_with_fewest_errors() -> None:
    # Errors (false abstentions + answered unanswerable) at each candidate:
    #   0.15: 0 + 3   0.25: 0 + 2   0.4: 0 + 1   0.525: 1 + 1   0.575: 1 + 0   0.65: 2 + 0 ...
    # 0.4 and 0.575 tie at one error; the lower one wins.
    assert choose_threshold(ANSWERABLE, UNANSWERABLE) == pytest.approx(0.4)


def test_tie_between_classes_at_one_score_goes_to_the_lower_threshold() -> None:
    # One score 0.6 in each class: threshold 0.6 answers both (1 error), anything above abstains
    # on both (1 error); the lower threshold wins.
    assert choose_threshold([0.6], [0.6]) == 0.6


def test_perfectly_separated_scores_get_the_midpoint() -> None:
    assert choose_threshold([0.7, 0.9], [0.1, 0.3]) == pytest.approx(0.5)


def test_calibration_reports_both_thresholds_margin_and_leave_one_out() -> None:
    calibration = calibrate(ANSWERABLE, UNANSWERABLE, current_threshold=0.6)
    recommended = calibration.recommended
    assert recommended.threshold == pytest.approx(0.4)
    assert (recommended.false_abstentions, recommended.answered_unanswerable) == (0, 1)
    assert recommended.answered_unanswerable_rate == pytest.approx(1 / 3)
    # Current 0.6: 0.5 is a false abstention; no unanswerable score reaches 0.6.
    current = calibration.current
    assert (current.false_abstentions, current.answered_unanswerable) == (1, 0)
    assert current.false_abstention_rate == 0.25
    # Nearest score to 0.4 is 0.3 or 0.5, both 0.1 away.
    assert calibration.margin == pytest.approx(0.1)
    assert calibration.in_sample_error_rate == pytest.approx(1 / 7)
    # Leave-one-out, threshold chosen on the other six scores:
    #   without 0.5 (answerable): 0.575 separates the rest perfectly; 0.5 < 0.575 -> error
    #   without 0.6, 0.7 or 0.8: 0.4 and 0.625/0.575 tie at one error -> 0.4; answered -> right
    #   without 0.2: 0.4 (1 error) ties 0.575 -> 0.4; 0.2 abstains -> right
    #   without 0.3: 0.35 (one error) is lowest; 0.3 abstains -> right
    #   without 0.55: 0.4 separates the rest perfectly; 0.55 >= 0.4 is answered -> error
    assert calibration.leave_one_out_errors == 2
    assert calibration.leave_one_out_error_rate == pytest.approx(2 / 7)


def test_only_answerable_scores_answer_everything() -> None:
    calibration = calibrate([0.3, 0.5], [], current_threshold=0.4)
    # Candidates 0.2, 0.4, 0.6: 0.2 has no error.
    assert calibration.recommended.threshold == pytest.approx(0.2)
    assert calibration.recommended.errors == 0
    assert calibration.current.false_abstentions == 1
    assert calibration.recommended.answered_unanswerable_rate == 0.0


@pytest.mark.parametrize("scores", [([], []), ([math.nan], [0.1]), ([0.2], [math.inf])])
def test_rejects_unusable_scores(scores: tuple[list[float], list[float]]) -> None:
    answerable, unanswerable = scores
    with pytest.raises(MetricInputError):
        calibrate(answerable, unanswerable, current_threshold=0.35)
