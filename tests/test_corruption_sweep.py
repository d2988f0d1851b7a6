"""A reduced corruption sweep for CI (the full one is ``python -m bench.faults.reliability --only corruption``).

Beyond tests/test_store.py (one flip, one truncation, one deletion per file): many random flips and
several truncations of every file, the sweep's own ability to notice a loader that skips checksums,
damaged files whose manifest was re-signed (only the parsers can refuse those), and disk faults at
the last step of a publish.
"""

from __future__ import annotations

import errno
import os
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.common.corpus import write_corpus
from bench.faults.corruption import SweepConfig, damaged_variants, run_corruption_sweep, swept_files
from bench.faults.fuzz import write_resigned_copy
from index import unsharded as loading
from index.build import ingest
from index.errors import IndexCorruptedError, PublishError
from index.layout import current_version
from index.load import load_index
from ingest.embedding import HashingEmbedder


def test_every_flip_and_truncation_of_every_file_is_refused_before_parsing(tmp_path: Path) -> None:
    result = run_corruption_sweep(SweepConfig(workdir=tmp_path, documents=3, flips_per_file=10, seed=1))
    assert result.problems == ()
    assert result.passed
    files = result.figures["cases_per_file"]
    assert len(files) == 13  # CURRENT, manifest, 3 jsonl, 2 npy, dense.faiss, 5 bm25 files
    assert all(count >= 10 + 3 for count in files.values())  # flips, truncations, one appended byte
    assert result.faults == sum(files.values())
    assert set(result.figures["detected_by"]) <= {"checksum", "manifest parse", "CURRENT"}


def test_the_sweep_notices_a_loader_that_skips_its_checksums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loading, "_verify_files", lambda *args, **kwargs: None)
    result = run_corruption_sweep(SweepConfig(workdir=tmp_path, documents=3, flips_per_file=3, seed=2))
    assert not result.passed
    assert any("loaded" in problem or "parsed before verification" in problem for problem in result.problems)


def test_damaged_variants_cover_flips_truncations_and_an_extension() -> None:
    data = bytes(range(200))
    variants = list(damaged_variants(data, 50, 2, random.Random(3)))
    flips = [damaged for label, damaged in variants if label.startswith("flip")]
    assert len(flips) == 50
    assert all(len(damaged) == len(data) and sum(a != b for a, b in zip(damaged, data, strict=True)) == 1
               for damaged in flips)
    lengths = {len(damaged) for label, damaged in variants if label.startswith("truncate")}
    assert {0, 1, 100, 199} <= lengths and max(lengths) < len(data)
    assert [damaged for label, damaged in variants if label == "append"] == [data + b"\n"]


@pytest.fixture
def small_index(tmp_path: Path) -> Path:
    write_corpus(tmp_path / "corpus", 3, 4)
    index_dir = tmp_path / "index"
    ingest([tmp_path / "corpus"], index_dir, HashingEmbedder(384))
    return index_dir


def test_sweep_lists_current_manifest_and_every_data_file(small_index: Path) -> None:
    names = [path.name for path in swept_files(small_index)]
    assert names[:2] == ["CURRENT", "manifest.json"]
    assert {"chunks.jsonl", "dense.faiss", "sentence_vectors.npy", "vocab.index.json"} <= set(names)


@pytest.mark.parametrize("name", ["chunk_vectors.npy", "bm25/data.csc.index.npy"])
def test_a_resigned_npy_with_a_broken_header_is_refused_as_corruption(
    small_index: Path, tmp_path: Path, name: str,
) -> None:
    version_dir = small_index / "versions" / str(current_version(small_index))
    data = (version_dir / name).read_bytes()
    header_end = data.index(b"), }")
    # "(3, 384), }" -> "(3, 384 , }": an unclosed parenthesis in the header's Python literal.
    damaged = data[:header_end] + b" " + data[header_end + 1 :]
    copy = tmp_path / "resigned"
    write_resigned_copy(copy, version_dir, name, damaged)
    with pytest.raises(IndexCorruptedError, match=re.escape(name.split("/", maxsplit=1)[0])):
        load_index(copy)


def test_a_failing_fsync_after_the_current_switch_leaves_the_old_version_current(
    small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = current_version(small_index)
    (tmp_path / "corpus" / "news_00000.txt").write_text("A short new story about a harbour. It rained.\n",
                                                         encoding="utf-8")
    real_fsync = os.fsync
    root = os.path.realpath(small_index)

    def failing_fsync(descriptor: int) -> None:
        # The index root is fsynced only once in a publish: right after CURRENT was replaced.
        if os.readlink(f"/proc/self/fd/{descriptor}") == root:
            raise OSError(errno.EIO, "injected fsync failure")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(PublishError):
        ingest([tmp_path / "corpus"], small_index, HashingEmbedder(384))
    monkeypatch.undo()
    assert current_version(small_index) == old


@pytest.mark.parametrize(("name", "damage"), [
    # a document id far past num_docs: the query would index out of bounds
    ("bm25/indices.csc.index.npy", lambda data: data[:-4] + (10**6).to_bytes(4, "little")),
    # a dtype name numpy does not know: the query would raise TypeError
    ("bm25/params.index.json", lambda data: data.replace(b'"int32"', b'"intX2"')),
    # a column pointer that ends before the data does
    ("bm25/indptr.csc.index.npy", lambda data: data[:-8] + (1).to_bytes(8, "little")),
])
def test_resigned_bm25_arrays_that_break_the_matrix_are_refused_at_load(
    small_index: Path, tmp_path: Path, name: str, damage: Callable[[bytes], bytes],
) -> None:
    version_dir = small_index / "versions" / str(current_version(small_index))
    data = (version_dir / name).read_bytes()
    damaged = damage(data)
    assert damaged != data
    copy = tmp_path / "resigned"
    write_resigned_copy(copy, version_dir, name, damaged)
    with pytest.raises(IndexCorruptedError, match="bm25"):
        load_index(copy)
