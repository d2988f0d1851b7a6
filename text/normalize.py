"""Folding for comparison: two spellings of the same words become one string (pure).

Answers written by language models differ from their sources in ways a reader does not see: a
straight apostrophe for a curly one, an accent typed as a separate combining mark, an emoji. The
claim checker compares claims with evidence only after ``fold``; stored and indexed text is never
folded (offsets into it must stay exact).
"""

from __future__ import annotations

import unicodedata

import emoji

_QUOTES = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
})


def fold(text: str) -> str:
    """``text`` in NFKC form, with typographic quotes and apostrophes as ``'`` and ``"`` and without emoji.

    NFKC composes combining marks ("e" + U+0301 becomes "é") and unfolds compatibility forms
    (ligatures, full-width digits, no-break spaces). Emoji (with their skin-tone, keycap and
    joiner sequences) are removed: they carry no fact the evidence could state.
    """
    composed = unicodedata.normalize("NFKC", text)
    if not composed.isascii():
        composed = emoji.replace_emoji(composed.translate(_QUOTES), replace="")
    return composed
