"""HTML to plain text: trafilatura main-content extraction, or an lxml fallback that never fails."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type stubs
import lxml.html  # type: ignore[import-untyped]
import trafilatura

# trafilatura, htmldate and courlan log an ERROR/WARNING for every page they cannot use; the
# fallback below handles those pages, so the messages are noise in ingestion logs.
_NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan")

# Elements whose text is never article text, dropped before the fallback reads <body>.
_BOILERPLATE_TAGS = ("script", "style", "noscript", "template", "nav", "footer", "header",
                     "aside", "form", "button", "select", "iframe", "svg")

# Block elements: the fallback ends a paragraph after each of them.
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5",
                         "h6", "li", "ul", "ol", "table", "tr", "blockquote", "pre", "figure",
                         "figcaption", "dd", "dt", "br", "hr"})

_SPACES = re.compile(r"[^\S\n]+")
_PARAGRAPH_BREAKS = re.compile(r"\s*\n\s*")


@dataclass(frozen=True, slots=True, kw_only=True)
class HtmlExtraction:
    """The plain text of a page (paragraphs separated by one blank line) and its title, if any."""

    text: str
    title: str | None


def extract_html(raw: str) -> HtmlExtraction:
    """Extract the main text and title of an HTML page; empty text for a page with no text.

    Deterministic: no comments, tables kept, precision favoured, no cross-document deduplication
    (trafilatura's dedup cache would make one page's output depend on the pages read before it).
    """
    _quiet_logs()
    document = trafilatura.bare_extraction(
        raw,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_precision=True,
        deduplicate=False,
    )
    text = ""
    title: str | None = None
    if document is not None and not isinstance(document, dict):
        text = _paragraphs(document.text or "")
        title = _clean_title(document.title)
    if text:
        return HtmlExtraction(text=text, title=title)
    fallback_text, fallback_title = _lxml_fallback(raw)
    return HtmlExtraction(text=fallback_text, title=title or fallback_title)


def _quiet_logs() -> None:
    """Raise the noisy third-party loggers to CRITICAL (idempotent)."""
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _paragraphs(text: str) -> str:
    """Trafilatura's one-paragraph-per-line text with a blank line between paragraphs."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def _clean_title(title: str | None) -> str | None:
    """Whitespace-normalised title, or None when there is none."""
    if title is None:
        return None
    cleaned = " ".join(title.split())
    return cleaned or None


def _lxml_fallback(raw: str) -> tuple[str, str | None]:
    """The text of <body> without scripts, styles and navigation, and the page's h1 or <title>."""
    try:
        root = lxml.html.document_fromstring(raw)
    except (lxml.etree.ParserError, ValueError):
        # ValueError: an XML encoding declaration in a str, or a NUL byte; retry on bytes.
        try:
            root = lxml.html.document_fromstring(raw.encode("utf-8", errors="replace"))
        except (lxml.etree.ParserError, ValueError):
            return "", None
    title = _first_text(root, "//h1") or _first_text(root, "//title")
    body = root.find("body")
    if body is None:
        return "", _clean_title(title)
    for element in list(body.iter(*_BOILERPLATE_TAGS)):
        # drop_tree keeps the tail: that text belongs to the parent, not to the dropped element.
        element.drop_tree()
    return _block_text(body), _clean_title(title)


def _first_text(root: lxml.html.HtmlElement, xpath: str) -> str | None:
    """Text content of the first element matching ``xpath``, or None."""
    matches = root.xpath(xpath)
    if not matches or not isinstance(matches[0], lxml.html.HtmlElement):
        return None
    content: str = matches[0].text_content()
    return content


def _block_text(body: lxml.html.HtmlElement) -> str:
    """Text of ``body`` with a paragraph break after every block element."""
    pieces: list[str] = []
    for event, element in lxml.etree.iterwalk(body, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if element.text and tag:
                pieces.append(element.text)
            continue
        if tag in _BLOCK_TAGS:
            pieces.append("\n")
        if element.tail and element is not body:
            pieces.append(element.tail)
    joined = _SPACES.sub(" ", "".join(pieces))
    return "\n\n".join(part for part in _PARAGRAPH_BREAKS.split(joined.strip()) if part)
