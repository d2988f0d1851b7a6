"""What the ranking pipeline produces: scored passages, candidate sentences, the answer or abstention."""

from __future__ import annotations

from dataclasses import dataclass

from index import Sentence


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredPassage:
    """A retrieved chunk row with its current score and the sentence that matched best."""

    row: int
    score: float
    best_sentence_row: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateSentence:
    """A sentence of a top passage with its cosine to the question and its content terms."""

    sentence: Sentence
    similarity: float
    terms: frozenset[str]
    passage_rank: int
    agreement: float = 0.0
    reader: float = 0.0
    """The trained reader's score of the sentence (0.0 when no reader read it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """One answer sentence and where it is: ``document.text[start:end] == text``.

    ``pages`` are the numbers of the PDF pages the range lies on (two when it crosses a page
    break; ``ingest.pages``), () for a document without pages.
    """

    doc_id: str
    start: int
    end: int
    text: str
    passage_rank: int
    pages: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """An extractive answer: its text is its citations' texts joined by a space."""

    text: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerDecision:
    """The answer (or None) with the best sentence score and, when abstaining, why."""

    answer: Answer | None
    best_score: float
    abstention_reason: str | None
