"""Words: the project's one word tokenizer, its stemmer and initialism folding (pure).

A word is a run of ``WORD_CHARACTER`` (``\\w``: letters, digits, underscore), defined once here;
every stage takes its words from this module, in one of three views of the same words:

- ``WORD``: the words themselves. Search terms (``split_words``: those of two characters or more),
  duplicate-line and shingle keys (``ingest.dedup``), the hashing test embedder and the claim
  checker's word sets.
- ``letter_runs``: the words with their digits and underscores taken out (each word split at
  them), for rules about prose rather than identifiers: the names in a reporting credit
  (``ingest.furniture``) and the cohesion vocabulary (``long_words``), where "2021" or "h264"
  would not be a word of the article.
- ``COMPOUND_WORD``: words joined by apostrophes and hyphens ("O'Brien", "Coca-Cola",
  "Venezuela’s"), where splitting one would make two: capitalised words for answer typing
  (``ranking.answer_types``) and names for the claim checker (``grounding.facts``).

No other tokenizer exists in the product; the models' own tokenizers (word pieces) are theirs.
"""

from __future__ import annotations

import re
from functools import lru_cache

WORD_CHARACTER = r"\w"
"""What words are made of: the one definition every view below is built from."""
WORD = re.compile(rf"{WORD_CHARACTER}+")
COMPOUND_WORD = re.compile(rf"(?:{WORD_CHARACTER}|['’-])+")
_NOT_LETTERS = re.compile(r"[\d_]+")
# "U.S." and "U.N." must meet "US" and "UN": drop the periods of initialisms before tokenising.
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")


def split_words(text: str) -> list[str]:
    """The search words of ``text`` as written: runs of two or more word characters.

    The same words as bm25s's token pattern ``(?u)\\b\\w\\w+\\b`` (tests/test_analysis.py checks it).
    """
    return [word for word in WORD.findall(text) if len(word) > 1]


def letter_runs(text: str) -> list[str]:
    """The words of ``text`` without their digits and underscores, in order: each word split where
    they stand ("h264x" gives "h" and "x"; "2021" gives nothing)."""
    return [run for word in WORD.findall(text) for run in _NOT_LETTERS.split(word) if run]


def long_words(text: str, least: int) -> list[str]:
    """Runs of at least ``least`` letters of ``text``, in order."""
    return [word for word in letter_runs(text) if len(word) >= least]


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
