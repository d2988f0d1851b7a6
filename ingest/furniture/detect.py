"""``detect_furniture``: the line rules, then the range rules, merged into whole-line regions."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.furniture.cohesion import line_terms
from ingest.furniture.lines import TextLine, line_rule, mark_captions_before_credits, split_lines
from ingest.furniture.pages import mark_page_furniture
from ingest.furniture.ranges import (
    article_started_at,
    author_bio_end,
    author_bio_start,
    teaser_tail_start,
)
from ingest.records import Region


def detect_furniture(text: str, pages: Sequence[int] = ()) -> tuple[Region, ...]:
    """The page-furniture regions of ``text``: sorted, non-overlapping, whole lines.

    Each region covers whole lines including their line breaks; a teaser tail runs to the end
    of the text. Neighbouring lines with the same rule form one region. ``pages`` (the page starts
    of a PDF, ``Document.pages``) adds the running headers, footers and page numbers.
    """
    lines = split_lines(text)
    reasons: list[str | None] = [line_rule(line.content) for line in lines]
    mark_captions_before_credits(lines, reasons)
    mark_page_furniture(lines, reasons, pages)
    terms = [line_terms(line.content) for line in lines]
    started = article_started_at(lines, reasons)
    bio_start = author_bio_start(lines, started)
    tail_start = teaser_tail_start(lines, reasons, terms, started)
    if bio_start is not None and (tail_start is None or bio_start < tail_start):
        bio_end = author_bio_end(lines, reasons, terms, bio_start, tail_start)
        for index in range(bio_start, bio_end):
            reasons[index] = "author-bio"
    if tail_start is not None:
        for index in range(tail_start, len(lines)):
            reasons[index] = "teaser-tail"
    return _regions(lines, reasons)



def _regions(lines: Sequence[TextLine], reasons: Sequence[str | None]) -> tuple[Region, ...]:
    """Whole-line regions; a run of one rule (blank lines inside included) becomes one region."""
    regions: list[Region] = []
    open_reason: str | None = None
    open_start = open_stop = 0
    for line, reason in zip(lines, reasons, strict=True):
        if reason is None:
            if not line.is_blank and open_reason is not None:
                # Article text ends the run: a later line of the same rule starts a new region.
                regions.append(Region(start=open_start, end=open_stop,
                                      reason=f"furniture:{open_reason}"))
                open_reason = None
            continue
        if reason == open_reason:
            open_stop = line.stop
            continue
        if open_reason is not None:
            regions.append(Region(start=open_start, end=open_stop,
                                  reason=f"furniture:{open_reason}"))
        open_reason, open_start, open_stop = reason, line.start, line.stop
    if open_reason is not None:
        regions.append(Region(start=open_start, end=open_stop, reason=f"furniture:{open_reason}"))
    return tuple(regions)
