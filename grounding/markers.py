"""Generated answers that cite numbered sources as ``[n]``: markers out, claims with sources (pure).

A model writes "The beam reaches 22 miles [2]. It was cleaned in Brest [1][3]." The markers are
removed from the text (with the space before them), the clean text is split into sentences with the
index's own splitter, and each sentence gets the source numbers of the markers inside it or right
after it, up to the next sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text import split_sentences

# "[1]", "[1, 3]", "[1][2]"; the whitespace before a marker goes with it.
_MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """One sentence of the clean answer, ``text[start:end]``, and the source numbers it cites."""

    text: str
    start: int
    end: int
    sources: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkedAnswer:
    """A generated answer without its markers, split into claims."""

    text: str
    claims: tuple[Claim, ...]


def parse_marked_answer(raw: str) -> MarkedAnswer:
    """The clean text and its claims; a marker belongs to the last sentence that starts before it."""
    pieces: list[str] = []
    markers: list[tuple[int, tuple[int, ...]]] = []
    length = 0
    previous = 0
    for match in _MARKER.finditer(raw):
        piece = raw[previous:match.start()]
        pieces.append(piece)
        length += len(piece)
        markers.append((length, tuple(int(number) for number in re.findall(r"\d+", match.group(1)))))
        previous = match.end()
    pieces.append(raw[previous:])
    joined = "".join(pieces)
    # Leading spaces would shift every offset the client highlights; the splitter skips them anyway.
    text = joined.strip()
    shift = len(joined) - len(joined.lstrip())
    spans = split_sentences(text)
    sources: list[list[int]] = [[] for _ in spans]
    for position, numbers in markers:
        owner = max((index for index, (start, _) in enumerate(spans) if start < position - shift), default=0)
        if spans:
            sources[owner].extend(number for number in numbers if number not in sources[owner])
    return MarkedAnswer(text=text, claims=tuple(
        Claim(text=text[start:end], start=start, end=end, sources=tuple(found))
        for (start, end), found in zip(spans, sources, strict=True)))
