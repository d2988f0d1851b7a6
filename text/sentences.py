"""Sentences: segmentation with exact character offsets, and what ends a sentence (pure).

A regex splitter rather than a library: it must return offsets into the original text, never cross
a line break (web-extracted news puts headings, captions and paragraphs on their own lines), and
run at millions of characters per second; pysbd's char spans drift on repeated text and NLTK's
punkt needs a data download.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from text.lexicon import MONTH_ABBREVIATIONS, MONTH_NAMES

_LINE = re.compile(r"[^\r\n]+")
_TERMINAL = r"[.!?…]"
_CLOSING = r"[\"'”’)\]]"
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(rf"{_TERMINAL}+{_CLOSING}*(?=\s+)")
_SENTENCE_END = re.compile(rf"{_TERMINAL}{_CLOSING}*$")
_STOPS = re.compile(r"[.!?](?:\s|$)")
_OPENING = re.compile(rf"(?:^|{_TERMINAL}\s)[\s\"'“‘(\[-]*$")
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]*[A-Z0-9\u00C0-\u024F]")
# "May" is a word as well as a month: "they may." ends a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st gen gov sen rep lt col capt sgt maj adm cmdr pres
    no nos vs etc inc corp ltd co
    approx mt ft fig al dept univ est vol pp e.g i.e u.s u.k u.n ph.d a.m p.m""".split()  # noqa: SIM905
) | {short.lower() for short in MONTH_ABBREVIATIONS if short not in MONTH_NAMES}
DECLARATIVE_ENDS = (".", "!", "\"", "”", "’", "'", ")")
"""How an answer sentence may end (``ends_declaratively``)."""


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends as the splitter ends a sentence: ``.``, ``!``, ``?`` or ``…``, then any
    closing quotes or brackets (``He said "no."``)."""
    return _SENTENCE_END.search(text) is not None


def opens_sentence(text: str, position: int) -> bool:
    """True when ``text[position:]`` begins a sentence: only space, opening quotes or brackets stand
    between it and the start of ``text`` or a terminal mark (``.``, ``!``, ``?``, ``…``)."""
    return _OPENING.search(text, 0, position) is not None


def count_stops(text: str) -> int:
    """How many full stops, exclamation and question marks in ``text`` are followed by a space or the
    end: how many sentences a short line holds, for the rule that a caption has at most two
    (``ingest.furniture``; ellipses and quote-closed ends are not counted there, as it was tuned)."""
    return len(_STOPS.findall(text))


def ends_declaratively(text: str) -> bool:
    """True when ``text`` ends like a statement rather than a label: a period, an exclamation mark, or a
    closing quote or parenthesis (a quoted remark ends with its quote). Answer selection
    (``ranking.answer``) asks this of sentences that are not questions; unlike ``ends_sentence`` an
    ellipsis or a bracket does not end one, which is how answers were measured."""
    return text.endswith(DECLARATIVE_ENDS)
_INITIALISM = re.compile(r"(?:\b[A-Za-z]\.)+$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` ends an abbreviation or initial rather than a sentence."""
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "(\"“‘'":
        word_start -= 1
    word = text[word_start:dot].lower().rstrip(".")
    if word in _ABBREVIATIONS:
        return True
    # "U.S." / "J." style initialisms: single letters separated by periods.
    return bool(_INITIALISM.search(text[word_start : dot + 1]))


def _split_line(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield sentence spans inside one line ``text[start:end]``, stripped of surrounding spaces."""
    sentence_start = start
    for match in _BOUNDARY.finditer(text, start, end):
        boundary = match.end()
        if not _NEXT_START.match(text, boundary, end):
            continue
        punctuation = match.group()
        # A closing quote or bracket after the period means the sentence really ended.
        if punctuation == "." and _is_abbreviation(text, match.start()):
            continue
        yield sentence_start, boundary
        sentence_start = boundary
    yield sentence_start, end


def iter_sentences(text: str, start: int = 0, end: int | None = None, *,
                   lines: Sequence[tuple[int, int]] | None = None) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` spans of the sentences in ``text[start:end]``, in order.

    Spans never cross a line break, exclude surrounding whitespace and are never empty. ``lines``
    (sorted ranges, ``ingest.wrapping.logical_lines``) replaces the physical lines: a span may then
    cross a line break inside one range (a wrap). Lazy, so a caller can stop early
    (``ingest.readers`` counts up to a limit without listing every sentence).
    """
    stop = len(text) if end is None else end
    if lines is None:
        ranges: Iterator[tuple[int, int]] = (line.span() for line in _LINE.finditer(text, start, stop))
    else:
        ranges = ((max(line_start, start), min(line_end, stop)) for line_start, line_end in lines
                  if line_start < stop and line_end > start)
    for line_start, line_end in ranges:
        for span_start, span_end in _split_line(text, line_start, line_end):
            left, right = span_start, span_end
            while left < right and text[left].isspace():
                left += 1
            while right > left and text[right - 1].isspace():
                right -= 1
            if left < right:
                yield left, right


def split_sentences(text: str, start: int = 0, end: int | None = None,
                    units: Sequence[tuple[int, int]] = (),
                    lines: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text[start:end]`` (see ``iter_sentences``,
    which ``lines`` is passed to).

    Each of ``units`` (sorted, non-overlapping ranges: a page's code blocks) is one sentence of
    its own, line breaks and all, cut to ``text[start:end]`` and stripped of surrounding spaces;
    the text around them is split as usual.
    """
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for unit_start, unit_end in units:
        left, right = max(unit_start, cursor), min(unit_end, stop)
        if left >= right:
            continue
        spans.extend(iter_sentences(text, cursor, left, lines=lines))
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if left < right:
            spans.append((left, right))
        cursor = min(unit_end, stop)
    spans.extend(iter_sentences(text, cursor, stop, lines=lines))
    return spans
