"""Generated contradictions (pure): each edit changes one fact, or declines; only train documents feed them."""

from __future__ import annotations

import random

from training.documents import Split
from training.generate_claims import balanced, generated_records
from training.perturb import (
    change_date,
    change_number,
    document_names,
    flip_negation,
    perturb,
    replace_antonym,
    replace_ordinal,
    replace_quantifier,
    swap_entity,
    swap_numbers,
    swap_roles,
)
from training.records import Span, TrainingClaim


def rng() -> random.Random:
    return random.Random(3)


def test_numbers_change_or_swap_and_years_are_dates_not_numbers() -> None:
    text = "Shares rose 15% to 1,200 pence in 2004."
    changed = change_number(text, [], rng())
    assert changed is not None and changed != text and "2004" in changed
    assert swap_numbers(text, [], rng()) == "Shares rose 1,200% to 15 pence in 2004."
    assert swap_numbers("It sold 3 and 3 more.", [], rng()) is None
    assert change_number("It happened in 2004.", [], rng()) is None
    dated = change_date(text, [], rng())
    assert dated is not None and "2004" not in dated and "15%" in dated
    assert change_date("He left on Monday.", [], rng()) not in (None, "He left on Monday.")


def test_names_are_swapped_with_the_documents_others_but_not_across_and() -> None:
    text = "The deal between Fiat and GM was signed by Sergio Marchionne in Turin."
    others = document_names("Talks took place in Detroit. Later, officials from Chrysler met Rick Wagoner.")
    assert "Chrysler" in others and "Later" not in others
    swapped = swap_entity(text, others, rng())
    assert swapped is not None and swapped != text and any(name in swapped for name in others)
    assert swap_roles("India and China grew.", [], rng()) is None
    assert swap_roles("On Sunday Paris beat Lyon at home.", [], rng()) == "On Sunday Lyon beat Paris at home."
    assert swap_roles("Later, India's finance minister met Chidambaram.", [], rng()) == \
        "Later, Chidambaram's finance minister met India."


def test_negation_is_added_after_an_auxiliary_or_removed() -> None:
    assert flip_negation("The bank was sold.", [], rng()) == "The bank was not sold."
    assert flip_negation("The bank wasn't sold.", [], rng()) == "The bank was sold."
    assert flip_negation("The bank did not sell it.", [], rng()) == "The bank did sell it."
    assert flip_negation("There was no deal.", [], rng()) is None
    assert flip_negation("Shares rose.", [], rng()) is None


def test_word_edits_keep_capitals_and_whole_words() -> None:
    assert replace_antonym("Shares rose sharply.", [], rng()) == "Shares fell sharply."
    assert replace_antonym("Rose said so.", [], rng()) == "Fell said so."
    assert replace_antonym("The prose was fine.", [], rng()) is None
    assert replace_ordinal("It was the first rise.", [], rng()) in ("It was the second rise.", "It was the last rise.")
    assert replace_quantifier("All members voted.", [], rng()) == "Some members voted."
    kinds = [kind for kind, _ in perturb("Profits rose 15% in March, the first rise.", [], rng())]
    assert {"number_change", "date", "antonym", "ordinal"} <= set(kinds)


def _claim(claim_id: str, split: Split, label: str = "supported") -> TrainingClaim:
    evidence = Span(doc_id="d1", start=0, end=24, text="Profits rose 15% in May.")
    return TrainingClaim(claim_id=claim_id, corpus="news", claim="Profits went up by 15% in May.", label=label,
                         claim_type="paraphrase", evidence=evidence, origin="written", split=split)


def test_generated_records_come_from_the_train_split_only_and_say_their_origin() -> None:
    texts = {("news", "d1"): "Profits rose 15% in May. Sales fell."}
    records = list(generated_records([_claim("a", "train"), _claim("b", "test"), _claim("c", "tune")], texts))
    assert records and all(str(record["source"]).startswith("a") for record in records)
    assert all(record["origin"] == "generated" and record["label"] == "contradicted" for record in records)
    assert {record["source"] for record in records} == {"a", "a:evidence"}
    assert records == list(generated_records([_claim("a", "train"), _claim("b", "test")], texts))
    kept = balanced(records, per_type=1)
    assert len(kept) == len({record["type"] for record in records})
