"""Facts a sentence asserts: numbers, dates, capitalised names and negation cues (pure, rule-based).

No NER library: spaCy and stanza need model downloads that are not on PyPI. Names are runs of
capitalised words and acronyms, so a lower-cased name ("the euro") or a name written only as a
pronoun is invisible. A capital that only opens a sentence ("Notably, ...") is no name on its own.
Every function reads the text folded (``text.normalize.fold``): a straight apostrophe, a combining
accent or an emoji never makes a fact differ from its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from grounding.records import Facts
from index import is_acronym
from text import (
    CARDINALS,
    COMPOUND_WORD,
    MONTH_ABBREVIATIONS,
    MONTH_NAMES,
    MONTH_NUMBERS,
    NAME_LINKS,
    NEGATIONS,
    ORDINALS,
    SCALES,
    STOPWORDS,
    WEEKDAYS,
    WORD,
    alternation,
    fold,
    opens_sentence,
    stem,
)

NEGATION_TERM = "not"
"""How every negation cue is written in ``Facts.terms``."""
CLAUSE_BREAK = "|"
"""The term between two clauses in ``Facts.terms`` (a comma, semicolon, colon, dash, bracket or sentence end)."""
_WEEKDAYS = frozenset(day.lower() for day in WEEKDAYS)
# "\b" after the name: "Markets", "Marco" and "Decades" begin like months and are none.
_MONTH = alternation((*MONTH_NAMES, *MONTH_ABBREVIATIONS)) + r"\b\.?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DATE = re.compile(
    rf"\b(?:(?P<day1>{_DAY})\s+(?P<month1>{_MONTH})|(?P<month2>{_MONTH})(?:\s+(?P<day2>{_DAY})\b)?)"
    rf"(?:,?\s+(?P<year1>{_YEAR})\b)?"
    rf"|\b(?P<year2>{_YEAR})s?\b(?![.,]\d)"
    rf"|\b(?P<weekday>{alternation(WEEKDAYS)})\b")
_SCALE = alternation(SCALES)
# A score or range ("7-5", "2004-05") is one value: its parts alone would match "8-5" against "7-5 8-6".
_NUMBER = re.compile(
    r"(?<![\w.])(?:(?P<joined>\d+(?:[-–]\d+)+)\b|(?P<value>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?))"
    rf"(?:(?P<ordinal>st|nd|rd|th)\b|\s*(?P<scale>{_SCALE})\b)?", re.IGNORECASE)
# Bare "May" is a month only after a word that introduces one ("in May", "since May", "early May").
_MONTH_CONTEXT = re.compile(r"\b(?:in|since|until|till|by|from|of|early|late|mid|last|next|this|through)\s+$",
                            re.IGNORECASE)
_SPELLED = {word: value for word, value in CARDINALS.items() if value >= 2}
_NUMBER_WORD = re.compile(rf"\b(?P<word>{alternation(_SPELLED)})\b"
                          rf"(?:\s+(?P<scale>{alternation(scale for scale in SCALES if len(scale) > 2)})\b)?",
                          re.IGNORECASE)
_ORDINAL_WORD = re.compile(rf"\b{alternation(ORDINALS)}\b", re.IGNORECASE)
# "First" is as often an adverb ("run it first", "first appeared"): an ordinal only after a determiner.
_DETERMINER_BEFORE = re.compile(r"\b(?:the|its|his|her|their|our|my|your|a|an|whose)\s+$", re.IGNORECASE)
_DIGITS = re.compile(r"\D")
_NEGATION = re.compile(rf"\b{alternation(NEGATIONS)}\b|n't\b", re.IGNORECASE)
_LINK_GAP = re.compile(rf"\s+(?:{alternation(NAME_LINKS)}\s+)*")
_POSSESSIVE = re.compile(r"'s?$")
_CLAUSE_END = re.compile(r"[,;:.!?…][\"')\]]*(?=\s|$)|\s[—–-]\s|[()]")


def _format(value: float) -> str:
    """A number as a canonical string: ``3500000``, ``12.5``."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def _ordinal(value: int) -> str:
    """``3`` as ``3rd``: how an ordinal is written among ``Facts.numbers``."""
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def _dates(text: str) -> Iterator[tuple[re.Match[str], frozenset[str]]]:
    """Each date expression of folded ``text`` with its parts."""
    for match in _DATE.finditer(text):
        groups = match.groupdict()
        parts: set[str] = set()
        if groups["weekday"]:
            parts.add(f"weekday:{groups['weekday'].lower()}")
        month_text = groups["month1"] or groups["month2"]
        if month_text:
            # "May" is also a word: only a month with a day or year, or after a month word.
            month = MONTH_NUMBERS[month_text.rstrip(".").lower()]
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
        yield match, frozenset(parts)


def extract_dates(text: str) -> tuple[frozenset[str], list[tuple[int, int]]]:
    """Date parts of ``text`` and the spans they came from in ``fold(text)`` (so numbers skip them)."""
    folded = fold(text)
    parts: set[str] = set()
    spans: list[tuple[int, int]] = []
    for match, found in _dates(folded):
        parts |= found
        spans.append(match.span())
    return frozenset(parts), spans


def _numbers(text: str, skip: list[tuple[int, int]]) -> Iterator[tuple[int, int, str]]:
    """``(start, end, value)`` of each number, number word and ordinal of folded ``text`` outside ``skip``."""
    for match in _NUMBER.finditer(text):
        if any(start <= match.start() < end for start, end in skip):
            continue
        if match.group("joined"):
            yield match.start(), match.end(), match.group("joined").replace("–", "-")
            continue
        value = float(match.group("value").replace(",", ""))
        scale = match.group("scale")
        if match.group("ordinal") and value == int(value):
            yield match.start(), match.end(), _ordinal(int(value))
        else:
            yield match.start(), match.end(), _format(value * SCALES[scale.lower()] if scale else value)
    for match in _NUMBER_WORD.finditer(text):
        value = float(_SPELLED[match.group("word").lower()])
        scale = match.group("scale")
        yield match.start(), match.end(), _format(value * SCALES[scale.lower()] if scale else value)
    for match in _ORDINAL_WORD.finditer(text):
        if match.group().lower() != "first" or _DETERMINER_BEFORE.search(text, 0, match.start()):
            yield match.start(), match.end(), _ordinal(ORDINALS[match.group().lower()])


def extract_numbers(text: str, skip: list[tuple[int, int]] | None = None) -> frozenset[str]:
    """Normalised numbers, quantities and ordinals ("3rd") of ``text`` outside the ``skip`` spans of
    ``fold(text)`` (dates)."""
    return frozenset(value for _, _, value in _numbers(fold(text), skip or []))


def _name_words(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Capitalised words of folded ``text`` with possessives dropped ("Maduro's" -> "Maduro")."""
    for match in COMPOUND_WORD.finditer(text):
        word = _POSSESSIVE.sub("", match.group().strip("'-"))
        if word and word[0].isupper():
            yield match, word


def extract_names(text: str) -> frozenset[tuple[str, ...]]:
    """Lower-cased word tuples of capitalised runs and acronyms ("Bank of England", "US").

    Capitalised stop words ("The", "In", "But") are not names; month and weekday names are dates. A
    capitalised word that opens a sentence ("Notably", "Later Petroperu") is part of a name only when
    it is an acronym, has another capital or a digit ("McCain", "G7"), or the text capitalises it
    elsewhere too.
    """
    folded = fold(text)
    runs: list[tuple[list[str], bool]] = []  # the words of a run, and whether it opens a sentence
    last_end = -1
    inner: set[str] = set()
    for match, word in _name_words(folded):
        lower = word.lower()
        initial = opens_sentence(folded, match.start())
        if not initial:
            inner.add(lower)
        if (lower in STOPWORDS and not is_acronym(word)) or lower in MONTH_NUMBERS or lower in _WEEKDAYS:
            last_end = -1
            continue
        linked = last_end >= 0 and _LINK_GAP.fullmatch(folded, last_end, match.start()) is not None
        if linked:
            runs[-1][0].append(lower)
        else:
            runs.append(([lower], initial and not is_acronym(word) and word[1:].islower()))
        last_end = match.end()
    names = set()
    for run, opener in runs:
        kept = run[1:] if opener and run[0] not in inner else run
        if kept:
            names.add(tuple(part for word in kept for part in WORD.findall(word)))
    return frozenset(names)


def count_negations(text: str) -> int:
    """How many negation cues ``text`` holds ("not", "never", "n't", "without", ...)."""
    return len(_NEGATION.findall(fold(text)))


def words(text: str) -> frozenset[str]:
    """Lower-cased words of ``text`` (for the case-insensitive name check)."""
    return frozenset(WORD.findall(fold(text).lower()))


def terms(text: str) -> tuple[str, ...]:
    """``text`` as a sequence of terms: stems of its lower-cased words, each number as ``#value``
    (``#3500000``, ``#3rd``), each negation cue as ``NEGATION_TERM`` and each clause boundary as
    ``CLAUSE_BREAK``, in order.

    What the claim checker aligns a claim with its evidence on (``grounding.compare``).
    """
    folded = fold(text)
    date_spans = [match.span() for match, _ in _dates(folded)]
    placed = [(start, end, f"#{value}") for start, end, value in _numbers(folded, date_spans)]
    placed += [(match.start(), match.end(), NEGATION_TERM) for match in _NEGATION.finditer(folded)]
    placed += [(match.start(), match.end(), CLAUSE_BREAK) for match in _CLAUSE_END.finditer(folded)]
    placed.sort()
    kept: list[tuple[int, int, str]] = []
    for item in placed:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    word_matches = [match for match in WORD.finditer(folded.lower())
                    if not any(start <= match.start() < end for start, end, _ in kept)]
    stems = stem([match.group() for match in word_matches])
    ordered = kept + [(match.start(), match.end(), term) for match, term in zip(word_matches, stems, strict=True)]
    return tuple(term for _, _, term in sorted(ordered))


def extract_facts(text: str) -> Facts:
    """Numbers, dates, names, negation cues and terms of one sentence."""
    dates, date_spans = extract_dates(text)
    return Facts(numbers=extract_numbers(text, date_spans), dates=dates, names=extract_names(text),
                 negations=count_negations(text), terms=terms(text))
