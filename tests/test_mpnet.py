"""The real all-mpnet-base-v2 preset, when installed (``grounded models install mpnet``); slow."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.build import ingest
from index.query_encoder import OnnxQueryEmbedder
from ingest.embedding import SentenceTransformerEmbedder, load_embedder
from ingest.errors import ModelLoadError
from ingest.models import MPNET, preset_path
from service.engine import load_engine
from service.records import Query

pytestmark = pytest.mark.slow


def _install_problem() -> str | None:
    """Why mpnet cannot be loaded here (the preset's own message), or ``None`` when it is installed."""
    try:
        preset_path(MPNET)
    except ModelLoadError as error:
        return str(error)
    return None


_PROBLEM = _install_problem()
requires_mpnet = pytest.mark.skipif(_PROBLEM is not None, reason=f"skipped: {_PROBLEM}")


@pytest.fixture(scope="module")
def mpnet() -> SentenceTransformerEmbedder:
    embedder = load_embedder("mpnet", threads=None)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@requires_mpnet
def test_preset_loads_768_d_unit_vectors_under_its_identity(mpnet: SentenceTransformerEmbedder) -> None:
    assert mpnet.model_id == "sentence-transformers/all-mpnet-base-v2"
    assert mpnet.dimension == 768 and mpnet.max_seq_length == 384
    vectors = mpnet.encode(["Thousands emigrated after the war.", "A post-war exodus of citizens.",
                            "The match ended in a draw."])
    assert vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@requires_mpnet
def test_index_built_with_mpnet_serves_without_naming_the_model(
        tmp_path: Path, seed_corpus: Path, mpnet: SentenceTransformerEmbedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = sorted(seed_corpus.glob("*.txt"))[0]
    shutil.copy(first, corpus / first.name)
    report = ingest([corpus], tmp_path / "index", mpnet)
    assert report.manifest.model_id == MPNET.model_id and report.manifest.dimension == 768
    engine = load_engine(tmp_path / "index")  # the manifest names the model: no --model
    assert engine.embedder.model_id == MPNET.model_id
    # The ONNX query encoder accepts mpnet's layout (Transformer, mean Pooling, Normalize).
    assert isinstance(engine.embedder, OnnxQueryEmbedder)
    result = engine.query(Query(question="What did the US offer?"))
    assert result.passages and all(passage.doc_id == first.stem for passage in result.passages)
