"""The checker benchmark's corruption rules (pure) and one small run over a hashing index."""

from __future__ import annotations

import random
from dataclasses import replace

from bench.perf.grounding import change_number, flip_negation, move_date, reword, swap_name
from grounding.facts import extract_facts


def test_number_changes_and_dates_stay() -> None:
    assert change_number("In 2021, 45 delegates and 3,500 guests came.") == \
        "In 2021, 53 delegates and 3,500 guests came."
    assert change_number("Two sides met.") == "Three sides met."
    assert change_number("She won 7-5 7-6.") == "She won 8-5 7-6."
    assert change_number("Nothing to count.") is None


def test_dates_move_by_year_then_month() -> None:
    assert move_date("Talks began in August 2021.") == "Talks began in August 2022."
    assert move_date("Talks began on 13 August.") == "Talks began on 13 September."
    assert move_date("They may go.") is None


def test_names_swap_for_a_corpus_name_the_span_lacks() -> None:
    swapped = swap_name("Maduro met Biden.", ["Maduro", "Colombia"], random.Random(0))
    assert swapped is not None and "Colombia" in swapped
    assert extract_facts(swapped).names != extract_facts("Maduro met Biden.").names


def test_negation_is_added_or_removed() -> None:
    assert flip_negation("The opposition will take part.") == "The opposition will not take part."
    assert flip_negation("The opposition will not take part.") == "The opposition will take part."


def test_rewording_keeps_every_fact() -> None:
    text = "Guaidó says 12 people left in 2021 because Maduro wants more than that."
    reworded = reword(text)
    assert reworded is not None and reworded != text
    # Every fact is kept; the words around them (``terms``) are what a rewording changes.
    assert replace(extract_facts(reworded), terms=()) == replace(extract_facts(text), terms=())
