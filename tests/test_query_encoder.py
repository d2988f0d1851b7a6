"""The ONNX query encoder: same vectors and answers as torch, and a refusal for what it cannot copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.build import ingest
from index.load import load_index
from index.query_encoder import (
    MIN_COSINE,
    OnnxQueryEmbedder,
    OnnxUnavailableError,
    _supported_layout,
    load_embedder,
    onnx_query_embedder,
)
from service.engine import QueryEngine, load_engine
from service.records import Query
from service.settings import load_settings
from tests.support.paths import REPO

GOLD = REPO / "eval" / "data" / "gold.jsonl"


def _module(name: str, **attributes: Any) -> Any:
    return type(name, (), attributes)()


TRANSFORMER = _module("Transformer", auto_model=object(), tokenizer=object(), do_lower_case=False)


def test_the_layout_it_reproduces_is_accepted() -> None:
    assert _supported_layout([TRANSFORMER, _module("Pooling", pooling_mode="mean")]) is TRANSFORMER
    normalize = _module("Normalize")
    assert _supported_layout([TRANSFORMER, _module("Pooling", pooling_mode="mean"), normalize]) is TRANSFORMER


@pytest.mark.parametrize(("modules", "reason"), [
    ([TRANSFORMER, _module("Pooling", pooling_mode="cls")], "not mean pooling"),
    ([TRANSFORMER, _module("Pooling", pooling_mode="mean"), _module("Dense")], "is not Transformer"),
    ([_module("Transformer", auto_model=object(), tokenizer=object(), do_lower_case=True),
      _module("Pooling", pooling_mode="mean")], "lower-cases"),
    ([TRANSFORMER], "is not Transformer"),
])
def test_other_layouts_are_refused_with_a_reason(modules: list[Any], reason: str) -> None:
    with pytest.raises(OnnxUnavailableError, match=reason):
        _supported_layout(modules)


def test_the_query_runtime_setting_is_validated() -> None:
    assert load_settings().query_runtime == "onnx"
    assert load_settings(query_runtime="torch").query_runtime == "torch"
    with pytest.raises(ValueError, match="query_runtime"):
        load_settings(query_runtime="tensorflow")


# --- with the real model (slow) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_embedder(real_embedder: Any) -> OnnxQueryEmbedder:
    return onnx_query_embedder(real_embedder, threads=1)


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.slow
def test_onnx_vectors_equal_torch_vectors_on_every_gold_question(onnx_embedder: OnnxQueryEmbedder,
                                                                 real_embedder: Any) -> None:
    for question in _questions():
        onnx_vector = onnx_embedder.encode([question])
        torch_vector = real_embedder.encode([question])
        assert onnx_vector.shape == torch_vector.shape == (1, real_embedder.dimension)
        assert onnx_vector.dtype == np.float32
        assert abs(float(np.linalg.norm(onnx_vector)) - 1.0) < 1e-5
        assert float(onnx_vector[0] @ torch_vector[0]) >= MIN_COSINE, question


@pytest.mark.slow
def test_lists_are_encoded_one_text_at_a_time_like_torch(onnx_embedder: OnnxQueryEmbedder,
                                                         real_embedder: Any) -> None:
    texts = ["first sentence of a batch", "second, longer sentence of the same batch"]
    together = onnx_embedder.encode(texts)
    assert np.array_equal(together, np.vstack([onnx_embedder.encode([text]) for text in texts]))
    assert np.all(np.sum(together * real_embedder.encode(texts), axis=1) >= MIN_COSINE)
    assert onnx_embedder.encode([]).shape == (0, real_embedder.dimension)
    assert (onnx_embedder.model_id, onnx_embedder.dimension, onnx_embedder.precision) == (
        real_embedder.model_id, real_embedder.dimension, real_embedder.precision)


@pytest.mark.slow
def test_a_bfloat16_model_keeps_torch() -> None:
    with pytest.raises(OnnxUnavailableError, match="bfloat16"):
        onnx_query_embedder(load_embedder(None, precision="bfloat16", threads=1))


@pytest.mark.slow
def test_the_served_engine_answers_every_gold_question_as_torch_does(
        tmp_path_factory: pytest.TempPathFactory, seed_corpus: Path, real_embedder: Any) -> None:
    index_dir = tmp_path_factory.mktemp("onnx") / "index"
    ingest([seed_corpus], index_dir, real_embedder)
    served = load_engine(index_dir)  # the server's default: query_runtime="onnx"
    assert isinstance(served.embedder, OnnxQueryEmbedder)
    assert not isinstance(load_engine(index_dir, query_runtime="torch").embedder, OnnxQueryEmbedder)
    reference = QueryEngine(load_index(index_dir), real_embedder)
    for question in _questions():
        onnx_result = served.query(Query(question=question), use_cache=False)
        torch_result = reference.query(Query(question=question), use_cache=False)
        assert [p.chunk_id for p in onnx_result.passages] == [p.chunk_id for p in torch_result.passages], question
        assert onnx_result.answer == torch_result.answer, question
