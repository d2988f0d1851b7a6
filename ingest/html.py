"""HTML to plain text: the page's marked main content, else trafilatura's article, else the whole body.

A page that marks its content (``<main>``, ``role="main"``, Sphinx's ``div.body``, one ``<article>``:
every documentation generator and most modern sites) is read directly, without its navigation,
sidebars, tables of contents and ``¶`` permalinks. trafilatura stays for pages that mark nothing
(older news and blog templates), where guessing the article among the boilerplate is what it is
for; only its paragraph structure is used, not its text, which keeps the source's line wrapping
inside paragraphs (a Sphinx paragraph with a code literal came out as one line per source line,
cutting its sentences). The walk over the body is the last resort and never fails.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type stubs
import lxml.html  # type: ignore[import-untyped]
import trafilatura

from ingest.html_regions import drop_non_prose, main_region
from ingest.html_text import Block, blocks_of, inline_text, join_blocks
from ingest.html_title import clean_title, page_title
from ingest.records import CodeBlock, Heading

# trafilatura, htmldate and courlan log an ERROR/WARNING for every page they cannot use; the
# fallback below handles those pages, so the messages are noise in ingestion logs.
_NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan")


@dataclass(frozen=True, slots=True, kw_only=True)
class HtmlExtraction:
    """The plain text of a page (paragraphs separated by one blank line), its title and its headings.

    ``headings`` are the ranges of ``text`` that are section headings, in order, with their levels;
    ``code_blocks`` the ranges that are code blocks.
    """

    text: str
    title: str | None
    headings: tuple[Heading, ...] = ()
    code_blocks: tuple[CodeBlock, ...] = ()


def extract_html(raw: str) -> HtmlExtraction:
    """Extract the main text and title of an HTML page; empty text for a page with no text.

    Deterministic: the same page always gives the same text (trafilatura runs without its
    cross-document deduplication cache, which would make one page depend on the pages before it).
    """
    root = _parse(raw)
    if root is None:
        return HtmlExtraction(text="", title=None)
    region = main_region(root)
    if region is not None:
        heading = _first_heading(region)
        title = page_title(root, heading, heading_in_main=True)
        drop_non_prose(region)
        blocks = blocks_of(region)
        if blocks:
            # Headings alone (Sphinx's generated index pages once their link tables are gone) are no text.
            if not any(block.kind != "heading" for block in blocks):
                return HtmlExtraction(text="", title=title)
            return _joined(blocks, title)
    body = root.find("body")
    heading = _first_heading(body) if body is not None else None
    title = page_title(root, heading, heading_in_main=False)
    blocks = _trafilatura_blocks(raw)
    if not blocks and body is not None:
        for header in body.iter("header"):
            header.drop_tree()
        drop_non_prose(body)
        blocks = blocks_of(body)
    return _joined(blocks, title)


def _joined(blocks: list[Block], title: str | None) -> HtmlExtraction:
    """The blocks' texts separated by blank lines, with the offsets of the headings and code blocks."""
    joined = join_blocks(blocks)
    return HtmlExtraction(text=joined.text, title=title, headings=joined.headings, code_blocks=joined.code_blocks)


def _parse(raw: str) -> lxml.html.HtmlElement | None:
    """The page's element tree without comments, or None when lxml finds no document in it."""
    try:
        root = lxml.html.document_fromstring(raw)
    except (lxml.etree.ParserError, ValueError):
        # ValueError: an XML encoding declaration in a str, or a NUL byte; retry on bytes.
        try:
            root = lxml.html.document_fromstring(raw.encode("utf-8", errors="replace"))
        except (lxml.etree.ParserError, ValueError):
            return None
    # Comments are not page text, but the text after one is (iterwalk would skip that tail).
    lxml.etree.strip_tags(root, lxml.etree.Comment, lxml.etree.ProcessingInstruction)
    return root


def _first_heading(element: lxml.html.HtmlElement) -> str | None:
    """The text of the first h1 under ``element`` that is not in a header, nav or aside."""
    for heading in element.iter("h1"):
        if not any(ancestor.tag in {"header", "nav", "aside"} for ancestor in heading.iterancestors()):
            return clean_title(inline_text(heading))
    return None


def _trafilatura_blocks(raw: str) -> list[Block]:
    """The paragraphs of the article trafilatura finds in ``raw``, or [] when it finds none."""
    _quiet_logs()
    document = trafilatura.bare_extraction(
        raw,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_precision=True,
        deduplicate=False,
    )
    body = getattr(document, "body", None)
    if document is None or isinstance(document, dict) or body is None:
        return []
    return blocks_of(body)


def _quiet_logs() -> None:
    """Raise the noisy third-party loggers to CRITICAL (idempotent)."""
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
