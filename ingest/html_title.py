"""A page's title: its main heading, or its ``<title>`` without a trailing " — Site name" (pure).

``<title>`` usually reads "Page — Site" ("Glossary — Jinja Documentation (3.1.x)", "Story | Herald").
The suffix is cut only when the evidence says it is the site's name: the page's h1 equals the part
before it, or the page names its site (``og:site_name``, ``application-name``, the text of a link
to the site's home page). A title that merely contains a dash ("Jinja — a template engine") stays.
"""

from __future__ import annotations

import re

import lxml.html  # type: ignore[import-untyped]  # lxml ships no type stubs

from ingest.html_text import inline_text

# Separators between a page's own title and its site's name, longest first.
_SEPARATORS = re.compile(r"\s+(?:—|–|-|\||·|::|»|:)\s+")
_HOME_LINK = re.compile(r"^(?:\.\./)*(?:index\.html?)?$|^/$|^\./$")
_TRAILING_GLYPHS = re.compile(r"[\s¶§#]+$")


def clean_title(title: str | None) -> str | None:
    """Whitespace-normalised title without a trailing permalink glyph, or None when nothing is left."""
    if title is None:
        return None
    cleaned = _TRAILING_GLYPHS.sub("", " ".join(title.split()))
    return cleaned or None


def page_title(root: lxml.html.HtmlElement, heading: str | None, *, heading_in_main: bool) -> str | None:
    """The page's title from its main ``heading`` (h1) and its ``<title>``.

    The heading wins when ``<title>`` is missing or starts with it, and when it comes from the
    page's main-content region (``heading_in_main``); otherwise ``<title>``, cut before a trailing
    site name.
    """
    heading = clean_title(heading)
    document_title = clean_title(_first_text(root, "//title"))
    if document_title is None:
        return heading
    site_names = _site_names(root)
    for separator in reversed(list(_SEPARATORS.finditer(document_title))):
        head, suffix = document_title[: separator.start()], document_title[separator.end():]
        if heading is not None and _same(head, heading):
            return heading
        if any(_same(suffix, name) for name in site_names):
            return clean_title(head) or document_title
    if heading is not None and (heading_in_main or _same(heading, document_title)):
        return heading
    return document_title


def _same(first: str, second: str) -> bool:
    """Case- and space-insensitive equality."""
    return " ".join(first.lower().split()) == " ".join(second.lower().split())


def _site_names(root: lxml.html.HtmlElement) -> set[str]:
    """Names the page gives its site: metadata, and the text of links to the site's home page."""
    names = {value for value in root.xpath(
        "//meta[@property='og:site_name' or @name='application-name' or @name='og:site_name']/@content")
        if isinstance(value, str) and value.strip()}
    for link in root.xpath("//a[@href]"):
        if isinstance(link, lxml.html.HtmlElement) and _HOME_LINK.match(link.get("href", "").strip()):
            text = " ".join(link.text_content().split())
            if text:
                names.add(text)
    for value in root.xpath("//link[@rel='top' or @rel='home']/@title"):
        if isinstance(value, str) and value.strip():
            names.add(value)
    return names


def _first_text(root: lxml.html.HtmlElement, xpath: str) -> str | None:
    """The one-line text of the first element matching ``xpath``, or None."""
    for match in root.xpath(xpath):
        if isinstance(match, lxml.html.HtmlElement):
            return inline_text(match)
    return None
