"""An HTML element's text as paragraphs: inline markup stays inside its sentence (pure).

One paragraph per block element (p, li, dt, dd, headings, ...), one per table row (cells joined by
" | "), and each ``pre`` code block as its own paragraph with its lines kept. Inline elements (a,
code, em, span, kbd, ...) and any unknown tag flow into the surrounding text, and every run of
whitespace inside a paragraph becomes one space: source HTML wraps lines anywhere, and a line break
there would end a sentence (``text.sentences`` never crosses one). ``blocks_of`` also says what
each paragraph is (a heading and its level, a code block, a table row, prose): that is how a page's
sections and code blocks reach chunking.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type stubs
import lxml.html  # type: ignore[import-untyped]

from ingest.records import CodeBlock, Heading

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
# h1..h6, and trafilatura's <head rend="h2"> (a heading without a level counts as level 2).
_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
_ROW_TAGS = frozenset({"tr", "row"})
CELL_SEPARATOR = " | "
"""Between the cells of a table row on its one line (HTML and Word tables alike)."""
PARAGRAPH_BREAK = "\n\n"
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n")


BlockKind = Literal["prose", "heading", "code", "row"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One paragraph of a page's text and what it is; ``level`` is 1-6 for a heading, else 0."""

    text: str
    kind: BlockKind
    level: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinedBlocks:
    """Paragraphs joined into one text (one blank line between them), with where its headings and
    code blocks are."""

    text: str
    headings: tuple[Heading, ...] = ()
    code_blocks: tuple[CodeBlock, ...] = ()


def join_blocks(blocks: Sequence[Block]) -> JoinedBlocks:
    """The blocks' texts separated by blank lines, with the offsets of the headings and code blocks."""
    headings: list[Heading] = []
    code_blocks: list[CodeBlock] = []
    position = 0
    for block in blocks:
        end = position + len(block.text)
        if block.kind == "heading":
            headings.append(Heading(start=position, end=end, level=block.level))
        elif block.kind == "code":
            code_blocks.append(CodeBlock(start=position, end=end))
        position = end + len(PARAGRAPH_BREAK)
    return JoinedBlocks(text=PARAGRAPH_BREAK.join(block.text for block in blocks),
                        headings=tuple(headings), code_blocks=tuple(code_blocks))


def blocks_of(element: lxml.html.HtmlElement) -> list[Block]:
    """The paragraphs of ``element``'s text with their kinds, in document order, stripped and non-empty."""
    blocks: list[Block] = []
    pending: list[str] = []
    # The heading the pending text belongs to: (element, level), innermost last.
    open_headings: list[tuple[lxml.html.HtmlElement, int]] = []

    def flush() -> None:
        paragraph = _SPACES.sub(" ", "".join(pending)).strip()
        pending.clear()
        if paragraph:
            level = open_headings[-1][1] if open_headings else 0
            blocks.append(Block(text=paragraph, kind="heading" if level else "prose", level=level))

    walker = lxml.etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = _tag(node)
        if event == "start":
            if tag in _CODE_TAGS or tag in _ROW_TAGS:
                flush()
                text = _code_text(node) if tag in _CODE_TAGS else _row_text(node)
                if text:
                    blocks.append(Block(text=text, kind="code" if tag in _CODE_TAGS else "row"))
                walker.skip_subtree()
            elif tag in BLOCK_TAGS:
                flush()
                level = _heading_level(node, tag)
                if level:
                    open_headings.append((node, level))
                pending.append(node.text or "")
            elif tag:
                pending.append(node.text or "")
            continue
        if tag in BLOCK_TAGS:
            flush()
            if open_headings and open_headings[-1][0] is node:
                open_headings.pop()
        if node is not element and node.tail:
            pending.append(node.tail)
    flush()
    return blocks


def paragraphs_of(element: lxml.html.HtmlElement) -> list[str]:
    """The paragraphs of ``element``'s text, in document order, each stripped and non-empty."""
    return [block.text for block in blocks_of(element)]


def inline_text(element: lxml.html.HtmlElement) -> str:
    """``element``'s text on one line: its paragraphs joined by single spaces."""
    return " ".join(" ".join(paragraph.split()) for paragraph in paragraphs_of(element))


def _tag(node: lxml.html.HtmlElement) -> str:
    """The lower-case tag name, or "" for a comment or processing instruction (its text is not page text)."""
    return node.tag.lower() if isinstance(node.tag, str) else ""


def _heading_level(node: lxml.html.HtmlElement, tag: str) -> int:
    """1-6 for a heading element (h1..h6, trafilatura's ``head``), 0 for any other block.

    A definition term (an API signature, a glossary term) is not a heading: cutting an API page
    into one section per entry made many small passages that crowded out the prose pages.
    """
    if tag == "head":
        parent = node.getparent()
        if parent is None or _tag(parent) == "html":
            return 0  # the HTML document's <head>, not trafilatura's heading
        return _HEADING_LEVELS.get(str(node.get("rend", "")), 2)
    return _HEADING_LEVELS.get(tag, 0)


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
    return CELL_SEPARATOR.join(cell for cell in cells if cell)
