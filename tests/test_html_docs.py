"""Documentation pages (a nested Sphinx-like site): whole sentences, no ¶, no navigation, clean titles."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.html import HtmlExtraction, extract_html
from ingest.readers import read_corpus
from text.sentences import split_sentences

SITE = Path(__file__).resolve().parent / "fixtures" / "sphinx_site"
PAGES = ("index", "guide/install", "guide/glossary", "api/reference")
# Text that only the related bar, the sidebar, the search box and the footer carry.
NAVIGATION = ("Navigation", "next |", "previous |", "Table of Contents", "Previous topic", "Next topic",
              "This Page", "Show Source", "Quick search", "Go", "Copyright", "Created using",
              "Lantern Documentation", "[source]", "»")


def extract(doc_id: str) -> HtmlExtraction:
    return extract_html((SITE / f"{doc_id}.html").read_text(encoding="utf-8"))


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


@pytest.fixture(scope="module")
def install() -> HtmlExtraction:
    return extract("guide/install")


@pytest.mark.parametrize("doc_id", PAGES)
def test_no_permalink_glyph_in_text_or_title(doc_id: str) -> None:
    page = extract(doc_id)
    assert "¶" not in page.text
    assert page.title is not None and "¶" not in page.title


@pytest.mark.parametrize("doc_id", PAGES)
def test_navigation_sidebar_search_and_footer_are_left_out(doc_id: str) -> None:
    paragraphs = extract(doc_id).text.split("\n\n")
    for furniture in NAVIGATION:
        assert not any(furniture in paragraph for paragraph in paragraphs), furniture


def test_a_sentence_with_inline_code_and_links_is_one_sentence(install: HtmlExtraction) -> None:
    found = sentences(install.text)
    assert ("Running python -m venv .venv creates an isolated environment in the .venv folder, so the packages "
            "of one project never clash with those of another.") in found
    assert ("The serve() function starts a development server that reloads the application whenever a "
            "source file changes.") in found
    assert not any(sentence.endswith(("creates an", "The", "the")) for sentence in found)


def test_inline_code_keeps_its_neighbours_spaced(install: HtmlExtraction) -> None:
    assert "lives in .venv\\Scripts instead of .venv/bin." in install.text
    assert "  " not in install.text.replace("\n  ", "\n")


def test_list_items_are_separate_paragraphs(install: HtmlExtraction) -> None:
    paragraphs = install.text.split("\n\n")
    items = ["Wick parses the lamp configuration files.", "Glass renders the status page.",
             "Flint signs the session cookie."]
    start = paragraphs.index(items[0])
    assert paragraphs[start : start + 3] == items


def test_a_code_block_is_its_own_paragraph_with_its_lines(install: HtmlExtraction) -> None:
    paragraphs = install.text.split("\n\n")
    assert "$ python3 -m venv .venv\n$ . .venv/bin/activate\n$ pip install Lantern" in paragraphs


def test_headings_and_table_rows_are_paragraphs(install: HtmlExtraction) -> None:
    paragraphs = install.text.split("\n\n")
    assert paragraphs[0] == "Installation"
    assert "Virtual environments" in paragraphs
    assert "Platform | Command" in paragraphs
    assert "Linux | .venv/bin/activate" in paragraphs


def test_a_definition_list_reads_term_then_definition() -> None:
    paragraphs = extract("guide/glossary").text.split("\n\n")
    term = paragraphs.index("beacon")
    assert paragraphs[term + 1] == ("A background task that reports the health of a lamp every thirty seconds "
                                    "to the keeper.")


def test_an_api_signature_and_its_parameters_read_as_text() -> None:
    paragraphs = extract("api/reference").text.split("\n\n")
    assert "lantern.serve(host='127.0.0.1', port=8040)" in paragraphs
    assert "port (int) – the TCP port, 8040 unless the LANTERN_PORT variable says otherwise." in paragraphs


@pytest.mark.parametrize(("doc_id", "title"), [
    ("index", "Welcome to Lantern"), ("guide/install", "Installation"), ("guide/glossary", "Glossary"),
    ("api/reference", "API Reference"),
])
def test_titles_are_the_heading_without_the_site_name(doc_id: str, title: str) -> None:
    assert extract(doc_id).title == title


def test_a_generated_index_page_has_no_text() -> None:
    assert extract("genindex").text == ""


def test_the_site_reads_with_nested_doc_ids_and_clean_titles() -> None:
    corpus = read_corpus([SITE])
    assert [document.doc_id for document in corpus.documents] == sorted(PAGES)
    assert {document.doc_id: document.title for document in corpus.documents} == {
        "index": "Welcome to Lantern", "guide/install": "Installation", "guide/glossary": "Glossary",
        "api/reference": "API Reference"}
    assert [(rejection.path, rejection.code) for rejection in corpus.rejections] == [("genindex.html", "empty")]


def test_extraction_is_deterministic(install: HtmlExtraction) -> None:
    assert extract("guide/install") == install


def test_the_extraction_benchmark_counts_cut_sentences_glyphs_and_navigation() -> None:
    from bench.perf.html_extraction import html_pages, measure

    pages = html_pages([SITE])
    assert [page.relative_to(SITE).as_posix() for page in pages] == [
        "api/reference.html", "genindex.html", "guide/glossary.html", "guide/install.html", "index.html"]
    stats = measure(extract_html(page.read_text(encoding="utf-8")) for page in pages)
    assert (stats.pages, stats.empty_pages, stats.pilcrows_in_text, stats.pilcrows_in_titles) == (5, 1, 0, 0)
    assert stats.pages_with_navigation_text == 0
    assert stats.function_word_ending_share == 0.0
    cut = measure([HtmlExtraction(text="Running it creates an\n\nisolated environment.", title="T¶")])
    assert (cut.function_word_ending_share, cut.unterminated_prose_share, cut.pilcrows_in_titles) == (0.5, 1.0, 1)
