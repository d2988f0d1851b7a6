"""The BM25 analyzer: which terms index and query time take from a text (pure).

Built on the project's one vocabulary (``text``: stop words, Snowball stems, words, name links);
what it adds is search-specific: acronyms survive their stop-word spelling, and an indexed name
also yields its initials. Answer scoring uses the same terms.
"""

from __future__ import annotations

import re

from text import NAME_LINKS, STOPWORDS, normalize_initialisms, split_words, stem

# A run of capitalised words, "of" / "of the" allowed inside: "United States", "Bank of England".
_NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ \t]+(?:of[ \t]+(?:the[ \t]+)?)?[A-Z][a-z]+)+\b")


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
        name_words = run.split()
        while name_words and name_words[0].lower() in STOPWORDS:
            name_words.pop(0)
        letters = "".join(word[0] for word in name_words if word not in NAME_LINKS)
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
    terms = [word.lower() for word in split_words(normalized)
             if word.lower() not in STOPWORDS or is_acronym(word)]
    if initials:
        terms += name_initials(normalized)
    return stem(terms)
