"""A Markdown document's headings and fenced code blocks, found in its text as is (pure).

Markdown is indexed verbatim (no rendering: a citation's characters are the file's characters), so
structure is read from the lines: ATX headings (``## Install``), setext headings (a line underlined
with ``===`` or ``---``) and fenced code blocks (```` ``` ```` or ``~~~``). An ATX heading's range
runs from its opening marks to the end of its text (closing marks left out); the heading path a
chunk carries leaves the marks out too ("Guide > Install", ``ingest.sections``). Nothing
inside a code block or the YAML front matter is a heading. The rules follow CommonMark for these
three constructs (up to three spaces of indentation; a closing fence of the same character at least
as long as the opening one; an unclosed fence runs to the end of the document).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ingest.records import CodeBlock, Heading
from ingest.sections import heading_name

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+|$)")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_BLOCK_START = re.compile(r" {0,3}(?:[-+*>]|\d{1,9}[.)]|\||#)")
"""Lines that begin a list item, quote, table row or heading: never the text of a setext heading."""
_FRONT_MATTER = "---"


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkdownStructure:
    """The headings (in order, with levels) and code blocks of one Markdown text."""

    headings: tuple[Heading, ...] = ()
    code_blocks: tuple[CodeBlock, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Line:
    start: int
    end: int  # without the line break
    text: str


def _lines(text: str) -> Iterator[_Line]:
    position = 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        yield _Line(start=position, end=position + len(content), text=content)
        position += len(raw)


def _trimmed(line: _Line, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` of ``line`` (offsets in the line) without surrounding whitespace, as text offsets."""
    while start < end and line.text[start].isspace():
        start += 1
    while end > start and line.text[end - 1].isspace():
        end -= 1
    return line.start + start, line.start + end


def _atx_heading(line: _Line) -> Heading | None:
    match = _ATX.match(line.text)
    if match is None:
        return None
    content_end = len(line.text)
    closing = _ATX_CLOSING.search(line.text, match.end())
    if closing is not None:
        content_end = closing.start()
    start, end = _trimmed(line, match.end(), content_end)
    if start == end:
        return None  # "#" alone: an empty heading names no section
    # The range starts at the marks, so the heading line opens its own section (a sentence starts
    # there); ``ingest.sections.heading_context`` reads the name without them.
    return Heading(start=line.start + match.start(1), end=end, level=len(match.group(1)))


def _closing_fence(lines: list[_Line], opening: int, marker: str) -> int | None:
    """The line number closing the fence opened by ``marker`` on line ``opening``, or None."""
    closing = re.compile(rf" {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*")
    return next((number for number in range(opening + 1, len(lines)) if closing.fullmatch(lines[number].text)), None)


def markdown_structure(text: str) -> MarkdownStructure:
    """The headings and fenced code blocks of a Markdown ``text``, with offsets into it."""
    headings: list[Heading] = []
    code_blocks: list[CodeBlock] = []
    lines = list(_lines(text))
    number = 0
    if lines and lines[0].text.rstrip() == _FRONT_MATTER:
        closing = next((index for index in range(1, len(lines)) if lines[index].text.rstrip() in ("---", "...")), None)
        if closing is not None:
            number = closing + 1
    previous: _Line | None = None  # the paragraph line a setext underline would make a heading
    while number < len(lines):
        line = lines[number]
        fence = _FENCE.match(line.text)
        if fence is not None and not (fence.group(1)[0] == "`" and "`" in line.text[fence.end():]):
            close = _closing_fence(lines, number, fence.group(1))
            last = close if close is not None else len(lines) - 1
            code_blocks.append(CodeBlock(start=line.start, end=lines[last].end))
            number, previous = last + 1, None
            continue
        atx = _atx_heading(line)
        if atx is not None:
            headings.append(atx)
            previous = None
        elif previous is not None and _SETEXT.match(line.text):
            start, end = _trimmed(previous, 0, len(previous.text))
            headings.append(Heading(start=start, end=end, level=1 if line.text.strip()[0] == "=" else 2))
            previous = None
        elif line.text.strip() and not line.text.startswith("    ") and not _BLOCK_START.match(line.text):
            # Only a single-line paragraph is taken as a setext heading's text; a longer paragraph
            # followed by "---" is far more often text above a thematic break.
            above = lines[number - 1].text.strip() if number > 0 else ""
            previous = line if not above else None
        else:
            previous = None
        number += 1
    return MarkdownStructure(headings=tuple(headings), code_blocks=tuple(code_blocks))


def markdown_title(text: str, headings: tuple[Heading, ...]) -> str | None:
    """The text of the first level-1 heading (without its marks), or None when there is none."""
    for heading in headings:
        if heading.level == 1:
            return heading_name(text[heading.start:heading.end]) or None
    return None
