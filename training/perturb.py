"""One precise edit that makes a true sentence false (pure): the verifier's generated contradictions.

Each function takes a sentence and returns it with one fact changed, or None when the sentence has
nothing of that kind to change: a number (``number_change``), two numbers exchanged
(``number_swap``), a year, month or weekday (``date``), a name replaced by another name of the same
document (``entity_swap``), two names exchanged (``role_swap``), a negation added or removed
(``negation``), a word replaced by its opposite (``antonym``), a quantifier (``quantifier``) and an
ordinal (``ordinal``). The word lists are written out rather than read from WordNet: WordNet's
antonyms are lemmas ("rise" / "fall"), and a news sentence says "rose" and "fell".
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Sequence

from grounding import extract_names
from text import MONTH_NAMES, WEEKDAYS

_PAIRS = {
    "antonym": (
        "rose/fell", "rise/fall", "rises/falls", "rising/falling", "increase/decrease", "increased/decreased",
        "increases/decreases", "higher/lower", "gain/loss", "gains/losses", "profit/loss", "profits/losses",
        "strong/weak", "stronger/weaker", "strongest/weakest", "won/lost", "win/lose", "wins/loses",
        "accepted/rejected", "accept/reject", "approved/rejected", "before/after", "above/below", "larger/smaller",
        "largest/smallest", "biggest/smallest", "best/worst", "better/worse", "early/late", "earlier/later",
        "positive/negative", "bought/sold", "buy/sell", "buying/selling", "open/closed", "opened/closed",
        "success/failure", "successful/unsuccessful", "agreed/refused", "allowed/banned", "allow/forbid",
        "supported/opposed", "supports/opposes", "support/oppose", "good/bad", "cheap/expensive",
        "cheaper/more expensive", "up/down", "boost/cut", "boosted/cut", "expand/shrink", "expanded/shrank",
        "grew/shrank", "growth/decline", "surplus/deficit", "easy/difficult", "easier/harder", "true/false",
        "enabled/disabled", "enable/disable", "required/optional", "inside/outside", "first/last",
        "start/end", "started/ended", "added/removed", "add/remove", "public/private", "import/export",
        "imports/exports", "local/remote", "older/newer", "old/new", "long/short", "longer/shorter",
        "more/fewer", "most/least", "maximum/minimum", "upper/lower", "innocent/guilty", "legal/illegal",
        "hired/fired", "joined/left", "arrived/left", "lend/borrow", "lent/borrowed", "raised/lowered",
        "raise/lower", "ahead/behind", "safe/dangerous", "synchronous/asynchronous", "ignored/tracked",
    ),
    "quantifier": (
        "all/some", "every/no", "many/few", "most/few", "always/rarely", "often/rarely", "several/no",
        "both/neither", "any/no", "everyone/no one", "nothing/everything", "only/also", "majority/minority",
    ),
    "ordinal": (
        "first/second", "second/third", "third/fourth", "fourth/fifth", "fifth/sixth", "1st/2nd", "2nd/3rd",
        "3rd/4th", "last/first", "next/previous", "former/latter",
    ),
}
_AUXILIARIES = re.compile(r"\b(is|are|was|were|has|have|had|will|would|can|could|should|must|does|did|do|may|might)"
                          r"\b(?! not\b)", re.IGNORECASE)
_NEGATED = re.compile(r"\b(is|are|was|were|has|have|had|will|would|could|should|must|does|did|do|may|might)"
                      r"(?: not|n['’]t)\b", re.IGNORECASE)
_OTHER_NEGATION = re.compile(r"\b(?:no|never|none|nothing|neither|nor|without)\b", re.IGNORECASE)
_CONTRACTIONS = {"won't": "will", "can't": "can", "cannot": "can", "won’t": "will", "can’t": "can"}
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w,]*\d)")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-3]\d)\b")
_MONTHS = tuple(month for month in MONTH_NAMES if month != "May")  # "may" is mostly the verb
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b")
# Names joined by "and" / "or" / "," are often interchangeable ("India and China"): no role to swap.
_SYMMETRIC_GAP = re.compile(r"^\W*(?:and|or|,|&|/|-)?\W*$", re.IGNORECASE)

Edit = Callable[[str, Sequence[str], random.Random], "str | None"]


def _replace_word(text: str, pairs: Sequence[str], rng: random.Random) -> str | None:
    """Replace one whole word of ``text`` found in ``pairs`` ("a/b", either way) by its partner."""
    partner: dict[str, str] = {}
    for pair in pairs:
        left, right = pair.split("/")
        partner.setdefault(left, right)
        partner.setdefault(right, left)
    found = [match for match in re.finditer(r"\b[A-Za-z]+(?: one)?\b", text) if match.group().lower() in partner]
    if not found:
        return None
    match = rng.choice(found)
    word = match.group()
    replacement = partner[word.lower()]
    if word[:1].isupper():
        replacement = replacement[:1].upper() + replacement[1:]
    return text[: match.start()] + replacement + text[match.end():]


def _skip_dates(text: str) -> list[re.Match[str]]:
    return [match for match in _NUMBER.finditer(text) if not _YEAR.fullmatch(match.group())]


def change_number(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """One number (not a year) changed to a clearly different value of the same form."""
    found = _skip_dates(text)
    if not found:
        return None
    match = rng.choice(found)
    whole = int(match.group(1).replace(",", ""))
    factor = rng.choice((2, 3, 0.5)) if whole > 3 else 1
    changed = max(whole + rng.choice((1, 2, 3)), round(whole * factor)) if factor != 0.5 else max(1, whole // 2)
    if changed == whole:
        changed = whole + 1
    rendered = f"{changed:,}" if "," in match.group(1) else str(changed)
    return text[: match.start()] + rendered + (match.group(2) or "") + text[match.end():]


def swap_numbers(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """Two different numbers of the sentence exchanged."""
    found = _skip_dates(text)
    distinct = [match for match in found if match.group() != found[0].group()]
    if not found or not distinct:
        return None
    first, second = found[0], rng.choice(distinct)
    return (text[: first.start()] + second.group() + text[first.end(): second.start()] + first.group()
            + text[second.end():])


def change_date(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """A year moved by one to three, or a month or weekday replaced by another."""
    for pattern, names in ((_MONTH, _MONTHS), (_WEEKDAY, WEEKDAYS)):
        match = pattern.search(text)
        if match:
            replacement = rng.choice([name for name in names if name != match.group()])
            return text[: match.start()] + replacement + text[match.end():]
    match = _YEAR.search(text)
    if match:
        year = int(match.group()) + rng.choice((-2, -1, 1, 2, 3))
        return text[: match.start()] + str(year) + text[match.end():]
    return None


_POSSESSIVE = re.compile(r"['’]s$")
# A capitalised word right after a sentence end or an opening quote may be an ordinary word.
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“‘(\n]\s*)$")


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the capitalised names of ``text`` inside its sentences ("'s" left out)."""
    spans = []
    for name in extract_names(text):
        phrase = re.compile(r"\b" + r"\W+(?:\w+\W+)?".join(re.escape(word) for word in name) + r"\b", re.IGNORECASE)
        for match in phrase.finditer(text):
            if not match.group()[:1].isupper() or _SENTENCE_START.search(text, 0, match.start()):
                continue
            possessive = _POSSESSIVE.search(match.group())
            spans.append((match.start(), match.end() - (len(possessive.group()) if possessive else 0)))
    return sorted(set(spans))


def swap_entity(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """A name of the sentence replaced by another name of the same document that it does not hold."""
    spans = _name_spans(text)
    lowered = text.lower()
    candidates = [name for name in others if name.lower() not in lowered]
    if not spans or not candidates:
        return None
    start, end = rng.choice(spans)
    return text[:start] + rng.choice(candidates) + text[end:]


def swap_roles(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """Two different names of the sentence exchanged, unless only "and"/"or" separate them."""
    spans = _name_spans(text)
    for first, second in itertools.pairwise(spans):
        left, right = text[first[0]:first[1]], text[second[0]:second[1]]
        if first[1] > second[0] or left.lower() == right.lower() or _SYMMETRIC_GAP.match(text[first[1]:second[0]]):
            continue
        return text[: first[0]] + right + text[first[1]: second[0]] + left + text[second[1]:]
    return None


def flip_negation(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """A negation removed ("was not" -> "was") or, when there is none, added after an auxiliary."""
    for contraction, plain in _CONTRACTIONS.items():
        if contraction in text:
            return text.replace(contraction, plain, 1)
    negated = _NEGATED.search(text)
    if negated:
        return text[: negated.start()] + negated.group(1) + text[negated.end():]
    auxiliary = _AUXILIARIES.search(text)
    if auxiliary and not _OTHER_NEGATION.search(text):
        return text[: auxiliary.end()] + " not" + text[auxiliary.end():]
    return None


def replace_antonym(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """A word replaced by its opposite ("rose" -> "fell")."""
    return _replace_word(text, _PAIRS["antonym"], rng)


def replace_quantifier(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """A quantifier replaced ("all" -> "some")."""
    return _replace_word(text, _PAIRS["quantifier"], rng)


def replace_ordinal(text: str, others: Sequence[str], rng: random.Random) -> str | None:
    """An ordinal replaced ("first" -> "second")."""
    return _replace_word(text, _PAIRS["ordinal"], rng)


EDITS: dict[str, Edit] = {
    "number_change": change_number, "number_swap": swap_numbers, "date": change_date,
    "entity_swap": swap_entity, "role_swap": swap_roles, "negation": flip_negation,
    "antonym": replace_antonym, "quantifier": replace_quantifier, "ordinal": replace_ordinal,
}


def document_names(text: str) -> list[str]:
    """Names written in a document, as written (for ``swap_entity``), in order of first use."""
    seen: dict[str, str] = {}
    for start, end in _name_spans(text):
        phrase = " ".join(text[start:end].split())
        seen.setdefault(phrase.lower(), phrase)
    return list(seen.values())


def perturb(text: str, others: Sequence[str], rng: random.Random) -> list[tuple[str, str]]:
    """Every (claim_type, edited text) pair of the edits that apply to ``text``."""
    edited: list[tuple[str, str]] = []
    for kind, edit in EDITS.items():
        result = edit(text, others, rng)
        if result is not None and result != text:
            edited.append((kind, result))
    return edited
