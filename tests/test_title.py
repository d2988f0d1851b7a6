"""Title derivation: headline lines, furniture skipped, short titles cut from a first paragraph."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.furniture import detect_furniture
from ingest.records import Region
from ingest.title import TITLE_LENGTH, derive_title
from tests.support.paths import REPO

SEEDS = REPO / "data" / "corpus"
PAGES = REPO / "tests" / "fixtures" / "pages"


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def title_of(text: str) -> str:
    return derive_title(text, detect_furniture(text))


def seed(prefix: str) -> str:
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    return read(path)


def first_paragraph(text: str) -> str:
    return " ".join(text.strip().splitlines()[0].split())


@pytest.mark.parametrize(("prefix", "expected"), [
    ("000", "New Venezuela talks: Maduro won, so what’s there to talk about?"),
    ("001", "Venezuelan officials, opposition leaders negotiate in Mexico"),
    ("004", "Sooner or later, Biden will need to take Venezuela talks off the back burner"),
])
def test_seed_headlines(prefix: str, expected: str) -> None:
    assert title_of(seed(prefix)) == expected


@pytest.mark.parametrize("prefix", ["002", "003"])
def test_seeds_without_a_headline_get_a_short_phrase_from_the_first_paragraph(prefix: str) -> None:
    text = seed(prefix)
    title = title_of(text)
    assert title.endswith("…")
    assert 30 <= len(title) <= TITLE_LENGTH
    assert title.removesuffix("…") in first_paragraph(text)


def test_seed_002_title_is_cut_before_a_clause() -> None:
    assert title_of(seed("002")) == ("Brussel Morning reporting places renewed international focus "
                                     "on Maduro negotiations…")


def test_seed_003_title_drops_the_leading_subordinate_clause() -> None:
    assert title_of(seed("003")).startswith("U.S. officials quietly met with Venezuelan leader")


@pytest.mark.parametrize(("name", "expected"), [
    ("port_strike.txt", "Dockworkers walk out at Aldmouth as pay talks collapse"),
    ("clinic_funding_crlf.txt", "Rural clinics wait for promised funds as winter approaches"),
])
def test_page_headlines_after_furniture(name: str, expected: str) -> None:
    assert title_of(read(PAGES / name)) == expected


def test_page_without_headline() -> None:
    title = title_of(read(PAGES / "water_rationing.txt"))
    assert title == "Water rationing in the capital will continue through the dry season…"


def test_byline_date_and_kicker_are_skipped() -> None:
    text = "World\nBy Jane Roe\nMarch 3, 2024\nFloods close schools across the delta\n\nBody text."
    assert derive_title(text, ()) == "Floods close schools across the delta"


def test_abbreviations_do_not_end_the_first_sentence() -> None:
    text = "Dr. Smith met U.S. officials on Monday. Then she left."
    assert derive_title(text, ()) == "Dr. Smith met U.S. officials on Monday"


def test_excluded_lines_are_never_the_title() -> None:
    text = "Share this article\nHarbour reopens after repairs\n"
    regions = (Region(start=0, end=19, reason="furniture:share-bar"),)
    assert derive_title(text, regions) == "Harbour reopens after repairs"


def test_everything_excluded_falls_back_to_the_first_words() -> None:
    text = "Follow us\nSubscribe\n"
    regions = (Region(start=0, end=len(text), reason="furniture:teaser-tail"),)
    assert derive_title(text, regions) == "Follow us Subscribe"


def test_long_unbroken_text_is_cut_with_an_ellipsis() -> None:
    title = derive_title("x" * 500, ())
    assert len(title) == TITLE_LENGTH and title.endswith("…")


def test_empty_text_has_an_empty_title() -> None:
    assert derive_title("", ()) == ""
    assert derive_title(" \r\n\t", ()) == ""


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_title_is_one_line_and_never_empty_for_visible_text(text: str) -> None:
    title = derive_title(text, detect_furniture(text))
    assert "\n" not in title and "\r" not in title
    assert len(title) <= 160
    if text.split():
        assert title


def test_punctuation_only_text_keeps_its_characters() -> None:
    assert derive_title(".", ()) == "."
