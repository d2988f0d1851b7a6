"""What holds across CPUs: an index built under another kernel family (ATEN_CPU_CAPABILITY, the
stand-in for another machine) has the same records, rankings and answers; only vectors and so
``index_version`` differ in the last bits (docs/architecture.md, "What holds ...")."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.gold import load_gold
from index.layout import current_version
from index.load import load_index
from service.engine import EngineConfig, QueryEngine
from service.records import Query
from tests.support.paths import REPO, SEED_CORPUS

RECORD_FILES = ("documents.jsonl", "chunks.jsonl", "sentences.jsonl")


def _ingest(folder: Path, capability: str | None) -> Path:
    environment = dict(os.environ)
    if capability is not None:
        environment["ATEN_CPU_CAPABILITY"] = capability
    subprocess.run([sys.executable, "-m", "grounded", "ingest", str(SEED_CORPUS), "--index", str(folder)],
                   cwd=REPO, env=environment, check=True, capture_output=True, timeout=600)
    version = current_version(folder)
    assert version is not None
    return folder / "versions" / version


def _digest(path: Path) -> str:
    if path.is_dir():
        return hashlib.sha256(b"".join(_digest(child).encode() for child in sorted(path.rglob("*"))
                                       if child.is_file())).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_another_cpu_kernel_family_gives_the_same_records_rankings_and_answers(
        tmp_path: Path, real_embedder: object) -> None:
    native = _ingest(tmp_path / "native", None)
    other = _ingest(tmp_path / "other", "default")
    for name in (*RECORD_FILES, "bm25"):
        assert _digest(native / name) == _digest(other / name), name
    for name in ("chunk_vectors.npy", "sentence_vectors.npy"):
        assert np.allclose(np.load(native / name), np.load(other / name), atol=1e-5), name
    engines = [QueryEngine(load_index(folder.parent.parent), real_embedder, EngineConfig(cache_size=0))  # type: ignore[arg-type]
               for folder in (native, other)]
    for question in load_gold():
        first, second = (engine.query(Query(question=question.question, top_k=5)) for engine in engines)
        assert [p.chunk_id for p in first.passages] == [p.chunk_id for p in second.passages], question.query_id
        assert [p.score for p in first.passages] == pytest.approx([p.score for p in second.passages], abs=2e-6)
        assert (first.answer, first.abstention_reason) == (second.answer, second.abstention_reason)
