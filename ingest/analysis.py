"""The one English vocabulary of the project: stop words, the Snowball stemmer, words (pure).

BM25 and answer scoring (``index.analysis``, built on this) and page-furniture cohesion
(``ingest.furniture.cohesion``) all analyse text here, so a word means the same thing at every stage.
"""

# Word lists read best as text.
# ruff: noqa: SIM905
from __future__ import annotations

import re
from functools import lru_cache

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

# "U.S." and "U.N." must meet "US" and "UN": drop the periods of initialisms before tokenising.
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_WORD = re.compile(r"(?u)\b\w\w+\b")


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


def split_words(text: str) -> list[str]:
    """The words of ``text`` as written: runs of two or more word characters (bm25s's pattern)."""
    words: list[str] = _WORD.findall(text)
    return words
