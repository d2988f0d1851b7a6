"""Lexical cohesion: how much of a line's vocabulary the article's lead shares.

Terms are the shared analysis (``text``: its stop words and Snowball stems) of words of
five letters or more. Unlike BM25, a plain overlap share has no inverse document frequency to
discount common words, and short words are the common ones (Zipf's law of abbreviation): "use",
"name", "sell", "time" would make an unrelated teaser blurb look like the article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.furniture.lines import TextLine
from text import STOPWORDS, long_words, stem

TERM_LETTERS = 5
PROSE_TERMS = 6  # content words; fewer and a line is a headline or label, too short to judge


def line_terms(content: str) -> tuple[str, ...]:
    """Content-word stems of a line, for lexical cohesion."""
    return tuple(stem([word for word in long_words(content.lower(), TERM_LETTERS) if word not in STOPWORDS]))


def body_lines(lines: Sequence[TextLine], reasons: Sequence[str | None], stop: int) -> list[int]:
    """Indexes of the non-blank, non-furniture lines before ``stop``."""
    return [index for index in range(stop) if not lines[index].is_blank and reasons[index] is None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Cohesion:
    """The article's vocabulary (from its lead) and how cohesive its later body paragraphs are."""

    vocabulary: frozenset[str]
    body_level: float

    def of(self, terms: Sequence[str]) -> float:
        """Share of a line's content words that the article's lead also uses."""
        if not terms:
            return 0.0
        return sum(term in self.vocabulary for term in terms) / len(terms)


def lead_cohesion(lines: Sequence[TextLine], terms: Sequence[tuple[str, ...]],
              body: Sequence[int]) -> Cohesion:
    """Vocabulary of the first 40% of the body (by characters) and the rest's mean cohesion."""
    total = sum(len(lines[index].content) for index in body)
    vocabulary: set[str] = set()
    covered = 0
    rest_start = len(body)
    for position, index in enumerate(body):
        if covered >= 0.4 * total:
            rest_start = position
            break
        vocabulary.update(terms[index])
        covered += len(lines[index].content)
    frozen = frozenset(vocabulary)
    probe = Cohesion(vocabulary=frozen, body_level=0.0)
    level = weighted_cohesion(probe, lines, terms, body[rest_start:])
    return Cohesion(vocabulary=frozen, body_level=level if level is not None else 0.3)


def weighted_cohesion(cohesion: Cohesion, lines: Sequence[TextLine],
                       terms: Sequence[tuple[str, ...]], indexes: Sequence[int]) -> float | None:
    """Character-weighted mean cohesion of the lines among ``indexes`` that are prose."""
    weighted = 0.0
    weight = 0
    for index in indexes:
        if len(terms[index]) >= PROSE_TERMS:
            weighted += cohesion.of(terms[index]) * len(lines[index].content)
            weight += len(lines[index].content)
    return weighted / weight if weight else None

