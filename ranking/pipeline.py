"""The ranking pipeline: typed stages run in order over one query's shared context.

A stage is any object with a ``phase`` (which timing it counts towards) and
``run(context, state, config) -> state``: it reads what earlier stages left in the frozen
``RankingState`` and returns a new one. ``default_stages()`` is where the pipeline is assembled,
one line per stage; adding a stage is one module and one line there. Every stage runs once, at
the front (the process that holds the question), over whatever ``Index`` the engine holds: a
sharded or Ray-served index gives the same rows, vectors and scores, so a stage works unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from index import Hit
from ranking.config import RankingConfig
from ranking.records import AnswerDecision, CandidateSentence, ScoredPassage

if TYPE_CHECKING:
    from index import Index
    from ranking.retrieval import SentenceSimilarities

Phase = Literal["search", "rescore", "answer"]
PHASES: tuple[Phase, ...] = ("search", "rescore", "answer")


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryContext:
    """What every stage of one query may read: the index, the question and its shared computations."""

    index: Index
    question: str
    """The question's key text (normalised; equal keys give equal results)."""
    terms: tuple[str, ...]
    """The question's analysed terms, as BM25 reads them."""
    query_vector: npt.NDArray[np.float32]
    top_k: int
    rows: npt.NDArray[np.int64] | None
    """Chunk rows the query is restricted to (a ``doc_ids`` filter), or None for all."""
    similarities: SentenceSimilarities
    sentence_terms: Callable[[int], frozenset[str]]
    """Content terms of a sentence row (the engine caches them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RankingState:
    """What the stages have produced so far; each stage returns a new state."""

    candidates: tuple[Hit, ...] = ()
    """First-stage candidates, best first."""
    passages: tuple[ScoredPassage, ...] = ()
    """Ranked passages: all candidates until de-crowding keeps ``top_k``."""
    sentences: tuple[CandidateSentence, ...] = ()
    """Candidate answer sentences of the top passages."""
    sentence_scores: tuple[tuple[int, float], ...] = ()
    """(sentence row, score) pairs from a trained reader, when one ran."""
    protected_rows: tuple[int, ...] = ()
    """Chunk rows de-crowding must keep (the passage holding the reader's best sentence)."""
    decision: AnswerDecision | None = None
    """The answer or the abstention (the first stage that decides wins; later ones keep it)."""
    notes: tuple[tuple[str, str], ...] = ()
    """(stage, remark) pairs a stage adds for the response (which model scored, for example)."""


class Stage(Protocol):
    """One step of the pipeline."""

    @property
    def phase(self) -> Phase:
        """The timing this stage counts towards (``Timings.search``, ``.rescore`` or ``.answer``)."""
        ...

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        """The state after this stage."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RankingRun:
    """A finished run: the final state and the milliseconds spent in each phase."""

    state: RankingState
    milliseconds: dict[Phase, float] = field(default_factory=dict)


class RankingPipeline:
    """Stages run in order; ready when constructed, stateless between queries (thread-safe)."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = tuple(stages)

    def run(self, context: QueryContext, config: RankingConfig) -> RankingRun:
        """Run every stage over ``context``."""
        state = RankingState()
        spent: dict[Phase, float] = dict.fromkeys(PHASES, 0.0)
        for stage in self.stages:
            started = time.perf_counter()
            state = stage.run(context, state, config)
            spent[stage.phase] += (time.perf_counter() - started) * 1000
        return RankingRun(state=state, milliseconds=spent)

    def with_stage(self, stage: Stage, *, before: type | None = None) -> RankingPipeline:
        """A pipeline with ``stage`` inserted before the first stage of type ``before`` (or at the end)."""
        stages = list(self.stages)
        position = next((i for i, existing in enumerate(stages) if before is not None
                         and isinstance(existing, before)), len(stages))
        stages.insert(position, stage)
        return RankingPipeline(stages)
