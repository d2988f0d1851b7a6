"""A document's section structure: which section a position lies in and the heading path above it (pure).

Sources that mark headings (HTML h1-h6, ``Document.headings``) are cut into chunks section by
section, and each chunk carries the path of headings it sits under, so a passage that says "By
default, a route only answers to GET requests" is also found by the words of "Quickstart > HTTP
Methods". Markdown headings come from ``ingest.markdown``. Plain text has no headings: one section,
an empty path.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from ingest.records import Heading

PATH_SEPARATOR = " > "
_ATX_MARKS = re.compile(r"^#{1,6}[ \t]+")


def section_numbers(headings: Sequence[Heading], positions: Sequence[int]) -> list[int]:
    """For each position, how many headings start at or before it: equal numbers share a section."""
    starts = [heading.start for heading in headings]
    return [bisect_right(starts, position) for position in positions]


def heading_path(headings: Sequence[Heading], position: int) -> tuple[Heading, ...]:
    """The headings enclosing ``position``, outermost first; a heading starting at ``position`` is not one.

    A heading closes every open heading of its level or deeper, as in an outline.
    """
    path: list[Heading] = []
    for heading in headings:
        if heading.start > position:
            break
        while path and path[-1].level >= heading.level:
            path.pop()
        if heading.start == position:
            break  # a section's own heading closes its siblings but is in its text, not its path
        path.append(heading)
    return tuple(path)


def heading_name(heading_text: str) -> str:
    """A heading's name on one line, without Markdown's opening ``#`` marks ("## Install" -> "Install")."""
    return " ".join(_ATX_MARKS.sub("", heading_text, count=1).split())


def heading_context(text: str, headings: Sequence[Heading], position: int) -> str:
    """The heading path above ``position`` as one line ("Deploying > nginx"), or "" when there is none."""
    names = (heading_name(text[heading.start:heading.end]) for heading in heading_path(headings, position))
    return PATH_SEPARATOR.join(name for name in names if name)
