"""Page numbers of a paged document (PDF): which pages a character range lies on (pure).

``Document.pages`` holds the offset in the text where each page starts, in page order: page ``n``
(counted from 1, as viewers number them) is ``text[pages[n - 1]:pages[n]]`` and the last page runs
to the end of the text. A page without text starts where the next one does.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence


def page_at(pages: Sequence[int], offset: int) -> int:
    """The number of the page holding the character at ``offset`` (1 for a text with no page map)."""
    return max(1, bisect_right(pages, offset))


def pages_of(pages: Sequence[int], start: int, end: int) -> tuple[int, ...]:
    """The numbers of the pages the range ``[start, end)`` lies on; () for a text with no page map.

    A range that crosses a page break lies on both pages (and on every page between).
    """
    if not pages:
        return ()
    first = page_at(pages, start)
    last = page_at(pages, max(start, end - 1))
    return tuple(range(first, last + 1))


def page_span(pages: Sequence[int], text_length: int, number: int) -> tuple[int, int]:
    """``(start, end)`` of page ``number`` in a text of ``text_length`` characters.

    Raises ``ValueError`` naming the page count when ``number`` is not a page of the document.
    """
    if not 1 <= number <= len(pages):
        raise ValueError(f"page {number} is not a page of this document: it has "
                         f"{len(pages)} page{'s' if len(pages) != 1 else ''}")
    end = pages[number] if number < len(pages) else text_length
    return pages[number - 1], end
