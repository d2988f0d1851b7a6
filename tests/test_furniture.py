"""Page-furniture detection on the seed corpus, hand-written pages and generated text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.furniture import detect_furniture, split_lines
from ingest.records import Region
from tests.support.paths import REPO

SEEDS = REPO / "data" / "corpus"
PAGES = REPO / "tests" / "fixtures" / "pages"
RULES = {"teaser-tail", "teaser-box", "credit", "caption", "share-bar", "section-label",
         "author-bio", "file-name", "language-link", "nav-link", "inline-teaser", "metadata",
         "copyright", "reporting-credit"}


def read(path: Path) -> str:
    """The file exactly as the reader decodes it (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def seed(prefix: str) -> str:
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    return read(path)


def all_texts() -> list[tuple[str, str]]:
    paths = sorted(SEEDS.glob("*.txt")) + sorted(PAGES.glob("*.txt"))
    return [(path.name, read(path)) for path in paths]


def overlapping(regions: tuple[Region, ...], start: int, end: int) -> list[Region]:
    return [region for region in regions if region.start < end and start < region.end]


def assert_kept(text: str, regions: tuple[Region, ...], phrase: str) -> None:
    start = text.index(phrase)
    hits = overlapping(regions, start, start + len(phrase))
    assert not hits, f"{phrase!r} excluded by {hits}"


def assert_excluded(text: str, regions: tuple[Region, ...], phrase: str,
                    reason: str | None = None) -> None:
    start = text.index(phrase)
    covering = [r for r in regions if r.start <= start and start + len(phrase) <= r.end]
    assert covering, f"{phrase!r} is not excluded"
    if reason is not None:
        assert covering[0].reason == f"furniture:{reason}", covering


def assert_valid(text: str, regions: tuple[Region, ...]) -> None:
    """Bounds, order, no overlap, known rules, whole lines, same-rule neighbours merged."""
    previous: Region | None = None
    for region in regions:
        assert 0 <= region.start < region.end <= len(text)
        assert region.reason.startswith("furniture:")
        assert region.reason.removeprefix("furniture:") in RULES
        assert region.start == 0 or text[region.start - 1] in "\r\n"
        assert region.end == len(text) or text[region.end - 1] in "\r\n"
        assert not (text[region.end - 1] == "\r" and text[region.end:region.end + 1] == "\n")
        if previous is not None:
            assert previous.end <= region.start
            if previous.reason == region.reason:
                assert text[previous.end:region.start].strip(), "same-rule neighbours not merged"
        previous = region


def excluded_pieces(text: str) -> list[tuple[str, str]]:
    """(reason, excluded text with line breaks normalised) for comparing line-ending variants."""
    return [(region.reason, text[region.start:region.end].replace("\r\n", "\n"))
            for region in detect_furniture(text)]


# --- the seed corpus -----------------------------------------------------------------------


def test_seed_000_teaser_tail_caption_and_credit() -> None:
    text = seed("000")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    tail_start = text.index("More from GZERO Media")
    assert regions[-1] == Region(start=tail_start, end=len(text), reason="furniture:teaser-tail")
    assert_excluded(text, regions, "REUTERS/Manaure Quintero", "credit")
    assert_excluded(text, regions, "Venezuelan President Nicolas Maduro holds a press conference",
                    "caption")
    assert_excluded(text, regions, "France has a special message in AI")
    assert_excluded(text, regions, "Hamas released three Israeli hostages")
    assert_kept(text, regions, "The US, along with the EU and Canada, has signaled that some "
                               "incremental sanctions relief")
    assert_kept(text, regions, "You'd think that when a country suffers")
    assert_kept(text, regions, "The Mexico City talks would be a good place to start.")
    # Everything between the credit and the tail is article text.
    credit_end = text.index("REUTERS/Manaure Quintero") + len("REUTERS/Manaure Quintero")
    assert not overlapping(regions, credit_end + 1, tail_start)


def test_seed_001_captions_and_author_bio() -> None:
    text = seed("001")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_kept(text, regions, "Norway mediated the discussions between the two countries")
    assert_kept(text, regions, "Just this week, Peru offered to host the next round of talks")
    assert_kept(text, regions, "Guevara now suggesting he may join the talks in Mexico.")
    assert_excluded(text, regions, "(AP Photo/Ariana Cubillos)", "caption")
    assert_excluded(text, regions, "(AP Foto/Ariana Cubillos y Matias Delacroix, Archivo)",
                    "caption")
    assert_excluded(text, regions, "About the Authors:", "author-bio")
    assert_excluded(text, regions, "Veronica Crespo writes for", "author-bio")


def test_seed_002_is_all_article() -> None:
    text = seed("002")
    assert detect_furniture(text) == ()


def test_seed_003_language_link_captions_and_related_publications() -> None:
    text = seed("003")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, "Leer en español", "language-link")
    credit = "(Adriana Loureiro Fernandez/The New York Times)"
    first = text.index(credit)
    second = text.index(credit, first + 1)
    for start in (first, second):
        assert overlapping(regions, start, start + len(credit))[0].reason == "furniture:caption"
    tail_start = text.index("Related Publications")
    assert regions[-1] == Region(start=tail_start, end=len(text), reason="furniture:teaser-tail")
    for phrase in ("Asfandyar Mir on Why ISIS-K Attacked Moscow", "Type: Podcast",
                   "View All Publications"):
        assert_excluded(text, regions, phrase, "teaser-tail")
    assert_kept(text, regions, "77 percent of Venezuela’s 28 million residents live in extreme "
                               "poverty")
    assert_kept(text, regions, "As the United States gauges the global fallout")
    assert_kept(text, regions, "The best way to do this would be to demonstrate a commitment")


def test_seed_004_share_bar_file_name_label_and_teaser_cards() -> None:
    text = seed("004")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, "Follow us on social", "share-bar")
    assert_excluded(text, regions, "Screen-shot-2021-04-02-at-2.09.56-pm", "file-name")
    assert_excluded(text, regions, "Analysis | Latin America", "section-label")
    assert_kept(text, regions, "Sooner or later, Biden will need to take Venezuela talks off")
    assert_kept(text, regions, "The US should move quickly, particularly if Maduro shows signs")
    assert_kept(text, regions, "such as by ending the ban on diesel swaps that is impacting "
                               "fragile supply chains")
    assert_kept(text, regions, "doing so will only extend, not resolve, Venezuela’s crisis.")
    # The tail starts at the picture credit that opens the first teaser card, not at its cue.
    tail_start = text.index("Photos: StringerAL")
    assert regions[-1] == Region(start=tail_start, end=len(text), reason="furniture:teaser-tail")
    for phrase in ("Top image credit", "Wear the war machine with Lockheed Martin merch",
                   "I wrote a book about Lockheed Martin", "keep readingShow less", "LATEST",
                   "QIOSK", "Newsletter", "Subscribe now to our weekly round-up"):
        assert_excluded(text, regions, phrase, "teaser-tail")


# --- hand-written pages with other furniture ---------------------------------------------------


def test_page_with_read_more_mid_article_keeps_the_rest_of_the_article() -> None:
    text = read(PAGES / "port_strike.txt")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, "Skip to main content", "nav-link")
    assert_excluded(text, regions, "Home › Business › Transport", "section-label")
    assert_excluded(text, regions, "Share on Facebook | Share on Twitter | Email", "share-bar")
    assert_excluded(text, regions, "Cranes stand idle at the Aldmouth container terminal",
                    "caption")
    assert_excluded(text, regions, "Photograph: Jens Olsen/AFP via Getty Images", "credit")
    assert_excluded(text, regions, "READ MORE", "nav-link")
    assert_excluded(text, regions, "Read more: Shipping rates climb", "inline-teaser")
    assert_excluded(text, regions, "Most Read", "teaser-tail")
    assert_excluded(text, regions, "Celebrity chef opens seaside restaurant", "teaser-tail")
    assert_excluded(text, regions, "© 2024 Northern Courier Ltd.", "teaser-tail")
    for phrase in ("Dockworkers walk out at Aldmouth as pay talks collapse",
                   "By Maria Jensen, Transport Correspondent",
                   "Union leaders rejected that claim.",
                   "Freight forwarders said the walkout",
                   "Talks are expected to resume on Thursday"):
        assert_kept(text, regions, phrase)


def test_crlf_page_with_stray_cue_bio_and_recommendations() -> None:
    text = read(PAGES / "clinic_funding_crlf.txt")
    assert "\r\n" in text and "\n\n" not in text.replace("\r\n", "")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, "Lire en français", "language-link")
    assert_excluded(text, regions, "Opinion", "section-label")
    assert_excluded(text, regions, "IMG_4471.jpg", "file-name")
    assert_excluded(text, regions, "A nurse checks patient records", "caption")
    assert_excluded(text, regions, "About the author", "author-bio")
    assert_excluded(text, regions, "Samira Okafor covers health", "author-bio")
    assert regions[-1].start == text.index("You might also like")
    assert regions[-1].end == len(text)
    for phrase in ("Why the river festival was cancelled", "Hikers rescued from ridge",
                   "Sign up for our morning newsletter"):
        assert_excluded(text, regions, phrase, "teaser-tail")
    # "More on the budget" is a recirculation cue, but the article goes on after it.
    for phrase in ("Rural clinics wait for promised funds", "More on the budget",
                   "The grant was part of the regional health budget",
                   "Every week without the grant",
                   "too late for the Kettleby clinic"):
        assert_kept(text, regions, phrase)


def test_plain_report_without_furniture_is_untouched() -> None:
    text = read(PAGES / "water_rationing.txt")
    assert detect_furniture(text) == ()


def test_in_article_teaser_box_is_excluded_and_article_continues() -> None:
    paragraphs = [
        "The city council voted on Tuesday to expand the tram network to the northern suburbs, "
        "approving a budget of 400 million for new tracks, stops and a depot near the ring road.",
        "Council members said the tram extension would cut commuting times for thousands of "
        "residents who now rely on crowded buses, and that construction would begin next spring.",
        "Opponents of the tram plan argued that the council had underestimated the cost of moving "
        "water pipes and power cables along the route, and asked for an independent review.",
    ]
    continuation = ("The council said the tram route would be finished within four years, and "
                    "that residents along the northern suburbs would be consulted on the stops.")
    text = "\n\n".join([
        "Council approves northern tram extension", *paragraphs, "Related",
        "Bus fares to rise in January", "New cycle lanes open on the ring road",
        "Airport rail link delayed again", continuation,
    ]) + "\n"
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, "Related\n", "teaser-box")
    assert_excluded(text, regions, "Airport rail link delayed again", "teaser-box")
    assert_kept(text, regions, continuation)
    for paragraph in paragraphs:
        assert_kept(text, regions, paragraph)


@pytest.mark.parametrize(("line", "reason"), [
    ("REUTERS/Jane Holm", "credit"),
    ("Kofi Mensah/AFP via Getty Images", "credit"),
    ("Photo by Lena Ortiz", "credit"),
    ("Image credit: city archive", "credit"),
    ("Copyright 2023 Harbour Media. All rights reserved.", "copyright"),
    ("Reporting by Jane Holm in Oslo; Editing by Tom Hay", "reporting-credit"),
    ("Lena Ortiz in Lisbon contributed to this report.", "reporting-credit"),
    ("Follow our coverage of the harbour at https://example.com/harbour", "share-bar"),
    ("Protesters gather outside parliament. (AP Photo/Ian Doyle)", "caption"),
    ("The harbour at dusk. (Photo: Ana Ruiz/Coast Weekly)", "caption"),
    ("DSC_0042.JPG", "file-name"),
    ("Share this article", "share-bar"),
    ("Facebook Twitter WhatsApp Email", "share-bar"),
    ("News › Europe", "section-label"),
    ("Read in English", "language-link"),
    ("Back to top", "nav-link"),
    ("See also: How the tram was funded", "inline-teaser"),
    ("Tags: transport, council", "metadata"),
])
def test_single_line_rules(line: str, reason: str) -> None:
    body = ("The regional council approved a new harbour plan on Monday after a long debate about "
            "fishing quotas, ferry routes and the cost of dredging the harbour channel.")
    text = f"Harbour plan approved\n\n{body}\n\n{line}\n\n{body}\n"
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, line, reason)
    assert_kept(text, regions, body)


@pytest.mark.parametrize("line", [
    "Reuters/Ipsos poll shows support for the plan.",
    "Reuters/Ipsos poll shows support",
    "Copyright reform stalls in parliament",
    "Latest figures",
    "The deal (UN/OCHA) was signed on Friday.",
    "COVID-19",
    "Humanitarian Concerns at the Forefront",
    "He said the images were sent via Reuters.",
    "Reporting by state media has been sparse, and officials declined to comment on the delay.",
])
def test_article_lines_that_resemble_furniture_are_kept(line: str) -> None:
    body = ("The regional council approved a new harbour plan on Monday after a long debate about "
            "fishing quotas, ferry routes and the cost of dredging the harbour channel.")
    text = f"Harbour plan approved\n\n{body}\n\n{body}\n\n{line}\n\n{body}\n"
    assert detect_furniture(text) == ()


# --- invariants ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), all_texts(), ids=[name for name, _ in all_texts()])
def test_regions_are_valid_and_deterministic(name: str, text: str) -> None:
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert detect_furniture(text) == regions


@pytest.mark.parametrize(("name", "text"), all_texts(), ids=[name for name, _ in all_texts()])
def test_line_endings_do_not_change_what_is_excluded(name: str, text: str) -> None:
    unix = text.replace("\r\n", "\n")
    windows = unix.replace("\n", "\r\n")
    old_mac = unix.replace("\n", "\r")
    expected = excluded_pieces(unix)
    assert excluded_pieces(windows) == expected
    assert [(reason, piece.replace("\r", "\n")) for reason, piece in excluded_pieces(old_mac)] \
        == expected


def test_split_lines_offsets_are_exact() -> None:
    text = "a\r\nbb\n\n\u00a0c \rd"
    lines = split_lines(text)
    assert [line.content for line in lines] == ["a", "bb", "", "c", "d"]
    assert [text[line.start:line.stop] for line in lines] == ["a\r\n", "bb\n", "\n", "\u00a0c \r",
                                                               "d"]
    assert lines[-1].stop == len(text)
    assert split_lines("") == ()


_FRAGMENTS = st.sampled_from([
    "Related", "More from Example", "Read more", "keep readingShow less", "REUTERS/Jo Bloggs",
    "About the Authors:", "Follow us on social", "IMG_1.jpg", "Newsletter", "The talks resumed.",
    "Officials said the talks on the harbour budget would resume next week after the vote.",
    "(AP Photo/X Y)", " ", "\n", "\r\n", "\r", "\n\n", "|", "é", "\u00a0",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=30)), max_size=40))
def test_generated_text_gives_valid_regions(pieces: list[str]) -> None:
    text = "".join(pieces)
    regions = detect_furniture(text)
    previous_end = 0
    for region in regions:
        assert previous_end <= region.start < region.end <= len(text)
        previous_end = region.end


def test_read_more_inside_a_list_of_short_paragraphs_cuts_nothing() -> None:
    text = read(PAGES / "talks_explainer.txt")
    regions = detect_furniture(text)
    start = text.index("Read more\n")
    assert regions == (Region(start=start, end=start + len("Read more\n"),
                              reason="furniture:nav-link"),)


def test_wire_copy_caption_and_sign_off() -> None:
    text = read(PAGES / "wire_signoff.txt")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, "(AP Photo/Matias Delacroix)", "caption")
    assert_excluded(text, regions, "contributed to this report.", "reporting-credit")
    assert_excluded(text, regions, "Follow AP's coverage of Latin America", "share-bar")
    assert_kept(text, regions, "The United States has said it will review sanctions relief")
    assert_kept(text, regions, "CARACAS, Venezuela (AP) — Venezuela's main opposition coalition")


def test_topic_tags_after_the_article_are_a_tail() -> None:
    text = read(PAGES / "topic_tags.txt")
    regions = detect_furniture(text)
    assert_valid(text, regions)
    assert_excluded(text, regions, "Photograph: Gaby Oraa/Reuters", "credit")
    assert_excluded(text, regions, "Relatives of detained journalists hold a vigil", "caption")
    assert_excluded(text, regions, "Related: Venezuela’s opposition vows", "inline-teaser")
    assert regions[-1].start == text.index("Explore more on these topics")
    assert regions[-1].reason == "furniture:teaser-tail"
    assert_kept(text, regions, "state television broadcast images of the journalists")


def test_copyright_line_under_the_last_paragraph_is_not_a_caption_trigger() -> None:
    last = "The ferry will run twice a day until the summer timetable starts in May."
    text = ("Ferry returns\n" + "The ferry link reopened on Friday after six weeks of repairs to "
            "the pier, and the first sailing carried post and fuel to the island. " * 3 + "\n"
            + last + "\n© 2024 Coastal Herald\n")
    regions = detect_furniture(text)
    assert_kept(text, regions, last)
    assert_excluded(text, regions, "© 2024 Coastal Herald", "copyright")
