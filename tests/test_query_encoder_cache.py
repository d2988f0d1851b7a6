"""The query encoder's ONNX cache end to end: exported once, read back without torch, rebuilt when damaged.

A tiny model with random weights (``tests.support.tiny_model``) stands in for MiniLM: the export,
the cache and the checks do not depend on what the vectors mean. The real model's start-up is
timed by ``grounded bench startup``, and its second start checked in the slow test at the end.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import index.onnx_cache
from bench.common.server import Server
from bench.perf.startup import parse_ready_line
from index.build import ingest
from index.errors import ModelMismatchError
from index.onnx_cache import ENTRY_FILE, GRAPH_FILE, ONNX_CACHE_ENV, RUNTIME_PACKAGES, CacheKey, cache_key, read_entry
from index.query_encoder import (
    EXPORT_SETTINGS,
    MIN_COSINE,
    OnnxQueryEmbedder,
    load_embedder,
    load_query_encoder,
)
from index.records import Manifest
from ingest.records import ChunkingParams
from tests.support.paths import REPO, SEED_CORPUS

TEXTS = ["Who offered talks?", "the offer, 2024.", "a longer text " * 30, ""]


def _manifest(model: Path, dimension: int = 32) -> Manifest:
    return Manifest(format_version=1, index_version="test", model_id=os.path.abspath(model), dimension=dimension,
                    precision="float32", chunking=ChunkingParams(), faiss_index="flat")


def _load(model: Path, home: Path) -> OnnxQueryEmbedder:
    encoder = load_query_encoder(_manifest(model), cache_home=home)
    assert isinstance(encoder, OnnxQueryEmbedder)
    return encoder


def _entries(home: Path) -> list[Path]:
    return sorted(path for path in home.iterdir() if not path.name.startswith("."))


def test_the_first_load_exports_and_the_second_reads_the_cache(
        tiny_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="index")
    first = _load(tiny_model, tmp_path)
    assert first.origin == "export"
    assert "exporting it once" in caplog.text and "exported and cached" in caplog.text
    (entry,) = _entries(tmp_path)
    caplog.clear()
    second = _load(tiny_model, tmp_path)
    assert second.origin == "cache"
    assert "read from the cache" in caplog.text
    assert _entries(tmp_path) == [entry], "nothing is written on a hit"
    assert (second.model_id, second.dimension, second.precision) == (first.model_id, 32, "float32")
    torch_vectors = load_embedder(str(tiny_model)).encode(TEXTS)
    for vectors in (first.encode(TEXTS), second.encode(TEXTS)):
        assert vectors.shape == (len(TEXTS), 32) and vectors.dtype == np.float32
        assert np.all(np.sum(vectors * torch_vectors, axis=1) >= MIN_COSINE)
    np.testing.assert_allclose(second.encode(TEXTS), first.encode(TEXTS), atol=1e-6)


def test_a_text_gets_the_same_vector_alone_or_in_a_list(tiny_model: Path, tmp_path: Path) -> None:
    encoder = _load(tiny_model, tmp_path)
    together = encoder.encode(TEXTS)
    for row, text in enumerate(TEXTS):
        assert np.array_equal(encoder.encode([text])[0], together[row])
    assert encoder.encode([]).shape == (0, 32)


def test_a_cache_hit_imports_neither_torch_nor_transformers(tiny_model: Path, tmp_path: Path) -> None:
    _load(tiny_model, tmp_path)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from index.records import Manifest\n"
        "from ingest.records import ChunkingParams\n"
        "from index.query_encoder import load_query_encoder\n"
        f"manifest = Manifest(format_version=1, index_version='test', model_id={os.path.abspath(tiny_model)!r}, "
        "dimension=32, precision='float32', chunking=ChunkingParams(), faiss_index='flat')\n"
        f"encoder = load_query_encoder(manifest, cache_home=Path({str(tmp_path)!r}))\n"
        "print(encoder.origin, encoder.encode(['who offered talks?']).shape)\n"
        "print(sorted(name for name in ('torch', 'transformers', 'sentence_transformers') if name in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                               cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert completed.stdout.splitlines() == ["cache (1, 32)", "[]"], completed.stderr


def test_a_damaged_graph_is_exported_again_and_replaced(
        tiny_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _load(tiny_model, tmp_path)
    (entry,) = _entries(tmp_path)
    graph = bytearray((entry / GRAPH_FILE).read_bytes())
    graph[len(graph) // 2] ^= 0xFF
    (entry / GRAPH_FILE).write_bytes(bytes(graph))
    caplog.set_level(logging.INFO, logger="index")
    rebuilt = _load(tiny_model, tmp_path)
    assert rebuilt.origin == "export"
    assert "cannot be used (model.onnx has sha256" in caplog.text and "exporting it again" in caplog.text
    assert _entries(tmp_path) == [entry]
    assert _load(tiny_model, tmp_path).origin == "cache", "the replaced entry is whole"


def test_a_graph_that_no_longer_gives_the_stored_vectors_is_exported_again(
        tiny_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _load(tiny_model, tmp_path)
    (entry,) = _entries(tmp_path)
    record = json.loads((entry / ENTRY_FILE).read_text(encoding="utf-8"))
    record["encoder"]["probe_vectors"][0] = [-value for value in record["encoder"]["probe_vectors"][0]]
    (entry / ENTRY_FILE).write_text(json.dumps(record), encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="index")
    assert _load(tiny_model, tmp_path).origin == "export"
    assert "disagrees with the torch vectors stored at export" in caplog.text
    cached = read_entry(tmp_path, _only_key(tmp_path, tiny_model))
    assert cached is not None and cached.entry.probe_vectors[0][0] == -record["encoder"]["probe_vectors"][0][0]


def _only_key(home: Path, model: Path) -> CacheKey:
    key = cache_key(model, EXPORT_SETTINGS)
    assert (home / key.digest).is_dir()
    return key


def test_another_key_is_never_served_from_this_entry(
        tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load(tiny_model, tmp_path)
    (entry,) = _entries(tmp_path)
    installed = index.onnx_cache.runtime_versions()
    upgraded = tuple((name, version + ".post1" if name == "onnxruntime" else version) for name, version in installed)
    assert [name for name, _ in installed] == list(RUNTIME_PACKAGES)
    monkeypatch.setattr(index.onnx_cache, "runtime_versions", lambda: upgraded)
    assert _load(tiny_model, tmp_path).origin == "export", "another onnxruntime version exports again"
    assert len(_entries(tmp_path)) == 2 and entry in _entries(tmp_path), "the other key's entry is left alone"
    monkeypatch.undo()
    assert _load(tiny_model, tmp_path).origin == "cache"


def test_changed_model_files_are_exported_again(tiny_model: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    home = tmp_path / "onnx"
    _load(model, home)
    config = model / "1_Pooling" / "config.json"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _load(model, home).origin == "export"
    assert len(_entries(home)) == 2


def test_an_unwritable_cache_still_serves_the_export(
        tiny_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    home = tmp_path / "a-file"
    home.write_text("not a folder", encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="index")
    assert _load(tiny_model, home).origin == "export"
    assert "could not be cached" in caplog.text and "the next start exports again" in caplog.text


def test_a_cached_encoder_of_another_model_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    _load(tiny_model, tmp_path)
    with pytest.raises(ModelMismatchError, match="64-d"):
        load_query_encoder(_manifest(tiny_model, dimension=64), cache_home=tmp_path)


def test_the_torch_runtime_and_the_fake_embedder_never_touch_the_cache(tiny_model: Path, tmp_path: Path) -> None:
    encoder = load_query_encoder(_manifest(tiny_model), cache_home=tmp_path, runtime="torch")
    assert not isinstance(encoder, OnnxQueryEmbedder)
    hashing = Manifest(format_version=1, index_version="test", model_id="hashing:64", dimension=64,
                       precision="float32", chunking=ChunkingParams(), faiss_index="flat")
    assert load_query_encoder(hashing, cache_home=tmp_path).model_id == "hashing:64"
    assert not tmp_path.exists() or not _entries(tmp_path)


# --- with the real model (slow) --------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_server_start_reads_the_export_and_answers_the_same(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([SEED_CORPUS], index_dir, load_embedder(None, threads=None))
    body = json.dumps({"question": "Who mediated the talks?", "mode": "hybrid"}).encode("utf-8")
    answers, encoders = [], []
    for _ in range(2):
        with Server(index_dir, extra_env={ONNX_CACHE_ENV: str(tmp_path / "onnx")}) as server:
            encoders.append(parse_ready_line(server.ready_report()["ready_log_line"]).encoder)
            response = server.request("POST", "/query", body=body)
            assert response.status == 200, response.body
            result = json.loads(response.body)
            answers.append((result["answer"], [passage["citation"]["chunk_id"] for passage in result["passages"]]))
    assert encoders == ["export", "cache"]
    assert answers[0] == answers[1]
