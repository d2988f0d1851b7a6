"""The face of ``text``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .lexicon import (
    CARDINALS,
    MONTH_ABBREVIATIONS,
    MONTH_NAMES,
    MONTH_NUMBERS,
    NAME_LINKS,
    NAME_PARTICLES,
    NEGATIONS,
    ORDINALS,
    QUANTITY_WORDS,
    QUESTION_WORDS,
    SCALES,
    STOPWORDS,
    STOPWORDS_EN_PLUS,
    WEEKDAYS,
    alternation,
)
from .normalize import fold
from .sentences import count_stops, ends_declaratively, ends_sentence, iter_sentences, opens_sentence, split_sentences
from .words import COMPOUND_WORD, LETTERS, WORD, long_words, normalize_initialisms, split_words, stem

__all__ = [
    "CARDINALS",
    "COMPOUND_WORD",
    "LETTERS",
    "MONTH_ABBREVIATIONS",
    "MONTH_NAMES",
    "MONTH_NUMBERS",
    "NAME_LINKS",
    "NAME_PARTICLES",
    "NEGATIONS",
    "ORDINALS",
    "QUANTITY_WORDS",
    "QUESTION_WORDS",
    "SCALES",
    "STOPWORDS",
    "STOPWORDS_EN_PLUS",
    "WEEKDAYS",
    "WORD",
    "alternation",
    "count_stops",
    "ends_declaratively",
    "ends_sentence",
    "fold",
    "iter_sentences",
    "long_words",
    "normalize_initialisms",
    "opens_sentence",
    "split_sentences",
    "split_words",
    "stem",
]
