"""The real model on the seed corpus: the product promise of the README, end to end (slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from index.build import ingest
from index.errors import ModelMismatchError
from index.load import load_index
from service.engine import QueryEngine, load_engine
from service.records import Query

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory, seed_corpus: Path, real_embedder: Any) -> Path:
    index_dir = tmp_path_factory.mktemp("real") / "index"
    ingest([seed_corpus], index_dir, real_embedder)
    return index_dir


@pytest.fixture(scope="module")
def engine(seed_index: Path, real_embedder: Any) -> QueryEngine:
    return QueryEngine(load_index(seed_index), real_embedder)


def furniture_overlap(engine: QueryEngine, doc_id: str, start: int, end: int) -> bool:
    return any(region.is_furniture and region.start < end and start < region.end
               for region in engine.index.documents[doc_id].excluded)


def test_no_chunk_is_truncated_by_the_model(engine: QueryEngine, real_embedder: Any) -> None:
    tokenizer = real_embedder._model.tokenizer
    longest = max(len(tokenizer(chunk.text)["input_ids"]) for chunk in engine.index.chunks)
    assert longest <= real_embedder.max_seq_length


def test_what_did_the_us_offer(engine: QueryEngine) -> None:
    result = engine.query(Query(question="What did the US offer?"))
    assert len({passage.doc_id for passage in result.passages}) >= 3
    assert sum("sanction" in passage.text.lower() for passage in result.passages) >= 3
    for passage in result.passages:
        text = engine.index.documents[passage.doc_id].text
        assert text[passage.start : passage.end] == passage.text
        assert not furniture_overlap(engine, passage.doc_id, passage.start, passage.end)
    assert result.answer is not None
    for citation in result.answer.citations:
        assert engine.index.documents[citation.doc_id].text[citation.start : citation.end] == citation.text
    # The answer is extractive: its sentences are the cited ones, in order, nothing added.
    assert result.answer.text == " ".join(citation.text for citation in result.answer.citations)
    # Every answer sentence names the US ("United States" or "U.S.") or the offer the question asks about.
    for citation in result.answer.citations:
        assert any(word in citation.text for word in ("United States", "U.S.", "US", "offer"))


@pytest.mark.parametrize("question", ["What is the boiling point of water?",
                                      "How do I bake sourdough bread at home?"])
def test_out_of_scope_questions_are_abstained_on(engine: QueryEngine, question: str) -> None:
    result = engine.query(Query(question=question))
    assert result.answer is None
    assert result.abstention_reason


def test_reingest_with_the_real_model_is_byte_identical(seed_index: Path, seed_corpus: Path,
                                                        real_embedder: Any) -> None:
    before = {p: p.read_bytes() for p in sorted(seed_index.rglob("*")) if p.is_file() and "lock" not in p.name}
    report = ingest([seed_corpus], seed_index, real_embedder)
    assert not report.published and report.embedded_texts == 0
    assert {p: p.read_bytes() for p in sorted(seed_index.rglob("*"))
            if p.is_file() and "lock" not in p.name} == before


def test_serving_an_index_built_with_another_model_is_refused(tmp_path: Path, seed_corpus: Path) -> None:
    from ingest.embedding import HashingEmbedder

    ingest([seed_corpus], tmp_path / "hashing", HashingEmbedder())
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2"):
        load_engine(tmp_path / "hashing", model_path="all-MiniLM-L6-v2")
