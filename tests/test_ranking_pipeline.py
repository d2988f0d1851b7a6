"""The ranking pipeline: a new stage plugs in with one line, knobs are enumerated from one config."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import pytest

from index.load import load_index
from ingest.embedding import HashingEmbedder
from ranking import (
    Phase,
    QueryContext,
    RankingConfig,
    RankingPipeline,
    RankingState,
    knob_names,
    knob_value,
    knobs,
    parse_value,
    with_knobs,
)
from ranking.config import resolve_knob
from ranking.stages import AnswerCandidates, Decrowd, default_stages
from service.engine import EngineConfig, QueryEngine
from service.records import Query

QUESTION = "Who mediated the talks between the government and the opposition?"


@dataclass(frozen=True, slots=True)
class ReverseStage:
    """A toy rescoring stage: it reverses the ranked passages and leaves a note."""

    phase: Phase = "rescore"

    def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
        return replace(state, passages=tuple(reversed(state.passages)), notes=(("reverse", "reversed"),))


def test_a_new_stage_is_one_line_where_the_pipeline_is_assembled(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    served = QueryEngine(index, HashingEmbedder(384), EngineConfig(cache_size=0))
    plugged = QueryEngine(index, HashingEmbedder(384), EngineConfig(cache_size=0),
                          pipeline=RankingPipeline(default_stages()).with_stage(ReverseStage(), before=Decrowd))
    query = Query(question=QUESTION, top_k=5)
    before, after = served.query(query), plugged.query(query)
    assert [stage.__class__.__name__ for stage in plugged.pipeline.stages] == [
        "FirstStage", "SentenceRescore", "ReverseStage", "Decrowd", "AnswerCandidates", "AnswerSelection"]
    # The toy stage changed the ranking that de-crowding and the answer then worked from.
    assert [p.chunk_id for p in after.passages] != [p.chunk_id for p in before.passages]
    assert after.passages[0].score <= after.passages[-1].score


def test_the_served_pipeline_runs_every_stage_once_per_query(hashing_seed_index: Path) -> None:
    calls: list[str] = []

    @dataclass(frozen=True, slots=True)
    class Counting:
        inner: object
        phase: Phase = "search"

        def run(self, context: QueryContext, state: RankingState, config: RankingConfig) -> RankingState:
            calls.append(type(self.inner).__name__)
            return self.inner.run(context, state, config)  # type: ignore[attr-defined, no-any-return]

    stages = [Counting(stage) for stage in default_stages()]
    engine = QueryEngine(load_index(hashing_seed_index), HashingEmbedder(384), EngineConfig(cache_size=0),
                         pipeline=RankingPipeline(stages))
    result = engine.query(Query(question=QUESTION, top_k=3))
    assert calls == [type(stage).__name__ for stage in default_stages()]
    assert result.answer is not None or result.abstention_reason


def test_every_knob_has_a_default_and_a_meaning() -> None:
    listed = knobs()
    assert len({item.name for item in listed}) == len(listed)
    config = RankingConfig()
    for item in listed:
        assert item.meaning and len(item.meaning.splitlines()) == 1
        assert knob_value(config, item.name) == item.default
    sections = {section.name: getattr(config, section.name) for section in fields(config)}
    assert sum(len(fields(section)) for section in sections.values()) == len(listed)


def test_knobs_are_set_from_text_and_checked() -> None:
    config = with_knobs(RankingConfig(), {"retrieval.alpha": "0.4", "answer.type_margin": "none",
                                          "retrieval.rescore": "false", "retrieval.fusion": "rrf"})
    assert (config.retrieval.alpha, config.answer.type_margin) == (0.4, None)
    assert (config.retrieval.rescore, config.retrieval.fusion) == (False, "rrf")
    assert resolve_knob("alpha") == "retrieval.alpha"
    assert "agreement.neighbours" in knob_names()
    with pytest.raises(ValueError, match="unknown knob"):
        with_knobs(RankingConfig(), {"retrieval.nonsense": 1})
    with pytest.raises(ValueError, match="one of"):
        parse_value("retrieval.fusion", "average")
    with pytest.raises(ValueError, match="true or false"):
        parse_value("retrieval.rescore", "maybe")


def test_the_agreement_knob_reaches_the_answer_candidates(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    engine = QueryEngine(index, HashingEmbedder(384), EngineConfig(cache_size=0))
    vector = engine.embedder.encode(["What did the US offer?"])[0]
    context = engine._context("What did the US offer?", ("us", "offer"), vector, 5, None)

    def agreements(neighbours: int) -> list[float]:
        config = with_knobs(RankingConfig(), {"agreement.neighbours": neighbours})
        state = engine.pipeline.run(context, config).state
        assert isinstance(engine.pipeline.stages[3], AnswerCandidates)
        return [candidate.agreement for candidate in state.sentences]

    closest, mean_of_three = agreements(1), agreements(3)
    # The closest other-document sentence is at least the mean of the three closest.
    assert all(one >= three - 1e-9 for one, three in zip(closest, mean_of_three, strict=True))
    assert any(one > three for one, three in zip(closest, mean_of_three, strict=True))
