"""The built-in stages of the ranking pipeline, in the order ``default_stages()`` runs them.

first stage (dense and BM25 candidates, fused) -> sentence rescoring (second stage) -> de-crowding
-> answer candidates (sentences of the top passages, with cross-document agreement) -> answer
selection and abstention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ranking.agreement import with_agreement
from ranking.answer import is_answer_like, numbers_in, select_answer
from ranking.config import RankingConfig, RetrievalConfig
from ranking.pipeline import Phase, QueryContext, RankingPipeline, RankingState, Stage
from ranking.reader import CrossEncoderRerank, PairScorer, ReaderAnswer
from ranking.records import AnswerDecision, CandidateSentence, ScoredPassage
from ranking.retrieval import SentenceSimilarities, diversify, first_stage, rescore

if TYPE_CHECKING:
    from index import Index


@dataclass(frozen=True, slots=True)
class FirstStage:
    """Dense and BM25 candidates of the question, fused (``retrieval.mode``, ``.fusion``)."""

    phase: Phase = "search"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        if context.rows is not None and len(context.rows) == 0:
            return replace(state, candidates=())
        hits = first_stage(context.index, context.question, context.query_vector, config.retrieval, context.rows)
        return replace(state, candidates=tuple(hits))


@dataclass(frozen=True, slots=True)
class SentenceRescore:
    """Every candidate scored by its fused score and its best sentence's cosine (``retrieval.rescore``)."""

    phase: Phase = "rescore"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        if not config.retrieval.rescore:
            return replace(state, passages=tuple(ScoredPassage(row=hit.row, score=hit.score, best_sentence_row=None)
                                                 for hit in state.candidates))
        best = {hit.row: context.similarities.best(hit.row) for hit in state.candidates}
        return replace(state, passages=tuple(rescore(state.candidates, best, config.retrieval.sentence_weight)))


@dataclass(frozen=True, slots=True)
class Decrowd:
    """The best ``top_k`` passages, demoting near-repeats and a document's passages past its cap."""

    phase: Phase = "rescore"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        retrieval = config.retrieval
        similarities = context.similarities
        protected = frozenset(state.protected_rows)
        if retrieval.rescore or state.sentence_scores:
            top = diversify(state.passages, context.index.chunks, context.top_k, retrieval.max_overlap,
                            retrieval.max_per_document, protected=protected)
            return replace(state, passages=tuple(top))
        # Without the second stage, best sentences are computed only for the passages looked at.
        top = diversify(state.passages, context.index.chunks, context.top_k, retrieval.max_overlap,
                        retrieval.max_per_document, best_sentence=lambda row: similarities.best(row)[0],
                        protected=protected)
        return replace(state, passages=tuple(replace(passage, best_sentence_row=similarities.best(passage.row)[0])
                                             for passage in top))


@dataclass(frozen=True, slots=True)
class AnswerCandidates:
    """Every sentence of the first ``answer.from_passages`` passages, with its cosine and agreement."""

    phase: Phase = "answer"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        if state.decision is not None:
            return state
        return replace(state, sentences=tuple(answer_candidates(context, state.passages, config,
                                                                dict(state.sentence_scores))))


def answer_candidates(context: QueryContext, passages: tuple[ScoredPassage, ...] | list[ScoredPassage],
                      config: RankingConfig,
                      reader_scores: Mapping[int, float] | None = None) -> list[CandidateSentence]:
    """The sentences an answer is chosen from: every sentence of the first ``from_passages``
    passages, with its cosine to the question, (when weighted) its agreement with other documents and
    (when the reader read it) the reader's score."""
    read = reader_scores or {}
    index = context.index
    candidates: list[CandidateSentence] = []
    limit = config.answer.from_passages
    # A sentence shared by overlapping passages gets one similarity: a product over another
    # slice of rows can round differently, and the tie must go to the better-ranked passage.
    known: dict[int, float] = {}
    for rank, scored in enumerate(passages[:limit], start=1):
        sentence_rows = index.sentence_rows(scored.row)
        if len(sentence_rows) == 0:
            continue
        similarities = context.similarities.of_chunk(scored.row)
        for offset, row in enumerate(sentence_rows):
            similarity = known.setdefault(row, float(similarities[offset]))
            candidates.append(CandidateSentence(
                sentence=index.sentences[row], similarity=similarity,
                terms=context.sentence_terms(row), passage_rank=rank, reader=read.get(row, 0.0)))
    if config.answer.agreement_weight and candidates:
        candidates = with_agreement(index, candidates, list(passages), limit, config.agreement.neighbours)
    return candidates


@dataclass(frozen=True, slots=True)
class AnswerSelection:
    """One to three sentences, or an abstention with its reason (``answer.*``)."""

    phase: Phase = "answer"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        if state.decision is not None:
            return state
        question_terms = context.index.term_weights(dict.fromkeys(context.terms))
        blending = bool(state.sentence_scores) and config.rerank.enabled and config.rerank.use == "blend"
        decision = select_answer(question_terms, list(state.sentences), config.answer,
                                 required_numbers=numbers_in(context.question), question=context.question,
                                 reader_weight=config.rerank.sentence_weight if blending else 0.0)
        if blending and decision.answer is not None:
            decision = reader_abstention(decision, state.sentences, config)
        return replace(state, decision=decision)


def reader_abstention(decision: AnswerDecision, sentences: Sequence[CandidateSentence],
                      config: RankingConfig) -> AnswerDecision:
    """The rules' answer, or an abstention when the reader read every candidate and scored none of the
    answerable ones as high as ``rerank.min_score`` (the reader's calibrated "the corpus does not answer")."""
    best = max((candidate.reader for candidate in sentences
                if is_answer_like(candidate.sentence.text, config.answer.min_words)), default=0.0)
    if best >= config.rerank.min_score:
        return decision
    return AnswerDecision(answer=None, best_score=decision.best_score, abstention_reason=(
        f"the corpus does not seem to answer this: the reader's best sentence scores {best:.2f}, "
        f"below the answer threshold {config.rerank.min_score:.2f}"))


def default_stages(reader: PairScorer | None = None) -> tuple[Stage, ...]:
    """The served pipeline, in order: one line per stage (the reader's two only when one is loaded)."""
    return tuple(stage for stage in (
        FirstStage(),
        SentenceRescore(),
        CrossEncoderRerank(reader) if reader is not None else None,
        Decrowd(),
        ReaderAnswer() if reader is not None else None,
        AnswerCandidates(),
        AnswerSelection(),
    ) if stage is not None)


def passage_stages() -> tuple[Stage, ...]:
    """The stages that rank passages (the served pipeline up to de-crowding)."""
    return tuple(stage for stage in default_stages() if stage.phase != "answer")


def retrieve(index: Index, question: str, query_vector: npt.NDArray[np.float32], *, top_k: int,
             config: RetrievalConfig, rows: npt.NDArray[np.int64] | None = None,
             similarities: SentenceSimilarities | None = None) -> list[ScoredPassage]:
    """The ranked passages of ``question`` alone (no answer): the passage stages of the pipeline."""
    context = QueryContext(index=index, question=question, terms=(), query_vector=query_vector, top_k=top_k,
                           rows=rows, similarities=similarities or SentenceSimilarities(index, query_vector),
                           sentence_terms=lambda row: frozenset())
    run = RankingPipeline(passage_stages()).run(context, RankingConfig(retrieval=config))
    return list(run.state.passages)
