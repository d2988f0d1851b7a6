"""The trained reader: a cross-encoder scores (question, sentence with its context) pairs, and
those scores rerank the top passages and choose the answer.

One model does both jobs (a passage scores as its best-scoring sentence, "MaxP"): the pool is
the best sentence of each of the first ``rerank.passages`` passages plus the ``rerank.sentences``
best sentences among them by the rules' relevance, so the model reads ~15-25 short windows
instead of 20 whole passages (docs/models.md measures the cost). The pool, the windows and the
choice of answer are pure functions; the model is any ``PairScorer``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from ranking.answer import is_answer_like, numbers_in, relevance
from ranking.config import RankingConfig
from ranking.pipeline import Phase, QueryContext, RankingState
from ranking.records import Answer, AnswerDecision, CandidateSentence, Citation, ScoredPassage

if TYPE_CHECKING:
    from index import Index


class PairScorer(Protocol):
    """A cross-encoder: one probability-like score in [0, 1] per (question, text) pair."""

    @property
    def name(self) -> str:
        """What scored (the model's name and version), reported with every response."""
        ...

    def score(self, question: str, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Scores of ``texts`` against ``question``, in order."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSentence:
    """A sentence the reader reads: its row, the passage it came from and its rules relevance."""

    row: int
    passage_row: int
    relevance: float


def sentence_window(index: Index, row: int) -> str:
    """What the reader reads for sentence ``row``: the sentence, then its previous sentence as context.

    The previous sentence resolves "it", "the offer", "he" in the sentence; it is appended after a
    marker so the model reads the sentence itself first. ``training.pairs`` builds the same text.
    """
    sentence = index.sentences[row]
    if row > 0:
        previous = index.sentences[row - 1]
        if previous.doc_id == sentence.doc_id and previous.end <= sentence.start:
            return join_window(sentence.text, previous.text)
    return sentence.text


def join_window(sentence: str, previous: str | None) -> str:
    """The reader's input text for a sentence and its previous sentence (None: the first one)."""
    return sentence if not previous else f"{sentence} [context: {previous}]"


def sentence_pool(context: QueryContext, passages: Sequence[ScoredPassage], config: RankingConfig,
                  question_terms: Mapping[str, float]) -> list[PoolSentence]:
    """The sentences the reader scores, from the first ``rerank.passages`` passages: each passage's
    best sentence by rules relevance, plus the ``rerank.sentences`` best overall (each row once)."""
    index = context.index
    best_of_passage: dict[int, PoolSentence] = {}
    everything: dict[int, PoolSentence] = {}
    for scored in passages[: config.rerank.passages]:
        rows = index.sentence_rows(scored.row)
        similarities = context.similarities.of_chunk(scored.row)
        for offset, row in enumerate(rows):
            candidate = CandidateSentence(sentence=index.sentences[row], similarity=float(similarities[offset]),
                                          terms=context.sentence_terms(row), passage_rank=1)
            pooled = PoolSentence(row=row, passage_row=scored.row,
                                  relevance=relevance(candidate, question_terms, config.answer))
            everything.setdefault(row, pooled)
            current = best_of_passage.get(scored.row)
            if current is None or pooled.relevance > current.relevance:
                best_of_passage[scored.row] = pooled
    ranked = sorted(everything.values(), key=lambda item: (-item.relevance, item.row))
    chosen = {item.row: item for item in best_of_passage.values()}
    for item in ranked[: config.rerank.sentences]:
        chosen.setdefault(item.row, item)
    return sorted(chosen.values(), key=lambda item: item.row)


def rerank_passages(passages: Sequence[ScoredPassage], sentence_scores: Mapping[int, float],
                    pool: Sequence[PoolSentence], limit: int) -> list[ScoredPassage]:
    """The first ``limit`` passages reordered by their best pool sentence's score (their new score),
    ties by the old order; the rest follow in their old order with scores below every reranked one."""
    best: dict[int, tuple[float, int]] = {}
    for item in pool:
        value = sentence_scores[item.row]
        if item.passage_row not in best or value > best[item.passage_row][0]:
            best[item.passage_row] = (value, item.row)
    head = list(passages[:limit])
    order = sorted(range(len(head)), key=lambda i: (-best.get(head[i].row, (-1.0, 0))[0], i))
    reranked = [replace(head[i], score=best.get(head[i].row, (-1.0, 0))[0],
                        best_sentence_row=best.get(head[i].row, (0.0, head[i].best_sentence_row))[1])
                for i in order]
    floor = min((passage.score for passage in reranked), default=0.0)
    tail = [replace(passage, score=floor - 1.0 - position / max(len(passages), 1))
            for position, passage in enumerate(passages[limit:])]
    return reranked + tail


def blend_passages(passages: Sequence[ScoredPassage], sentence_scores: Mapping[int, float],
                   pool: Sequence[PoolSentence], weight: float) -> list[ScoredPassage]:
    """Each passage's score plus ``weight`` times its best pool sentence's reader score (a passage
    the reader did not read gains nothing), all re-sorted by the new score, ties by the old order."""
    best: dict[int, float] = {}
    for item in pool:
        best[item.passage_row] = max(best.get(item.passage_row, 0.0), sentence_scores[item.row])
    blended = [replace(passage, score=passage.score + weight * best.get(passage.row, 0.0)) for passage in passages]
    order = sorted(range(len(blended)), key=lambda i: (-blended[i].score, i))
    return [blended[i] for i in order]


def read_answer(index: Index, question: str, sentence_scores: Mapping[int, float],
                passages: Sequence[ScoredPassage], config: RankingConfig) -> AnswerDecision:
    """Up to ``answer.max_sentences`` sentences the reader scores highest, or an abstention when
    the best is below ``rerank.min_score``; only declarative sentences that hold every number the
    question names, inside a returned passage, are eligible."""
    required = numbers_in(question)
    rank_of: dict[int, int] = {}
    for rank, passage in enumerate(passages, start=1):
        for row in index.sentence_rows(passage.row):
            rank_of.setdefault(row, rank)
    eligible = sorted(
        ((value, row) for row, value in sentence_scores.items()
         if row in rank_of and is_answer_like(index.sentences[row].text, config.answer.min_words)
         and required <= numbers_in(index.sentences[row].text)),
        key=lambda item: (-item[0], item[1]))
    if not eligible:
        reason = ("no retrieved sentence mentions " + ", ".join(sorted(required)) + ", which the question asks about"
                  if required else "no retrieved passage contains a sentence to answer from")
        return AnswerDecision(answer=None, best_score=0.0, abstention_reason=reason)
    best_score = eligible[0][0]
    if best_score < config.rerank.min_score:
        return AnswerDecision(answer=None, best_score=best_score, abstention_reason=(
            f"the corpus does not seem to answer this: the reader's best sentence scores {best_score:.2f}, "
            f"below the answer threshold {config.rerank.min_score:.2f}"))
    chosen: list[int] = []
    seen: set[str] = set()
    for value, row in eligible:
        if len(chosen) == config.answer.max_sentences or value < config.rerank.keep_ratio * best_score:
            break
        key = " ".join(index.sentences[row].text.casefold().split())
        if key not in seen:
            seen.add(key)
            chosen.append(row)
    chosen.sort(key=lambda row: (rank_of[row], index.sentences[row].doc_id, index.sentences[row].start))
    citations = tuple(Citation(doc_id=index.sentences[row].doc_id, start=index.sentences[row].start,
                               end=index.sentences[row].end, text=index.sentences[row].text,
                               passage_rank=rank_of[row]) for row in chosen)
    return AnswerDecision(answer=Answer(text=" ".join(c.text for c in citations), citations=citations),
                          best_score=best_score, abstention_reason=None)


@dataclass(frozen=True, slots=True)
class CrossEncoderRerank:
    """Scores the sentence pool with the reader and reorders the first ``rerank.passages`` passages."""

    scorer: PairScorer
    phase: Phase = "rescore"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        if not config.rerank.enabled or not state.passages:
            return state
        question_terms = context.index.term_weights(dict.fromkeys(context.terms))
        pool = sentence_pool(context, state.passages, config, question_terms)
        if not pool:
            return state
        windows = [sentence_window(context.index, item.row) for item in pool]
        values = self.scorer.score(context.question, windows)
        scores = {item.row: float(value) for item, value in zip(pool, values, strict=True)}
        if config.rerank.use == "blend":
            passages = blend_passages(state.passages, scores, pool, config.rerank.passage_weight)
        else:
            passages = rerank_passages(state.passages, scores, pool, config.rerank.passages)
        return replace(state, passages=tuple(passages), sentence_scores=tuple(scores.items()),
                       protected_rows=_answer_rows(scores, pool),
                       notes=(*state.notes, ("reranker", self.scorer.name)))


def _answer_rows(scores: Mapping[int, float], pool: Sequence[PoolSentence]) -> tuple[int, ...]:
    """The passage of the reader's best sentence: de-crowding must keep it (the only one that answers)."""
    if not scores:
        return ()
    best_row = max(scores, key=lambda row: (scores[row], -row))
    return tuple(item.passage_row for item in pool if item.row == best_row)[:1]


@dataclass(frozen=True, slots=True)
class ReaderAnswer:
    """The answer from the reader's sentence scores alone (``rerank.use`` replace; when blending, or
    when the reader did not run, the rules' answer stages read its scores as one more feature)."""

    phase: Phase = "answer"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        if not state.sentence_scores or not config.rerank.enabled or config.rerank.use != "replace":
            return state
        decision = read_answer(context.index, context.question, dict(state.sentence_scores),
                               state.passages, config)
        return replace(state, decision=decision)
