"""HTML extraction: the article's text and title, not the page's navigation; never a crash."""

from __future__ import annotations

import logging

import pytest

from ingest.html import HtmlExtraction, extract_html
from tests.support.paths import FIXTURES

PAGE = FIXTURES / "pages" / "ferry_service.html"


@pytest.fixture(scope="module")
def ferry() -> HtmlExtraction:
    return extract_html(PAGE.read_text(encoding="utf-8"))


def test_article_text_is_extracted(ferry: HtmlExtraction) -> None:
    assert "reopened on Friday, six weeks after a winter storm tore away part of" in ferry.text
    assert '"We have been counting the days," said the harbour master, Ewan Grant.' in ferry.text
    assert "raised the landing deck by half a metre" in ferry.text


def test_navigation_header_aside_footer_and_scripts_are_left_out(ferry: HtmlExtraction) -> None:
    for boilerplate in ("Weather centre", "Subscribe today", "Lighthouse keeper retires",
                        "Contact the newsroom", "Coastal Herald Media Group", "tracking-snippet",
                        "font-family", "<p>"):
        assert boilerplate not in ferry.text


def test_paragraphs_are_separated_by_one_blank_line(ferry: HtmlExtraction) -> None:
    paragraphs = ferry.text.split("\n\n")
    assert len(paragraphs) >= 3
    assert all(paragraph.strip() == paragraph and paragraph for paragraph in paragraphs)
    assert "\n\n\n" not in ferry.text


def test_title_comes_from_the_page_metadata(ferry: HtmlExtraction) -> None:
    assert ferry.title == "Ferry service returns to Inchmore after storm repairs"


def test_extraction_is_deterministic(ferry: HtmlExtraction) -> None:
    assert extract_html(PAGE.read_text(encoding="utf-8")) == ferry


def test_fallback_reads_the_body_without_scripts_or_navigation() -> None:
    # An XML declaration in a str makes the main extractor give up on the page.
    raw = ("<?xml version='1.0' encoding='utf-8'?><html><head><title>Quay notes</title></head>"
           "<body><nav>Home | World</nav><p>Quay <!-- hidden --> repaired.</p>"
           "<script>var tracking = 1;</script><div>Boats return.</div></body></html>")
    result = extract_html(raw)
    assert result.text == "Quay repaired.\n\nBoats return."
    assert result.title == "Quay notes"


@pytest.mark.parametrize("raw", [
    "", "   ", "<<<>>>", "\x00\x01", "plain words, no tags", "<html><body><p>unclosed",
    "<html><head><title></title></head><body></body></html>", "<p>\ud800</p>",
    "<?xml version='1.0' encoding='latin-1'?><r/>",
])
def test_garbage_never_raises(raw: str) -> None:
    result = extract_html(raw)
    assert isinstance(result.text, str)
    assert result.title is None or result.title.strip()


def test_logging_stays_quiet_on_unusable_pages(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        extract_html("")
        extract_html("<<<>>>")
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
