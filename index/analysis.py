"""Text analysis shared by BM25 and answer scoring: terms, stop words, stemming (pure)."""

from __future__ import annotations

import re
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN_PLUS

# "U.S." and "U.N." must meet "US" and "UN": drop the periods of initialisms before tokenising.
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_TERM = re.compile(r"(?u)\b\w\w+\b")
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


def content_terms(text: str) -> list[str]:
    """Lower-cased, stemmed terms of ``text`` without stop words or question words."""
    words = [word for word in _TERM.findall(normalize_initialisms(text).lower()) if word not in STOPWORDS]
    return stem(words)
