"""Training pairs for the reader (pure): (question, sentence window, label) rows.

The windows are what the served reader reads (``ranking.reader.join_window``: the sentence, then
its previous sentence as context), taken from the mined pool of each question
(``training.negatives``): positives are the pool's sentences that hold the question's evidence,
negatives the pool's other sentences, most relevant first (the ones the rules would have
chosen). An unanswerable question gives negatives only, which is what teaches the score to mean
"this does not answer". Evidence the pool missed is added as a positive window of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ranking import join_window
from training.records import TrainingQuestion


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    """One training example: a question, a sentence window, and 1.0 (answers) or 0.0."""

    query_id: str
    question: str
    text: str
    label: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolItem:
    """A mined pool sentence: its range, its context's range, its rules relevance and label."""

    doc_id: str
    start: int
    end: int
    context: tuple[int, int] | None
    relevance: float
    label: str


def window_text(document: str, item: PoolItem) -> str:
    """The reader's input for a pool sentence of ``document``."""
    previous = document[item.context[0]:item.context[1]] if item.context is not None else None
    return join_window(document[item.start:item.end], previous)


def question_pairs(question: TrainingQuestion, pool: Sequence[PoolItem], texts: Mapping[str, str], *,
                   negatives: int) -> list[Pair]:
    """The pairs of one question (``texts``: doc_id -> document text of its corpus)."""
    positives = [item for item in pool if item.label != "negative"]
    ranked_negatives = sorted((item for item in pool if item.label == "negative"),
                              key=lambda item: (-item.relevance, item.doc_id, item.start))[:negatives]
    pairs = [Pair(query_id=question.query_id, question=question.question,
                  text=window_text(texts[item.doc_id], item), label=1.0) for item in positives]
    if question.evidence and not positives:
        pairs.extend(Pair(query_id=question.query_id, question=question.question, text=span.text, label=1.0)
                     for span in question.evidence)
    pairs.extend(Pair(query_id=question.query_id, question=question.question,
                      text=window_text(texts[item.doc_id], item), label=0.0) for item in ranked_negatives)
    return pairs
