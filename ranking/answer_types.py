"""What kind of answer a question asks for, and whether a sentence can give it (pure).

"How many …" is answered by a quantity, "when …" by a date or a time span, "who …" by a name.
A sentence that merely restates such a question holds none of these; one that answers it does.
The rules are deliberately shallow (no parser or NER model installs offline): they decide only
which answer type a sentence *lacks*, never what the answer is.
"""

from __future__ import annotations

import re
from typing import Literal

from text import COMPOUND_WORD, MONTH_ABBREVIATIONS, MONTH_NAMES, QUANTITY_WORDS, WEEKDAYS, alternation

AnswerType = Literal["quantity", "date", "name"]

_QUANTITY = re.compile(rf"\d|%|\bper ?cent\b|\b{alternation(QUANTITY_WORDS)}\b", re.IGNORECASE)
_TIME_WORDS = ("yesterday", "today", "tomorrow", "weeks?", "months?", "years?", "decades?", "century", "centuries",
               "since", "until", "ago", "earlier", "later", "recently", "spring", "summer", "autumn", "winter")
_DATE = re.compile(
    rf"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b{alternation((*MONTH_NAMES, *MONTH_ABBREVIATIONS))}\b"
    rf"|\b{alternation((*WEEKDAYS, *_TIME_WORDS))}\b",
    re.IGNORECASE)
_QUESTION_TYPES: tuple[tuple[re.Pattern[str], AnswerType], ...] = (
    (re.compile(r"^\s*(?:how (?:many|much|long|old|far|big|large|often)|what (?:share|percentage|proportion|"
                r"number|amount|fraction)|by how much)\b", re.IGNORECASE), "quantity"),
    (re.compile(r"^\s*(?:when|since when|what (?:year|date|day|month|time))\b", re.IGNORECASE), "date"),
    (re.compile(r"^\s*(?:who|whom|whose)\b", re.IGNORECASE), "name"),
)


def question_answer_type(question: str) -> AnswerType | None:
    """The answer type a question asks for, or None when its wording does not say."""
    for pattern, answer_type in _QUESTION_TYPES:
        if pattern.search(question):
            return answer_type
    return None


def has_answer_type(sentence: str, answer_type: AnswerType, question: str) -> bool:
    """True when ``sentence`` holds something of ``answer_type`` that the question does not already say.

    A name is a capitalised word after the sentence's first word (the first is capitalised anyway)
    that is not a word of the question.
    """
    if answer_type == "quantity":
        return bool(_QUANTITY.search(sentence))
    if answer_type == "date":
        return bool(_DATE.search(sentence))
    question_words = {word.casefold() for word in COMPOUND_WORD.findall(question)}
    words = COMPOUND_WORD.findall(sentence)
    return any(word[0].isupper() and word.casefold() not in question_words for word in words[1:])
