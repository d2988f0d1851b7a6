"""Sentence splitting keeps exact offsets and respects abbreviations and line breaks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from text.sentences import split_sentences


def texts(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def test_splits_on_terminal_punctuation() -> None:
    assert texts("One thing. Two things! Three? Four.") == ["One thing.", "Two things!", "Three?", "Four."]


def test_keeps_abbreviations_and_initialisms_together() -> None:
    text = "The U.S. Central Command said so. Mr. Smith met Dr. Jones on Jan. 5 in St. Louis."
    assert texts(text) == ["The U.S. Central Command said so.", "Mr. Smith met Dr. Jones on Jan. 5 in St. Louis."]


def test_never_crosses_a_line_break_and_strips_space() -> None:
    text = "Headline without period\r\n  Body starts here. And ends.\n\nCaption"
    assert texts(text) == ["Headline without period", "Body starts here.", "And ends.", "Caption"]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert texts('He said "no." Then he left.') == ['He said "no."', "Then he left."]


def test_decimal_numbers_do_not_split() -> None:
    assert texts("Growth was 3.5 percent. It fell.") == ["Growth was 3.5 percent.", "It fell."]


@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\r\"'U.S")), max_size=200))
def test_spans_are_ordered_non_empty_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for start, end in split_sentences(text):
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        assert "\n" not in text[start:end] and "\r" not in text[start:end]
        previous_end = end
