"""Ingest on a local Ray cluster: the same index_version as one process, incremental, fault-tolerant."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from grounded.cli import main
from index.build import ingest
from index.errors import BuildError
from index.layout import current_version
from index.load import load_index
from index.ray_build import RayOptions, ray_ingest
from ingest.embedding import Embedder, HashingEmbedder, OnRows, PooledVectors, Spans, Vectors
from ingest.sentence_vectors import ENCODED, POOLED
from tests.support.paths import REPO

# Ray Data warns about its own deprecated settings on first use; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """One local cluster for the module, always shut down (no cluster outlives the tests)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def corpus(tmp_path: Path, seed_corpus: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(seed_corpus, folder)
    return folder


def _hashing() -> Embedder:
    return HashingEmbedder()


class KillOnce(HashingEmbedder):
    """The hashing embedder, whose worker process SIGKILLs itself at its first model call."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self._marker = marker

    def _maybe_die(self) -> None:
        try:
            descriptor = os.open(self._marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(descriptor)
        os.kill(os.getpid(), signal.SIGKILL)

    def encode(self, texts: list[str] | tuple[str, ...], *, batch_size: int = 64,  # type: ignore[override]
               progress: bool = False) -> Vectors:
        self._maybe_die()
        return super().encode(texts, batch_size=batch_size, progress=progress)

    def encode_with_spans(self, texts: list[str] | tuple[str, ...], spans: list[Spans] | tuple[Spans, ...],  # type: ignore[override]
                          *, batch_size: int = 64, on_rows: OnRows | None = None) -> PooledVectors:
        self._maybe_die()
        return super().encode_with_spans(texts, spans, batch_size=batch_size, on_rows=on_rows)


class Broken(HashingEmbedder):
    """An embedder whose every model call fails."""

    def encode(self, texts: list[str] | tuple[str, ...], *, batch_size: int = 64,  # type: ignore[override]
               progress: bool = False) -> Vectors:
        raise RuntimeError("model call failed")

    def encode_with_spans(self, *args: object, **kwargs: object) -> PooledVectors:  # type: ignore[override]
        raise RuntimeError("model call failed")


@pytest.mark.parametrize(("method", "batch_sizes"), [(ENCODED, (256,)), (POOLED, (64, 512))])
def test_ray_path_publishes_the_single_process_index_version(cluster: None, corpus: Path, tmp_path: Path,
                                                             method: str, batch_sizes: tuple[int, ...]) -> None:
    local = ingest([corpus], tmp_path / "local", HashingEmbedder(), sentence_method=method)
    for batch_size in batch_sizes:
        report = ray_ingest([corpus], tmp_path / f"ray-{batch_size}", model="hashing:384", load=_hashing,
                            options=RayOptions(actors=2, batch_size=batch_size), sentence_method=method)
        assert report.published
        assert report.manifest.index_version == local.manifest.index_version
        assert report.chunk_count == local.chunk_count and report.rejections == local.rejections


def test_ray_path_publishes_the_single_process_sharded_index(cluster: None, corpus: Path,
                                                             tmp_path: Path) -> None:
    local = ingest([corpus], tmp_path / "local", HashingEmbedder(), shards=3)
    report = ray_ingest([corpus], tmp_path / "ray", model="hashing:384", load=_hashing,
                        options=RayOptions(actors=1), shards=3)
    assert report.published and report.manifest.index_version == local.manifest.index_version
    assert current_version(tmp_path / "ray") == local.manifest.index_version
    again = ray_ingest([corpus], tmp_path / "ray", model="hashing:384", load=_hashing,
                       options=RayOptions(actors=1), shards=3)
    assert not again.published and again.embedded_texts == 0


def test_ray_path_reembeds_only_the_changed_document(cluster: None, corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    options = RayOptions(actors=1)
    first = ray_ingest([corpus], index_dir, model="hashing:384", load=_hashing, options=options,
                       sentence_method=POOLED)
    again = ray_ingest([corpus], index_dir, model="hashing:384", load=_hashing, options=options,
                       sentence_method=POOLED)
    assert not again.published and again.embedded_texts == 0
    target = corpus / "001_3872696573969c47.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("Norway mediated", "Norway brokered"),
                      encoding="utf-8")
    changed = ray_ingest([corpus], index_dir, model="hashing:384", load=_hashing, options=options,
                         sentence_method=POOLED)
    assert changed.published and 0 < changed.embedded_texts < first.embedded_texts
    fresh = ingest([corpus], tmp_path / "fresh", HashingEmbedder(), sentence_method=POOLED)
    assert changed.manifest.index_version == fresh.manifest.index_version


def test_an_actor_killed_while_embedding_is_retried_and_the_index_is_the_same(
        cluster: None, corpus: Path, tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    local = ingest([corpus], tmp_path / "local", HashingEmbedder(), sentence_method=POOLED)
    report = ray_ingest([corpus], tmp_path / "ray", model="hashing:384",
                        load=functools.partial(KillOnce, str(marker)),
                        options=RayOptions(actors=1), sentence_method=POOLED)
    assert marker.exists()  # the actor really died once
    assert report.manifest.index_version == local.manifest.index_version


def test_a_failed_run_publishes_nothing_and_the_previous_version_keeps_serving(
        cluster: None, corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder())
    before = current_version(index_dir)
    (corpus / "new.txt").write_text("A new document that must be embedded before it can be served.\n",
                                    encoding="utf-8")
    with pytest.raises(BuildError, match="model call failed"):
        ray_ingest([corpus], index_dir, model="hashing:384", load=Broken, options=RayOptions(actors=1))
    assert current_version(index_dir) == before
    assert load_index(index_dir).manifest.index_version == before


def test_cli_ingest_with_ray_publishes_the_single_process_index(cluster: None, corpus: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    local = ingest([corpus], tmp_path / "local", HashingEmbedder())
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "ray"), "--model", "hashing:384",
                 "--ray", "--ray-actors", "1", "--ray-batch-size", "128"]) == 0
    assert current_version(tmp_path / "ray") == local.manifest.index_version
    assert "published" in capsys.readouterr().out
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "ray"), "--ray", "--ray-actors", "0"]) == 2


def test_ingest_without_ray_never_imports_ray() -> None:
    code = ("import sys; from grounded.cli import main; import index.build, service.app; "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.slow
def test_ray_path_with_the_real_model_publishes_the_single_process_index_version(
        cluster: None, seed_corpus: Path, real_embedder: Embedder, tmp_path: Path) -> None:
    local = ingest([seed_corpus], tmp_path / "local", real_embedder)
    report = ray_ingest([seed_corpus], tmp_path / "ray", model=None, options=RayOptions(actors=2, batch_size=64))
    assert report.manifest.sentence_vectors == local.manifest.sentence_vectors == POOLED
    assert report.manifest.index_version == local.manifest.index_version
