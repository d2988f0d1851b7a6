"""Ingest end to end with the hashing embedder: idempotence, updates, deletes, bad paths, kills."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grounded.cli import main
from index.build import ingest
from index.layout import current_version
from index.load import load_index
from ingest.embedding import HashingEmbedder
from tests.support.paths import REPO


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under the index folder (lock files aside) with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.endswith(".lock")}


@pytest.fixture
def corpus(tmp_path: Path, seed_corpus: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(seed_corpus, folder)
    return folder


def test_reingest_of_an_unchanged_corpus_embeds_nothing_and_is_byte_identical(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = ingest([corpus], index_dir, HashingEmbedder())
    assert first.published and first.embedded_texts > 0
    before = snapshot(index_dir)
    second = ingest([corpus], index_dir, HashingEmbedder())
    assert not second.published
    assert second.embedded_texts == 0
    assert snapshot(index_dir) == before


def test_same_input_gives_byte_identical_index_in_another_folder(corpus: Path, tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "a", HashingEmbedder())
    ingest([corpus], tmp_path / "b", HashingEmbedder())
    version = current_version(tmp_path / "a")
    assert version == current_version(tmp_path / "b")
    assert snapshot(tmp_path / "a" / "versions" / str(version)) == snapshot(tmp_path / "b" / "versions" / str(version))


def test_changing_one_file_reembeds_only_that_document(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder())
    before = load_index(index_dir)
    target = corpus / "001_3872696573969c47.txt"
    text = target.read_text(encoding="utf-8")
    assert "Norway mediated" in text
    target.write_text(text.replace("Norway mediated", "Norway brokered"), encoding="utf-8")
    report = ingest([corpus], index_dir, HashingEmbedder())
    after = load_index(index_dir)
    assert report.published
    changed_texts = ({c.text for c in after.chunks if c.doc_id == "001_3872696573969c47"}
                     | {s.text for s in after.sentences if s.doc_id == "001_3872696573969c47"})
    old_texts = {c.text for c in before.chunks} | {s.text for s in before.sentences}
    assert 0 < report.embedded_texts <= len(changed_texts - old_texts)
    unchanged = [c.chunk_id for c in before.chunks if c.doc_id != "001_3872696573969c47"]
    assert unchanged == [c.chunk_id for c in after.chunks if c.doc_id != "001_3872696573969c47"]


def test_deleting_one_file_removes_its_chunks_without_embedding(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder())
    (corpus / "002_60fc17c567a14149.txt").unlink()
    report = ingest([corpus], index_dir, HashingEmbedder())
    index = load_index(index_dir)
    assert "002_60fc17c567a14149" not in index.documents
    assert all(chunk.doc_id != "002_60fc17c567a14149" for chunk in index.chunks)
    assert report.embedded_texts == 0


def test_unreadable_corpus_path_exits_2_and_leaves_the_index_untouched(
        corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index_dir = tmp_path / "index"
    assert main(["ingest", str(corpus), "--index", str(index_dir), "--model", "hashing:384"]) == 0
    before = snapshot(index_dir)
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "missing"), "--index", str(index_dir), "--model", "hashing:384"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("grounded: error:") and "does not exist" in error and "\n" not in error
    assert snapshot(index_dir) == before


@pytest.mark.parametrize(("size", "overlap"), [("0", "0"), ("5", "0"), ("60", "60"), ("60", "-1")])
def test_impossible_chunk_sizes_exit_2_before_anything_is_read(
        corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], size: str, overlap: str) -> None:
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "i"), "--model", "hashing:384",
                 "--max-tokens", size, "--overlap-tokens", overlap]) == 2
    error = capsys.readouterr().err
    assert f"--max-tokens {size} --overlap-tokens {overlap}" in error and "\n" not in error.strip()
    assert not (tmp_path / "i").exists()


def test_ingest_prints_indexed_and_excluded_furniture(corpus: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "i"), "--model", "hashing:384"]) == 0
    out = capsys.readouterr().out
    assert out.count("indexed  ") == 5
    assert "furniture excluded" in out and "published" in out


def test_ask_prints_cited_passages(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index_dir = tmp_path / "i"
    assert main(["ingest", str(corpus), "--index", str(index_dir), "--model", "hashing:384"]) == 0
    capsys.readouterr()
    assert main(["ask", "sanctions relief offered by the United States", "--index", str(index_dir), "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "1. " in out and "score" in out


def test_a_kill_during_ingest_leaves_a_loadable_index(corpus: Path, tmp_path: Path) -> None:
    """SIGKILL `grounded ingest` at random moments; the index is always the old or the new version."""
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder())
    old_version = current_version(index_dir)
    (corpus / "extra.txt").write_text("An extra story about the harbour reopening on Monday.\n" * 40, encoding="utf-8")
    command = [sys.executable, "-m", "grounded", "ingest", str(corpus), "--index", str(index_dir),
               "--model", "hashing:384"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(7)
    versions_seen = set()
    for _ in range(6):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        index = load_index(index_dir)
        versions_seen.add(index.index_version)
        assert index.index_version in {old_version} | versions_seen
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    final = load_index(index_dir)
    assert "extra" in final.documents
    assert versions_seen <= {old_version, final.index_version}
