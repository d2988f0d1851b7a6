"""Page rules: running headers, footers and page numbers of a paged document (PDF).

A PDF's text repeats its page furniture on every page: a running header ("CHAPTER 2. THE IDL"),
a footer ("ReportLab User Guide"), the page number. They interrupt sentences at every page break
and say nothing, so they are marked like any other furniture and never indexed. The rules look
only at the first and last ``ZONE_LINES`` non-blank lines of each page:

- ``page-number``: a line that is only a page number ("12", "xiv", "- 12 -", "Page 12",
  "Page 12 of 80", "12/80").
- ``page-header`` / ``page-footer``: a line that, with its digits ignored (page numbers change
  from page to page), stands at the same place among the first (last) lines of ``MIN_REPEATS``
  pages in a row (all pages of a shorter document; every other page counts as in a row). Chapter
  headers repeat within their chapter, so they are found too, and a short line whose first words
  open the same place on many pages in a row (a family of running heads) is one; a chapter's
  opening line ("Chapter 3") recurs on pages far apart, so it is not.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from ingest.furniture.lines import TextLine
from text import letter_runs

ZONE_LINES = 3
"""Non-blank lines at the top and at the bottom of a page where running headers and footers sit."""
MIN_REPEATS = 4
"""Pages in a row a header or footer line must be repeated on (at the same place) to count as
furniture: three let the labels of figures drawn on three pages in a row pass (the ReportLab guide)."""
FAMILY_WORDS = 3
FAMILY_REPEATS = 8
FAMILY_MAX_CHARS = 100
"""A running head that names its chapter ("User Guide Chapter 8 Programming Flowables") changes with
the chapter, and a chapter of two or three pages repeats it too few times. A short line counts too
when its first ``FAMILY_WORDS`` words stand at its place on ``FAMILY_REPEATS`` pages in a row."""
MAX_PAGE_GAP = 2
"""Pages "in a row" may skip one page: books alternate the running heads of left and right pages."""
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:page\s+|p\.\s*)?(?:\d{1,5}|[ivxlcdm]{1,8})(?:\s*(?:/|of)\s*\d{1,5})?(?:\s*[-–—])?$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_EDGE_ROMAN = re.compile(r"^[ivxlcdm]{1,8}\b|\b[ivxlcdm]{1,8}$", re.IGNORECASE)  # a page number in roman


def mark_page_furniture(lines: Sequence[TextLine], reasons: list[str | None], pages: Sequence[int]) -> None:
    """Mark the running headers, footers and page numbers among ``lines`` in ``reasons``.

    ``pages`` are the page start offsets (``Document.pages``); lines already marked keep their rule.
    """
    if len(pages) < 2:
        return
    zones = [_page_zones(lines, pages, number) for number in range(len(pages))]
    needed = min(MIN_REPEATS, len(pages))
    for side, rule in ((0, "page-header"), (1, "page-footer")):
        pages_of_key: dict[tuple[int, str], list[int]] = defaultdict(list)
        for number, zone in enumerate(zones):
            for place, index in enumerate(zone[side]):
                key = _key(lines[index].content)
                pages_of_key[(place, key)].append(number)
                if _prefix(key):
                    pages_of_key[(place, _prefix(key))].append(number)
        runs = {key: _longest_run(numbers) for key, numbers in pages_of_key.items()}
        for zone in zones:
            for place, index in enumerate(zone[side]):
                content = lines[index].content
                if reasons[index] is not None:
                    continue
                key = _key(content)
                if _PAGE_NUMBER.match(content):
                    reasons[index] = "page-number"
                elif _has_word(content) and (
                        runs[(place, key)] >= needed
                        or (_prefix(key) and runs[(place, _prefix(key))] >= FAMILY_REPEATS)):
                    reasons[index] = rule


def _prefix(key: str) -> str:
    """The first ``FAMILY_WORDS`` words of a short line's key ("user guide chapter"), else ""."""
    words = key.split()
    if len(key) > FAMILY_MAX_CHARS or len(words) <= FAMILY_WORDS:
        return ""
    return " ".join(words[:FAMILY_WORDS]) + " …"


def _longest_run(numbers: Sequence[int]) -> int:
    """The most pages in a row (each at most ``MAX_PAGE_GAP`` after the one before) among ``numbers``."""
    longest = current = 0
    previous: int | None = None
    for number in numbers:
        current = current + 1 if previous is not None and number - previous <= MAX_PAGE_GAP else 1
        longest = max(longest, current)
        previous = number
    return longest


def _page_zones(lines: Sequence[TextLine], pages: Sequence[int],
                number: int) -> tuple[list[int], list[int]]:
    """Indexes of the first and the last ``ZONE_LINES`` non-blank lines of page ``number``
    (the bottom zone counted from the page's last line up; empty when the page is that short)."""
    end = pages[number + 1] if number + 1 < len(pages) else None
    on_page: list[int] = []
    index = _first_line_at(lines, pages[number])
    while index < len(lines) and (end is None or lines[index].start < end):
        if not lines[index].is_blank:
            on_page.append(index)
        index += 1
    top = on_page[:ZONE_LINES]
    bottom = list(reversed(on_page[-ZONE_LINES:])) if len(on_page) > ZONE_LINES else []
    return top, bottom


def _first_line_at(lines: Sequence[TextLine], offset: int) -> int:
    """Index of the first line that starts at or after ``offset`` (binary search)."""
    low, high = 0, len(lines)
    while low < high:
        middle = (low + high) // 2
        if lines[middle].start < offset:
            low = middle + 1
        else:
            high = middle
    return low


def _key(content: str) -> str:
    """A line as compared across pages: digits and roman numerals as "#", spaces collapsed, no case."""
    return " ".join(_EDGE_ROMAN.sub("#", _DIGITS.sub("#", content)).split()).casefold()


def _has_word(line: str) -> bool:
    """A word of two letters or more (not only digits and signs): a page label, not a bare number."""
    return any(len(word) >= 2 for word in letter_runs(line))
