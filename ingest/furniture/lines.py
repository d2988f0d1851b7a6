"""Line rules: one line of text is furniture on its own (credit, share bar, nav link, ...) or not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.furniture.vocabulary import (
    CAMEL_JOIN,
    CONTRIBUTED,
    COPYRIGHT_LINE,
    CREDIT_CONNECTORS,
    CREDIT_LINE,
    CREDIT_PREFIX,
    CREDIT_WORDS,
    DATE,
    IMAGE_FILE,
    INLINE_CREDIT,
    INLINE_TEASER,
    KICKER,
    LANGUAGE_LINK,
    LEADING_BULLET,
    METADATA,
    NAV_LINK,
    REPORTING_BY,
    SECTION_PATH,
    SHARE_BAR,
    TRAILING_PUNCTUATION,
)
from text import count_stops, ends_sentence, letter_runs

_LINE_BREAK = re.compile(r"\r\n|\n|\r")
SHORT_LINE = 120  # characters; teaser headlines, kickers, bylines and dates are shorter


@dataclass(frozen=True, slots=True, kw_only=True)
class TextLine:
    """One line of a text: ``text[start:end]`` is its content, ``stop`` is after its line break."""

    start: int
    end: int
    stop: int
    content: str

    @property
    def is_blank(self) -> bool:
        """True when the line holds only whitespace."""
        return not self.content


def split_lines(text: str) -> tuple[TextLine, ...]:
    """The lines of ``text`` with exact offsets; ``\\r\\n``, ``\\n`` and ``\\r`` all end a line.

    ``content`` is the line stripped of surrounding whitespace (no-break spaces included).
    """
    lines: list[TextLine] = []
    position = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(_line(text, position, match.start(), match.end()))
        position = match.end()
    if position < len(text):
        lines.append(_line(text, position, len(text), len(text)))
    return tuple(lines)


def _line(text: str, start: int, end: int, stop: int) -> TextLine:
    return TextLine(start=start, end=end, stop=stop, content=text[start:end].strip())


def line_rule(content: str) -> str | None:
    """The furniture rule one line matches on its own, or None."""
    if not content or len(content) > 700:
        return None
    if CREDIT_PREFIX.match(content) and len(content) <= 400:
        return "credit"
    if (len(content) <= 160 and CREDIT_LINE.search(content)
            and len(content.split()) <= CREDIT_WORDS and not ends_sentence(content)):
        return "credit"
    if INLINE_CREDIT.search(content):
        return "caption"
    if len(content) <= 160 and COPYRIGHT_LINE.match(content):
        return "copyright"
    if len(content) <= 250 and is_reporting_credit(content):
        return "reporting-credit"
    if len(content) > SHORT_LINE:
        return None
    keys = cue_keys(content)
    if is_file_name(content):
        return "file-name"
    if matches(SHARE_BAR, keys):
        return "share-bar"
    if matches(LANGUAGE_LINK, keys):
        return "language-link"
    if (len(content) <= 70 and SECTION_PATH.match(content)) or matches(KICKER, keys):
        return "section-label"
    if matches(NAV_LINK, keys):
        return "nav-link"
    if INLINE_TEASER.match(content) and len(content) <= 160:
        return "inline-teaser"
    if METADATA.match(content) and len(content.split()) <= 10:
        return "metadata"
    return None


def is_reporting_credit(content: str) -> bool:
    """"X contributed to this report." or "Reporting by Name in Place; Editing by Name"."""
    if CONTRIBUTED.search(content):
        return True
    match = REPORTING_BY.match(content)
    if match is None:
        return False
    words = letter_runs(match.group(1))
    return all(word[0].isupper() or word in CREDIT_CONNECTORS for word in words)


def cue_keys(content: str) -> tuple[str, ...]:
    """The line lower-cased, plus a variant with glued link texts split ("readingShow")."""
    plain = TRAILING_PUNCTUATION.sub("", " ".join(LEADING_BULLET.sub("", content).split()))
    split = CAMEL_JOIN.sub(" ", plain)
    keys = (plain.lower().replace("’", "'"), split.lower().replace("’", "'"))
    return keys[:1] if keys[0] == keys[1] else keys


def matches(pattern: re.Pattern[str], keys: Sequence[str]) -> bool:
    """Whether ``pattern`` matches any of the line's keys."""
    return any(pattern.match(key) for key in keys)


def is_file_name(content: str) -> bool:
    """An image or file slug on its own line ("IMG_1234.jpg", "Screen-shot-2021-04-02-at-...")."""
    if len(content) < 6 or any(character.isspace() for character in content):
        return False
    if IMAGE_FILE.match(content):
        return True
    parts = re.split(r"[-_]", content)
    return (len(parts) >= 4 and any(character.isdigit() for character in content)
            and any(character.isalpha() for character in content)
            and all(re.fullmatch(r"[A-Za-z0-9.]+", part) for part in parts))


def mark_captions_before_credits(lines: Sequence[TextLine], reasons: list[str | None]) -> None:
    """A short line right above a credit line is the picture's caption."""
    for index in range(1, len(lines)):
        if reasons[index] != "credit":
            continue
        above = index - 1
        # One blank line may separate a wire caption (which carries a date) from its credit.
        dated_only = False
        if lines[above].is_blank and above > 0:
            above, dated_only = above - 1, True
        candidate = lines[above]
        if candidate.is_blank or reasons[above] is not None or len(candidate.content) > 250:
            continue
        if dated_only and not DATE.search(candidate.content):
            continue
        if count_stops(candidate.content) <= 2:
            reasons[above] = "caption"
