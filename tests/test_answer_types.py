"""Answer types: what a question asks for, and whether a sentence can give it."""

from __future__ import annotations

import pytest

from ranking.answer_types import has_answer_type, question_answer_type


@pytest.mark.parametrize(("question", "expected"), [
    ("How many people have left the country?", "quantity"),
    ("What share of residents live in poverty?", "quantity"),
    ("how long had the talks been paused?", "quantity"),
    ("When did the talks collapse?", "date"),
    ("What year was the law passed?", "date"),
    ("Who mediated the talks?", "name"),
    ("Whose plan was adopted?", "name"),
    ("What did the US offer?", None),
    ("Why are the neighbours paying attention?", None),
])
def test_the_question_says_which_answer_type_it_wants(question: str, expected: str | None) -> None:
    assert question_answer_type(question) == expected


def test_quantities_include_digits_number_words_and_percentages() -> None:
    assert has_answer_type("The five-person council meets weekly.", "quantity", "")
    assert has_answer_type("Spam rose to 90% of all mail.", "quantity", "")
    assert not has_answer_type("The council meets weekly.", "quantity", "")


def test_dates_include_years_months_and_spans() -> None:
    assert has_answer_type("Talks collapsed in 2019.", "date", "")
    assert has_answer_type("They have been suspended since October.", "date", "")
    assert not has_answer_type("They have been suspended indefinitely.", "date", "")


def test_a_name_must_be_new_and_not_the_first_word() -> None:
    question = "Who mediated the talks with Maduro?"
    assert has_answer_type("The talks were mediated by Norway.", "name", question)
    assert not has_answer_type("Supporters argue mediation with Maduro helped.", "name", question)
    assert not has_answer_type("Mediation reduced polarization.", "name", question)
