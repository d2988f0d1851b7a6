"""Where a page's prose is: the main-content region it marks, without navigation or permalink glyphs.

Documentation generators and most modern sites mark their content (``<main>``, ``role="main"``,
Sphinx's ``div.body``); inside it and around it sit sidebars, related-page bars, search boxes,
tables of contents and ``¶`` permalink anchors that are page furniture, never prose.
"""

from __future__ import annotations

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type stubs
import lxml.html  # type: ignore[import-untyped]

# Main-content markers, most specific first: the first that matches (exactly once) is the region.
_MAIN_REGIONS = (
    "//*[@role='main']",
    "//main",
    "//*[@itemprop='articleBody']",
    "//article",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' body ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' document ')]",
    "//*[@id='main-content']",
    "//*[@id='content']",
)

# Elements that are never prose, wherever they sit.
NON_PROSE_TAGS = ("script", "style", "noscript", "template", "nav", "footer", "form", "button",
                  "select", "input", "textarea", "iframe", "svg", "canvas", "object", "embed", "audio",
                  "video", "map", "dialog", "head")
# Page furniture by ARIA role, class or id (Sphinx's basic, alabaster, Read the Docs, furo and
# pydata themes, and common site conventions).
_NON_PROSE_ROLES = ("navigation", "search", "banner", "contentinfo", "complementary", "menu", "menubar",
                    "toolbar", "dialog", "tablist")
_NON_PROSE_CLASSES = ("headerlink", "sphinxsidebar", "sphinxsidebarwrapper", "related", "searchbox",
                      "toctree-wrapper", "contents", "toc", "table-of-contents", "viewcode-link",
                      "viewcode-back", "linenos", "copybtn", "breadcrumb", "breadcrumbs", "wy-breadcrumbs",
                      "rst-footer-buttons", "prev-next-area", "footer", "skip-link", "screen-reader-text",
                      "sr-only", "visually-hidden", "genindex-jumpbox", "modindex-jumpbox", "indextable",
                      "modindextable")
_NON_PROSE_IDS = ("searchbox", "toc", "table-of-contents", "sidebar", "breadcrumbs", "navigation")
# Anchor texts that are a permalink glyph rather than words.
PERMALINK_GLYPHS = frozenset({"¶", "§", "#", "🔗", "⁋"})


def _class_test(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_NON_PROSE_XPATH = " | ".join((
    *(f".//{tag}" for tag in NON_PROSE_TAGS),
    # An aside is side matter (related links, pull quotes), except docutils' footnotes and citations.
    ".//aside[not(contains(@class, 'footnote')) and not(contains(@class, 'citation'))]",
    *(f".//*[@role='{role}']" for role in _NON_PROSE_ROLES),
    *(f".//*[{_class_test(name)}]" for name in _NON_PROSE_CLASSES),
    *(f".//*[@id='{identifier}']" for identifier in _NON_PROSE_IDS),
    ".//*[@hidden]",
    ".//a[starts-with(normalize-space(@href), '#')]",
))


def main_region(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The element the page marks as its main content, or None when it marks none (or several)."""
    for xpath in _MAIN_REGIONS:
        matches = [match for match in root.xpath(xpath) if isinstance(match, lxml.html.HtmlElement)]
        if len(matches) == 1:
            return matches[0]
        if matches and xpath != "//article":
            # Nested markers (Sphinx's div.body inside div.body-wrapper): the outermost holds them all.
            outermost = [match for match in matches if not any(other in match.iterancestors() for other in matches)]
            if len(outermost) == 1:
                return outermost[0]
    return None


def drop_non_prose(element: lxml.html.HtmlElement) -> None:
    """Remove navigation, sidebars, search boxes, tables of contents and permalink anchors (in place).

    The text after a removed element (its tail) stays: it belongs to the parent's sentence.
    """
    for match in element.xpath(_NON_PROSE_XPATH):
        if not isinstance(match, lxml.html.HtmlElement) or match is element:
            continue
        if match.tag == "a" and match.text_content().strip() not in PERMALINK_GLYPHS:
            continue
        if match.getparent() is not None:
            match.drop_tree()
