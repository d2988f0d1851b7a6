"""Range rules: furniture that only a view of the whole page shows (teaser tail, teaser box,
author bio)."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.furniture.cohesion import PROSE_TERMS, Cohesion, body_lines, lead_cohesion, weighted_cohesion
from ingest.furniture.lines import SHORT_LINE, TextLine, cue_keys, matches
from ingest.furniture.vocabulary import BIO_HEADING, HEADING_CUE_LINE, TAIL_CUE_LINE
from text import ends_sentence

LONG_BODY_LINE = 150  # characters; a line this long is an article paragraph, not a label
_MAX_TAIL_CUES = 25  # cue candidates examined, which keeps pathological inputs linear
_MAX_BACKTRACK_LINES = 12  # how far a tail may grow back over teaser cards before its cue


def teaser_tail_start(lines: Sequence[TextLine], reasons: list[str | None],
                       terms: Sequence[tuple[str, ...]], started: int) -> int | None:
    """Index of the first line of the recirculation tail, or None when there is none.

    A cue that does not start the tail may still open a short teaser box inside the article
    (a cue and a list of headlines); those lines are marked ``teaser-box`` in ``reasons``.
    """
    cues = [index for index, line in enumerate(lines)
            if not line.is_blank and len(line.content) <= 60
            and matches(TAIL_CUE_LINE, cue_keys(line.content))]
    examined = 0
    for position, cue in enumerate(cues):
        if cue <= started:
            continue  # the article has not started yet: a cue here is navigation
        examined += 1
        if examined > _MAX_TAIL_CUES:
            return None
        segment = cue_segment(lines, cues, position)
        cohesion = lead_cohesion(lines, terms, body_lines(lines, reasons, cue))
        heading = matches(HEADING_CUE_LINE, cue_keys(lines[cue].content))
        if is_teaser_segment(lines, reasons, terms, cohesion, segment, heading=heading):
            return extend_tail_back(lines, reasons, terms, cohesion, cue)
        mark_teaser_box(lines, reasons, cue)
    return None


def article_started_at(lines: Sequence[TextLine], reasons: Sequence[str | None]) -> int:
    """Index of the line by which two paragraphs (500+ characters) of article text have passed."""
    paragraphs = 0
    characters = 0
    for index, line in enumerate(lines):
        if reasons[index] is None and len(line.content) >= LONG_BODY_LINE:
            paragraphs += 1
            characters += len(line.content)
            if paragraphs >= 2 and characters >= 500:
                return index
    return len(lines)


def cue_segment(lines: Sequence[TextLine], cues: Sequence[int], position: int) -> list[int]:
    """Non-blank, non-cue lines from a cue to the next cue that has text before it.

    Judging only up to the next cue keeps a genuine tail further down from making a stray
    mid-article cue look like the start of the tail.
    """
    cue = cues[position]
    end = len(lines)
    previous = cue
    for later in cues[position + 1:]:
        if any(not lines[index].is_blank for index in range(previous + 1, later)):
            end = later
            break
        previous = later
    # Lines up to ``previous`` are the cue and the cues stacked right under it.
    return [index for index in range(previous + 1, end) if not lines[index].is_blank]


def is_teaser_segment(lines: Sequence[TextLine], reasons: Sequence[str | None],
                       terms: Sequence[tuple[str, ...]], cohesion: Cohesion,
                       segment: Sequence[int], *, heading: bool) -> bool:
    """Whether the lines after a cue are teaser cards or about other topics than the article.

    ``heading`` is True for a module heading ("Related", "More from X"); a bare link text
    ("Read more") needs stronger evidence, as it is common inside articles too.
    """
    if not segment:
        return True
    # Headlines, kickers, dates, bylines and furniture: short lines that are not sentences.
    card_lines = sum(1 for i in segment if reasons[i] is not None or (
        len(lines[i].content) < SHORT_LINE and not ends_sentence(lines[i].content)))
    card_share = card_lines / len(segment)
    prose = [i for i in segment if reasons[i] is None and len(terms[i]) >= PROSE_TERMS]
    level = weighted_cohesion(cohesion, lines, terms, prose)
    if level is None:
        # No prose follows: a handful of short lines is a teaser list or a sign-up box.
        small = sum(len(lines[i].content) for i in segment) <= 1500
        return small and (heading or card_share >= 0.75)
    if level < 0.6 * cohesion.body_level:
        return True
    # Teaser cards are mostly short lines and their blurbs may touch the article's topic, but an
    # article that goes on is at least as cohesive as its earlier paragraphs.
    return heading and card_share >= 0.5 and level < cohesion.body_level


def mark_teaser_box(lines: Sequence[TextLine], reasons: list[str | None], cue: int) -> None:
    """Mark a cue followed by two or more headline-shaped lines as an in-article teaser box."""
    headlines: list[int] = []
    for index in range(cue + 1, len(lines)):
        line = lines[index]
        if line.is_blank:
            continue
        if (reasons[index] is not None or len(line.content) >= SHORT_LINE
                or ends_sentence(line.content)):
            break
        headlines.append(index)
    if len(headlines) >= 2:
        for index in (cue, *headlines):
            reasons[index] = reasons[index] or "teaser-box"


def extend_tail_back(lines: Sequence[TextLine], reasons: Sequence[str | None],
                      terms: Sequence[tuple[str, ...]], cohesion: Cohesion, cue: int) -> int:
    """Start the tail at the furniture that opens the teaser card its cue closes ("keep reading").

    Walks back over furniture lines, headline-shaped short lines and off-topic paragraphs; the
    tail grows only as far back as a furniture line, so article paragraphs are never taken
    unless a credit, caption or label sits between them and the cue.
    """
    start = cue
    seen = 0
    index = cue - 1
    while index >= 0 and seen < _MAX_BACKTRACK_LINES:
        line = lines[index]
        if not line.is_blank:
            seen += 1
            if reasons[index] is not None:
                start = index
            elif len(line.content) < SHORT_LINE:
                if ends_sentence(line.content):
                    break  # a short sentence is article text, a teaser headline has no full stop
            elif cohesion.of(terms[index]) >= min(0.5 * cohesion.body_level, 0.15):
                break
        index -= 1
    return start


def author_bio_start(lines: Sequence[TextLine], started: int) -> int | None:
    """Index of an "About the author(s)" heading once the article has started, or None."""
    for index in range(started + 1, len(lines)):
        content = lines[index].content
        if content and len(content) <= 40 and matches(BIO_HEADING, cue_keys(content)):
            return index
    return None


def author_bio_end(lines: Sequence[TextLine], reasons: Sequence[str | None],
                    terms: Sequence[tuple[str, ...]], start: int, limit: int | None) -> int:
    """End (exclusive line index) of the bio: the next paragraph about the article, or the end."""
    stop = len(lines) if limit is None else limit
    cohesion = lead_cohesion(lines, terms, body_lines(lines, reasons, start))
    for index in range(start + 1, stop):
        content = lines[index].content
        if (reasons[index] is None and len(content) >= 2 * LONG_BODY_LINE
                and cohesion.of(terms[index]) >= 0.8 * cohesion.body_level):
            return index
    return stop

