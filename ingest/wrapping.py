"""Hard-wrapped paragraphs: which line breaks of a text are wraps inside a sentence (pure).

Sentences never cross a line break (``text.sentences``): web-extracted news puts headlines,
captions and paragraphs on lines of their own. Plain text and Markdown written in an editor are
often hard-wrapped instead (every line cut near a fixed width, 72-100 characters), and there a
line break inside a paragraph is only a wrap: splitting at it would cut "the five pinned wheels"
off from the rest of its sentence, and an answer would quote a fragment. This module finds the
text's logical lines: runs of physical lines joined at their wraps.

A text counts as hard-wrapped when its lines are short (the 90th percentile of non-blank line
lengths, the wrap width, is at most ``MAX_WRAP_WIDTH``) and many lines run on into the next one.
In such a text a line break is a wrap when the line is nearly full (at least ``FULL_SHARE`` of the
wrap width: it was cut because the next word did not fit), the next line is not blank, and the
next line does not open a block of its own (a list item, heading, quote, table row, code fence or
indented code). Everything else stays a boundary, so a text of long paragraph lines (news) gives
exactly its physical lines.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

MAX_WRAP_WIDTH = 120
"""Wider than this, lines are paragraphs that were never wrapped (a web page's text)."""
FULL_SHARE = 0.6
"""A line at least this share of the wrap width long was cut by the wrap, not by the writer."""
MIN_WRAPS = 3
"""A text needs at least this many wraps to count as hard-wrapped (a short note decides nothing)."""
_LINE = re.compile(r"[^\r\n]+")
_BLOCK_START = re.compile(r"[ \t]*(?:[-*+•][ \t]|\d{1,9}[.)][ \t]|#|>|\||```|~~~)|[ \t]{4}|\t")


def logical_lines(text: str, code_blocks: Sequence[tuple[int, int]] = ()) -> tuple[tuple[int, int], ...] | None:
    """The ``(start, end)`` ranges of ``text``'s logical lines, or None when it is not hard-wrapped.

    A range covers one or more physical lines (line breaks at wraps included in it); every character
    of a non-blank physical line outside ``code_blocks`` (sorted ranges: code keeps its lines and is
    a sentence of its own anyway) is in exactly one range.
    """
    starts = [start for start, _ in code_blocks]
    lines = [match.span() for match in _LINE.finditer(text)
             if not _inside(match.start(), code_blocks, starts)]
    lengths = sorted(end - start for start, end in lines if text[start:end].strip())
    if len(lengths) < 2 * MIN_WRAPS:
        return None
    width = lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))]
    if width > MAX_WRAP_WIDTH:
        return None
    joined: list[tuple[int, int]] = []
    wraps = 0
    for number, (start, end) in enumerate(lines):
        if not text[start:end].strip():
            continue
        if joined and number > 0 and _is_wrap(text, lines[number - 1], (start, end), width) \
                and joined[-1][1] == lines[number - 1][1]:
            joined[-1] = (joined[-1][0], end)
            wraps += 1
        else:
            joined.append((start, end))
    return tuple(joined) if wraps >= MIN_WRAPS else None


def _inside(position: int, ranges: Sequence[tuple[int, int]], starts: list[int]) -> bool:
    index = bisect_right(starts, position) - 1
    return index >= 0 and position < ranges[index][1]


def _is_wrap(text: str, previous: tuple[int, int], current: tuple[int, int], width: int) -> bool:
    """True when the break between two adjacent physical lines is a wrap inside a paragraph."""
    between = text[previous[1]:current[0]]
    if between.count("\n") > 1 or between.count("\r") > 1 or not text[previous[0]:previous[1]].strip():
        return False  # a blank line between them: a paragraph break
    if _BLOCK_START.match(text, current[0]):
        return False
    return previous[1] - previous[0] >= FULL_SHARE * width
