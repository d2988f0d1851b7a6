"""Text analysis shared by BM25 and answer scoring: terms, stop words, stemming (pure)."""

from __future__ import annotations

import re
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN_PLUS

# "U.S." and "U.N." must meet "US" and "UN": drop the periods of initialisms before tokenising.
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_TERM = re.compile(r"(?u)\b\w\w+\b")
# A run of capitalised words, "of" / "of the" allowed inside: "United States", "Bank of England".
_NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ \t]+(?:of[ \t]+(?:the[ \t]+)?)?[A-Z][a-z]+)+\b")
_NAME_LINKS = frozenset({"of", "the"})
QUESTION_WORDS = frozenset({"what", "who", "whom", "whose", "which", "when", "where", "why", "how",
                            "did", "does", "do", "is", "are", "was", "were", "according"})
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | QUESTION_WORDS


def normalize_initialisms(text: str) -> str:
    """Rewrite ``U.S.`` as ``US`` (for term matching only; stored text is never changed)."""
    return _INITIALISM.sub(lambda match: match.group().replace(".", ""), text)


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(words: list[str]) -> list[str]:
    """Snowball English stems of ``words``."""
    stems: list[str] = _stemmer().stemWords(words)  # type: ignore[attr-defined]
    return stems


def is_acronym(word: str) -> bool:
    """``US``, ``EU``, ``WHO``: 2 to 5 capital letters. Such a word names something even when its
    lower-cased form is a stop word ("us", "who", "it")."""
    return 2 <= len(word) <= 5 and word.isalpha() and word.isupper()


def name_initials(text: str) -> list[str]:
    """The initials of multi-word capitalised names, lower-cased: "The United States and the
    European Union" gives ``["us", "eu"]``, so a text that spells a name out meets a question
    that abbreviates it. Leading capitalised stop words ("The", "In") are not part of a name."""
    initials: list[str] = []
    for run in _NAME_RUN.findall(text):
        words = run.split()
        while words and words[0].lower() in STOPWORDS:
            words.pop(0)
        letters = "".join(word[0] for word in words if word not in _NAME_LINKS)
        if 2 <= len(letters) <= 5:
            initials.append(letters.lower())
    return initials


def content_terms(text: str, *, initials: bool = True) -> list[str]:
    """Lower-cased, stemmed terms of ``text`` without stop words or question words.

    Acronyms are kept even when they spell a stop word, so "What did the WHO say?" searches for
    "who" (which the question word, in lower case, never produces). With ``initials`` (the
    default, for indexed text) a spelled-out name adds its initials (``name_initials``), so a
    passage saying "United States" also yields "us" and meets a question that says "US". Questions
    are analysed with ``initials=False``: their own acronyms are written as such, and the initials
    of a name in a question ("Donald Trump" -> "dt") would be a term no passage needs to contain.
    """
    normalized = normalize_initialisms(text)
    words = [word.lower() for word in _TERM.findall(normalized)
             if word.lower() not in STOPWORDS or is_acronym(word)]
    if initials:
        words += name_initials(normalized)
    return stem(words)
