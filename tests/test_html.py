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


NEWS = FIXTURES / "html_news" / "river_bridge.html"


def test_a_news_page_that_marks_no_main_content_still_gives_its_article() -> None:
    page = extract_html(NEWS.read_text(encoding="utf-8"))
    paragraphs = page.text.split("\n\n")
    assert ("A footbridge linking the two halves of Kelderby opened to the public on Saturday morning, two years "
            "later than planned and almost £1.2 million over budget, after engineers found that the eastern bank "
            "could not carry the original steel design.") in paragraphs
    assert "timber deck is expected to last at least sixty years" in page.text
    for boilerplate in ("Obituaries", "Most read", "Mill fire", "Advertisement", "Market Street",
                        "All rights reserved", "adSlots"):
        assert boilerplate not in page.text
    assert page.title == "New footbridge opens over the Arden after two years of delays"


def test_inline_markup_stays_in_its_sentence_with_one_space() -> None:
    raw = ("<html><body><main><p>Call <code>run()</code>\n   to <a href='x'>start</a><!-- note -->,"
           " then <em>wait</em>.</p><ul><li>first</li><li>second <b>item</b></li></ul>"
           "<pre>a = 1\n\n    b = 2\n</pre><p>After.</p></main></body></html>")
    assert extract_html(raw).text.split("\n\n") == [
        "Call run() to start, then wait.", "first", "second item", "a = 1\n    b = 2", "After."]


def test_the_main_region_wins_over_the_page_around_it() -> None:
    raw = ("<html><head><title>Tides | Harbour Guide</title></head><body><div class='menu'>Home Tides Boats</div>"
           "<div role='main'><h1>Tides<a class='headerlink' href='#tides'>¶</a></h1>"
           "<p>High water comes twice a day.</p><aside>Related: Boats</aside></div>"
           "<div class='sidebar'>Sponsored</div></body></html>")
    page = extract_html(raw)
    assert page.text == "Tides\n\nHigh water comes twice a day."
    assert page.title == "Tides"


def test_an_empty_main_region_falls_back_to_the_body() -> None:
    raw = "<html><body><main></main><div><p>The quay was repaired in spring.</p></div></body></html>"
    assert "The quay was repaired in spring." in extract_html(raw).text


@pytest.mark.parametrize(("head", "body", "title"), [
    # The heading agrees with <title>: the site name goes.
    ("<title>Glossary — Jinja Documentation (3.1.x)</title>", "<main><h1>Glossary</h1><p>Text.</p></main>",
     "Glossary"),
    # The page names its site: the suffix goes even without a heading.
    ("<title>Tides | Harbour Guide</title><meta property='og:site_name' content='Harbour Guide'>",
     "<p>Text.</p>", "Tides"),
    # A link to the home page names the site.
    ("<title>Boats — Harbour Guide</title>", "<a href='../index.html'>Harbour Guide</a><p>Text.</p>", "Boats"),
    # No evidence that the part after the dash is a site name: the title stays whole.
    ("<title>Jinja — a template engine</title>", "<p>Text.</p>", "Jinja — a template engine"),
    # A heading outside any main region that disagrees with <title> does not replace it.
    ("<title>Harbour news today</title>", "<h1>Harbour Guide</h1><p>Text.</p>", "Harbour news today"),
    # No <title>: the heading, without its permalink glyph.
    ("", "<main><h1>Boats ¶</h1><p>Text.</p></main>", "Boats"),
])
def test_title_from_heading_and_title_element(head: str, body: str, title: str) -> None:
    assert extract_html(f"<html><head>{head}</head><body>{body}</body></html>").title == title
