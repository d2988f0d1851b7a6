"""An HTML element's text as paragraphs: inline markup stays inside its sentence (pure).

One paragraph per block element (p, li, dt, dd, headings, ...), one per table row (cells joined by
" | "), and each ``pre`` code block as its own paragraph with its lines kept. Inline elements (a,
code, em, span, kbd, ...) and any unknown tag flow into the surrounding text, and every run of
whitespace inside a paragraph becomes one space: source HTML wraps lines anywhere, and a line break
there would end a sentence (``ingest.sentences`` never crosses one).
"""

from __future__ import annotations

import re
import textwrap

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type stubs
import lxml.html  # type: ignore[import-untyped]

# Elements that start and end a paragraph; every other element is inline.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "section", "summary",
    "table", "tbody", "tfoot", "thead", "ul",
    # trafilatura's output vocabulary (its XML body): headings, list items, quotes, table rows and cells.
    "doc", "head", "item", "lb", "list", "quote",
})
_CODE_TAGS = frozenset({"pre", "code-block"})
_ROW_TAGS = frozenset({"tr", "row"})
_CELL_SEPARATOR = " | "
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n")


def paragraphs_of(element: lxml.html.HtmlElement) -> list[str]:
    """The paragraphs of ``element``'s text, in document order, each stripped and non-empty."""
    paragraphs: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        paragraph = _SPACES.sub(" ", "".join(pending)).strip()
        pending.clear()
        if paragraph:
            paragraphs.append(paragraph)

    walker = lxml.etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = _tag(node)
        if event == "start":
            if tag in _CODE_TAGS or tag in _ROW_TAGS:
                flush()
                block = _code_text(node) if tag in _CODE_TAGS else _row_text(node)
                if block:
                    paragraphs.append(block)
                walker.skip_subtree()
            elif tag in BLOCK_TAGS:
                flush()
                pending.append(node.text or "")
            elif tag:
                pending.append(node.text or "")
            continue
        if tag in BLOCK_TAGS:
            flush()
        if node is not element and node.tail:
            pending.append(node.tail)
    flush()
    return paragraphs


def inline_text(element: lxml.html.HtmlElement) -> str:
    """``element``'s text on one line: its paragraphs joined by single spaces."""
    return " ".join(" ".join(paragraph.split()) for paragraph in paragraphs_of(element))


def _tag(node: lxml.html.HtmlElement) -> str:
    """The lower-case tag name, or "" for a comment or processing instruction (its text is not page text)."""
    return node.tag.lower() if isinstance(node.tag, str) else ""


def _code_text(node: lxml.html.HtmlElement) -> str:
    """A code block's lines without trailing spaces or blank lines (a blank line would split the block)."""
    text = "".join(node.itertext()).expandtabs(4)
    lines = (line.rstrip() for line in _BLANK_LINES.sub("\n", text).splitlines())
    return textwrap.dedent("\n".join(line for line in lines if line.strip())).strip()


def _row_text(node: lxml.html.HtmlElement) -> str:
    """A table row's cells, each on one line, joined by " | "; empty cells are left out."""
    cells = [inline_text(cell) for cell in node if _tag(cell) in {"td", "th", "cell"}]
    if not cells:
        return inline_text(node)
    return _CELL_SEPARATOR.join(cell for cell in cells if cell)
