"""The project's word lists: stop words, months, weekdays, number words, ordinals, name links (data).

Regular expressions elsewhere are built from these lists (``alternation``), never from a copy: a
month written out twice is how "Markets" came to be read as March.
"""

# Word lists read best as text.
# ruff: noqa: SIM905
from __future__ import annotations

from collections.abc import Iterable

# bm25s's STOPWORDS_EN_PLUS (NLTK's English list plus contraction stems), copied rather than
# imported: importing bm25s costs a second, and an upgrade of it must not silently change the index
# (tests/test_analysis.py checks the copy against the installed bm25s).
STOPWORDS_EN_PLUS = frozenset(
    """a about above after again against ain all am an and any are aren aren't as at be because been
    before being below between both but by can couldn couldn't d did didn didn't do does doesn
    doesn't doing don don't down during each few for from further had hadn hadn't has hasn hasn't
    have haven haven't having he her here hers herself him himself his how i if in into is isn isn't
    it it's its itself just ll m ma me mightn mightn't more most mustn mustn't my myself needn
    needn't no nor not now o of off on once only or other our ours ourselves out over own re s same
    shan shan't she she's should should've shouldn shouldn't so some such t than that that'll the
    their theirs them themselves then there these they this those through to too under until up ve
    very was wasn wasn't we were weren weren't what when where which while who whom why will with
    won won't wouldn wouldn't y you you'd you'll you're you've your yours yourself yourselves""".split()
)
QUESTION_WORDS = frozenset({"what", "who", "whom", "whose", "which", "when", "where", "why", "how",
                            "did", "does", "do", "is", "are", "was", "were", "according"})
STOPWORDS = STOPWORDS_EN_PLUS | QUESTION_WORDS
"""Words too common to say what a text is about: never a search term, never a cohesion term."""

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")
"""Every month's short form, in calendar order ("May" is its own)."""
MONTH_NUMBERS = {word.lower(): number for number, name in enumerate(MONTH_NAMES, start=1)
                 for word in (name, *(short for short in MONTH_ABBREVIATIONS if name.startswith(short)))}
"""Lower-cased month name or abbreviation -> 1..12."""
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

CARDINALS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
"""Number words zero to twenty -> their value."""
TENS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
"""Scale words and their abbreviations ("$4bn", "3.5m") -> factor."""
ORDINALS = {word: value for value, word in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(), start=1)}
"""Ordinal words -> their rank."""
QUANTITY_WORDS = (*(word for word in CARDINALS if 1 <= CARDINALS[word] <= 12), "fifteen", "twenty", "thirty",
                  "forty", "fifty", "hundreds?", "thousands?", "millions?", "billions?", "trillions?", "dozens?",
                  "half", "third", "quarter", "several", "double", "triple", "twice")
"""Words that make a sentence state an amount when a question asks "how many" (``ranking.answer_types``;
regular-expression alternatives). Narrower than ``CARDINALS``: answer ranking was measured with this
list, and adding a word changes rankings."""

NAME_PARTICLES = frozenset({"de", "da", "del", "la", "le", "van", "von"})
"""Lower-case particles inside personal names ("Luiz Inácio Lula da Silva", "Ursula von der Leyen")."""
NAME_LINKS = frozenset({"of", "the"}) | NAME_PARTICLES
"""Lower-case words that join capitalised words into one name ("Bank of England", "Vincent van Gogh")."""

NEGATIONS = ("not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot")
"""Words that negate a statement (the suffix "n't" is matched with them: ``grounding.facts``)."""


def alternation(words: Iterable[str]) -> str:
    """``words`` as a regular-expression group of alternatives, in the given order: ``(?:Jan|Feb)``."""
    return "(?:" + "|".join(words) + ")"
