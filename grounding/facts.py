"""Facts a sentence asserts: numbers, dates, capitalised names and negation cues (pure, rule-based).

No NER library: spaCy and stanza need model downloads that are not on PyPI. Names are runs of
capitalised words and acronyms, so a lower-cased name ("the euro") or a name written only as a
pronoun is invisible, and a capitalised common word at a sentence start counts as a name (it is
compared case-insensitively, so it only matters when the evidence lacks the word).
"""

from __future__ import annotations

import re

from grounding.records import Facts
from index.analysis import is_acronym
from text.lexicon import STOPWORDS

_MONTHS = {name: number for number, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
     ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
     ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for name in names}
_WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December" \
         r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DATE = re.compile(
    rf"\b(?:(?P<day1>{_DAY})\s+(?P<month1>{_MONTH})|(?P<month2>{_MONTH})(?:\s+(?P<day2>{_DAY})\b)?)"
    rf"(?:,?\s+(?P<year1>{_YEAR})\b)?"
    rf"|\b(?P<year2>{_YEAR})s?\b(?![.,]\d)"
    rf"|\b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
# A score or range ("7-5", "2004-05") is one value: its parts alone would match "8-5" against "7-5 8-6".
_NUMBER = re.compile(
    r"(?<![\w.])(?:(?P<joined>\d+(?:[-–]\d+)+)\b|(?P<value>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?))"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion|bn|m|k)\b)?", re.IGNORECASE)
# Bare "May" is a month only after a word that introduces one ("in May", "since May", "early May").
_MONTH_CONTEXT = re.compile(r"\b(?:in|since|until|till|by|from|of|early|late|mid|last|next|this|through)\s+$",
                            re.IGNORECASE)
_NUMBER_WORDS = {word: value for value, word in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty")) if value >= 2}
_NUMBER_WORD = re.compile(r"\b(?P<word>" + "|".join(_NUMBER_WORDS) + r")\b"
                          r"(?:\s+(?P<scale>thousand|million|billion|trillion)\b)?", re.IGNORECASE)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_DIGITS = re.compile(r"\D")
_NAME_WORD = re.compile(r"\b[A-Z][\w'’-]*\w\b|\b[A-Z]\b")
_NAME_LINKS = frozenset({"of", "the", "de", "del", "la", "van", "von"})
_WORD = re.compile(r"\w+")
_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n[’']t\b",
                       re.IGNORECASE)


def _format(value: float) -> str:
    """A number as a canonical string: ``3500000``, ``12.5``."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def extract_dates(text: str) -> tuple[frozenset[str], list[tuple[int, int]]]:
    """Date parts of ``text`` and the spans they came from (so numbers skip them)."""
    parts: set[str] = set()
    spans: list[tuple[int, int]] = []
    for match in _DATE.finditer(text):
        groups = match.groupdict()
        if groups["weekday"]:
            parts.add(f"weekday:{groups['weekday'].lower()}")
        month_text = groups["month1"] or groups["month2"]
        if month_text:
            # "May" and "March" are also words: only a month with a day or year, or capitalised mid-text.
            month = _MONTHS[month_text.rstrip(".").lower()]
            day_text = groups["day1"] or groups["day2"]
            if month_text.rstrip(".").lower() == "may" and not (day_text or groups["year1"]) \
                    and not _MONTH_CONTEXT.search(text, 0, match.start()):
                continue
            parts.add(f"month:{month}")
            if day_text:
                parts.add(f"day:{month}-{int(_DIGITS.sub('', day_text))}")
        year = groups["year1"] or groups["year2"]
        if year:
            parts.add(f"year:{year}")
        spans.append(match.span())
    return frozenset(parts), spans


def extract_numbers(text: str, skip: list[tuple[int, int]] | None = None) -> frozenset[str]:
    """Normalised numbers and quantities of ``text`` outside the ``skip`` spans (dates)."""
    skipped = skip or []
    values: set[str] = set()
    for match in _NUMBER.finditer(text):
        if any(start <= match.start() < end for start, end in skipped):
            continue
        if match.group("joined"):
            values.add(match.group("joined").replace("–", "-"))
            continue
        value = float(match.group("value").replace(",", ""))
        scale = match.group("scale")
        values.add(_format(value * _SCALES[scale.lower()] if scale else value))
    for match in _NUMBER_WORD.finditer(text):
        value = float(_NUMBER_WORDS[match.group("word").lower()])
        scale = match.group("scale")
        values.add(_format(value * _SCALES[scale.lower()] if scale else value))
    return frozenset(values)


def extract_names(text: str) -> frozenset[tuple[str, ...]]:
    """Lower-cased word tuples of capitalised runs and acronyms ("Bank of England", "US").

    Capitalised stop words ("The", "In", "But") are not names; month and weekday names are dates.
    """
    names: set[tuple[str, ...]] = set()
    run: list[str] = []
    last_end = -1
    for match in _NAME_WORD.finditer(text):
        word = match.group()
        lower = word.lower()
        plain = (lower in STOPWORDS and not is_acronym(word)) or lower.rstrip(".") in _MONTHS \
            or lower in _WEEKDAYS
        gap = text[last_end:match.start()] if last_end >= 0 else ""
        linked = bool(run) and re.fullmatch(r"\s+(?:(?:of|the|de|del|la|van|von)\s+)*", gap) is not None
        if plain:
            if run:
                names.add(tuple(run))
            run = []
            last_end = -1
            continue
        if run and not linked:
            names.add(tuple(run))
            run = []
        run.append(lower)
        last_end = match.end()
    if run:
        names.add(tuple(run))
    return frozenset(names)


def count_negations(text: str) -> int:
    """How many negation cues ``text`` holds ("not", "never", "n't", "without", ...)."""
    return len(_NEGATION.findall(text))


def words(text: str) -> frozenset[str]:
    """Lower-cased words of ``text`` (for the case-insensitive name check)."""
    return frozenset(word.lower() for word in _WORD.findall(text) + _NAME_WORD.findall(text))


def extract_facts(text: str) -> Facts:
    """Numbers, dates, names and negation cues of one sentence."""
    dates, date_spans = extract_dates(text)
    return Facts(numbers=extract_numbers(text, date_spans), dates=dates, names=extract_names(text),
                 negations=count_negations(text))
