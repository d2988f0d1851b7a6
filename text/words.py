"""Words: the project's word tokenizers, its stemmer and initialism folding (pure).

Three tokenizers, because three kinds of word are needed; every stage takes its words from here:

- ``WORD`` (``\\w+``): every run of letters, digits and underscores. Search terms
  (``split_words``: those of two characters or more), duplicate-line and shingle keys
  (``ingest.dedup``), the hashing test embedder and the claim checker's word sets.
- ``LETTERS`` (``[^\\W\\d_]+``): runs of letters only, for rules about prose rather than
  identifiers: the names in a reporting credit (``ingest.furniture``) and the cohesion
  vocabulary (``long_words``), where "2021" or "h264" would not be a word of the article.
- ``COMPOUND_WORD`` (``[\\w'’-]+``): a word with its apostrophes and hyphens ("O'Brien",
  "Coca-Cola", "Venezuela’s"), where splitting one would make two: capitalised words for answer
  typing (``ranking.answer_types``) and names for the claim checker (``grounding.facts``).
"""

from __future__ import annotations

import re
from functools import lru_cache

WORD = re.compile(r"\w+")
LETTERS = re.compile(r"[^\W\d_]+")
COMPOUND_WORD = re.compile(r"[\w'’-]+")
# "U.S." and "U.N." must meet "US" and "UN": drop the periods of initialisms before tokenising.
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")


def split_words(text: str) -> list[str]:
    """The search words of ``text`` as written: runs of two or more word characters.

    The same words as bm25s's token pattern ``(?u)\\b\\w\\w+\\b`` (tests/test_analysis.py checks it).
    """
    return [word for word in WORD.findall(text) if len(word) > 1]


def long_words(text: str, least: int) -> list[str]:
    """Runs of at least ``least`` letters of ``text``, in order."""
    return [word for word in LETTERS.findall(text) if len(word) >= least]


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
