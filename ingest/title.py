"""Display titles for pages without one: the headline line, or a short cut of the first sentence."""

# Word lists read best as text.
# ruff: noqa: SIM905
from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence

from ingest.furniture import TextLine, split_lines
from ingest.records import Region
from text import MONTH_ABBREVIATIONS, WEEKDAYS, alternation, iter_sentences

TITLE_LENGTH = 90  # characters, ellipsis included
_HEADLINE_LENGTH = 160  # characters; a longer first line is a paragraph
_HEADLINE_WORDS = 25
_LINES_EXAMINED = 6  # leading non-furniture lines that may hold the headline
_MIN_CLAUSE = 40  # a title cut at a clause boundary keeps at least this many characters
_ELLIPSIS = "…"

_BYLINE = re.compile(
    r"^(?:by|von|por|par|words by|reporting by)\s+\S|^(?:published|updated|posted|last updated"
    r"|first published)\b|^\d+\s+(?:min(?:ute)?s?|hours?|days?)\s+(?:read|ago)\b",
    re.IGNORECASE,
)
_DATE_LINE = re.compile(
    rf"^(?:{alternation(WEEKDAYS)},?\s+)?"
    rf"(?:\d{{1,2}}\s+)?{alternation(MONTH_ABBREVIATIONS)}[a-z]*\.?"
    r"(?:\s+\d{1,2})?,?\s+\d{4}\b[\w\s:,.]{0,20}$"
    r"|^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b[\w\s:,.]{0,20}$",
    re.IGNORECASE,
)
_SUBORDINATORS = frozenset(
    "as while when after although though despite since because if with amid following before "
    "once unless whereas".split()
)
# Places where a long sentence can be cut and still read as a phrase.
_CLAUSE_BOUNDARY = re.compile(
    r"[,;:]\s|\s[—–]\s|\s(?=(?:as|while|which|who|after|because|but|amid|despite|although|where"
    r"|when|since|following|in what|including|with)\s)"
)


def derive_title(text: str, excluded: tuple[Region, ...]) -> str:
    """The page's headline, or a short phrase cut from its first paragraph.

    The headline is the first headline-shaped line outside ``excluded`` (bylines, dates and
    one- or two-word labels skipped). Without one, the first sentence of the first paragraph,
    shortened to at most ``TITLE_LENGTH`` characters at a clause or word boundary with an
    ellipsis. Whitespace is normalised. Empty only when ``text`` has no visible characters.
    """
    for content in _leading_lines(text, excluded):
        if _BYLINE.match(content) or _DATE_LINE.match(content):
            continue
        words = content.split()
        ends_sentence = content.endswith(".") and not content.endswith("...")
        if len(content) <= _HEADLINE_LENGTH and len(words) <= _HEADLINE_WORDS:
            if len(words) < 3 and not ends_sentence:
                continue  # a kicker or section name such as "World" or "Opinion"
            if not ends_sentence:
                return content
        return _shorten(_first_sentence(content))
    return _shorten(" ".join(text.split()))


def _leading_lines(text: str, excluded: Sequence[Region]) -> Iterator[str]:
    """Whitespace-normalised contents of the first few non-blank lines outside ``excluded``."""
    starts = [region.start for region in excluded]
    yielded = 0
    for line in split_lines(text):
        if yielded >= _LINES_EXAMINED:
            return
        if line.is_blank or _is_excluded(line, excluded, starts):
            continue
        yielded += 1
        yield " ".join(line.content.split())


def _is_excluded(line: TextLine, excluded: Sequence[Region], starts: Sequence[int]) -> bool:
    """Whether any excluded region overlaps the line's content (regions are sorted)."""
    position = bisect.bisect_right(starts, line.end) - 1
    while position >= 0:
        region = excluded[position]
        if region.end > line.start and region.start < line.end:
            return True
        if region.end <= line.start:
            return False
        position -= 1
    return False


def _first_sentence(paragraph: str) -> str:
    """The paragraph up to the end of its first sentence (``text.sentences`` decides where)."""
    for _, end in iter_sentences(paragraph):
        return paragraph[:end]
    return paragraph


def _shorten(sentence: str) -> str:
    """A sentence as a title: no final full stop, at most ``TITLE_LENGTH`` characters."""
    if sentence.endswith(".") and not sentence.endswith("...") and sentence[:-1].strip():
        sentence = sentence[:-1].rstrip()
    if len(sentence) <= TITLE_LENGTH:
        return sentence
    sentence = _main_clause(sentence)
    if len(sentence) <= TITLE_LENGTH:
        return sentence
    limit = TITLE_LENGTH - len(_ELLIPSIS)
    cuts = [match.start() for match in _CLAUSE_BOUNDARY.finditer(sentence)
            if _MIN_CLAUSE <= match.start() <= limit]
    if cuts:
        head = sentence[:cuts[-1]]
    else:
        head = sentence[:limit + 1].rsplit(" ", 1)[0] if " " in sentence[:limit + 1] else ""
        head = head or sentence[:limit]
    return head.rstrip(" ,;:—–-") + _ELLIPSIS


def _main_clause(sentence: str) -> str:
    """Drop a leading subordinate clause ("As X happened, Y did Z" -> "Y did Z")."""
    first_word = sentence.split(" ", 1)[0].lower()
    comma = sentence.find(", ")
    if first_word not in _SUBORDINATORS or comma < 0:
        return sentence
    main = sentence[comma + 2:]
    if len(main) < _MIN_CLAUSE:
        return sentence
    return main[0].upper() + main[1:]
