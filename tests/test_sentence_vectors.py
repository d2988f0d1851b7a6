"""Sentence vectors pooled from their chunk's forward pass: format, determinism, reuse (hashing)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from grounded.cli import main
from index.build import ingest, segment_corpus
from index.layout import current_version
from index.load import load_index
from index.unsharded import read_manifest
from ingest.embedding import HashingEmbedder, OnRows, PooledVectors, Spans, text_key
from ingest.readers import read_corpus
from ingest.records import ChunkingParams
from ingest.sentence_vectors import (
    ENCODED,
    POOLED,
    embed_texts,
    sentence_keys,
    sentence_sources,
)

CHANGED = "001_3872696573969c47"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under the index folder (lock files aside) with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.endswith(".lock")}


@pytest.fixture
def corpus(tmp_path: Path, seed_corpus: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(seed_corpus, folder)
    return folder


def test_every_sentence_of_a_chunk_has_its_exact_range_in_that_chunk(seed_corpus: Path) -> None:
    segmented = segment_corpus(read_corpus([seed_corpus]).documents, ChunkingParams())
    sources = sentence_sources(segmented.chunks, segmented.sentences)
    assert sum(1 for found in sources if found) > 0.9 * len(sources)
    for sentence, found in zip(segmented.sentences, sources, strict=True):
        rows = [source.chunk_row for source in found]
        assert rows == sorted(rows)  # preference order: the first chunk in index order first
        for source in found:
            chunk = segmented.chunks[source.chunk_row]
            assert chunk.doc_id == sentence.doc_id
            assert chunk.text[source.start : source.end] == sentence.text


def test_a_sentence_in_no_chunk_is_keyed_by_its_text(seed_corpus: Path) -> None:
    segmented = segment_corpus(read_corpus([seed_corpus]).documents, ChunkingParams())
    keys = sentence_keys(segmented.chunks[1:], segmented.sentences, POOLED)
    lonely = [row for row, found in enumerate(sentence_sources(segmented.chunks[1:], segmented.sentences))
              if not found]
    assert lonely
    assert all(keys[row] == text_key(segmented.sentences[row].text) for row in lonely)
    assert sentence_keys(segmented.chunks, segmented.sentences, ENCODED) == [
        text_key(sentence.text) for sentence in segmented.sentences]


def test_pooled_hashing_vectors_equal_the_directly_encoded_ones(corpus: Path, tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "pooled", HashingEmbedder(), sentence_method=POOLED)
    ingest([corpus], tmp_path / "encoded", HashingEmbedder())
    pooled, encoded = load_index(tmp_path / "pooled"), load_index(tmp_path / "encoded")
    assert pooled.sentences == encoded.sentences
    np.testing.assert_allclose(pooled.sentence_vectors, encoded.sentence_vectors, atol=1e-6)
    np.testing.assert_array_equal(pooled.chunk_vectors, encoded.chunk_vectors)


def test_manifest_records_the_method_and_encoded_indexes_keep_their_bytes(corpus: Path,
                                                                           tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "pooled", HashingEmbedder(), sentence_method=POOLED)
    ingest([corpus], tmp_path / "encoded", HashingEmbedder())
    pooled, encoded = read_manifest(tmp_path / "pooled"), read_manifest(tmp_path / "encoded")
    assert pooled is not None and pooled.sentence_vectors == POOLED
    assert encoded is not None and encoded.sentence_vectors == ENCODED
    version = current_version(tmp_path / "encoded")
    raw = json.loads((tmp_path / "encoded" / "versions" / str(version) / "manifest.json").read_text())
    assert "sentence_vectors" not in raw  # the manifest of an encoded index is as before pooling
    assert pooled.index_version != encoded.index_version


def test_pooled_ingest_is_byte_identical_across_folders_and_on_reingest(corpus: Path,
                                                                         tmp_path: Path) -> None:
    first = ingest([corpus], tmp_path / "a", HashingEmbedder(), sentence_method=POOLED)
    ingest([corpus], tmp_path / "b", HashingEmbedder(), sentence_method=POOLED)
    version = current_version(tmp_path / "a")
    assert first.embedded_texts > 0 and version == current_version(tmp_path / "b")
    before = snapshot(tmp_path / "a")
    assert before == {name: data for name, data in snapshot(tmp_path / "b").items()}
    again = ingest([corpus], tmp_path / "a", HashingEmbedder(), sentence_method=POOLED)
    assert not again.published and again.embedded_texts == 0
    assert snapshot(tmp_path / "a") == before


def test_changing_one_document_repools_only_that_document(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder(), sentence_method=POOLED)
    before = load_index(index_dir)
    target = corpus / f"{CHANGED}.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("Norway mediated", "Norway brokered"),
                      encoding="utf-8")
    report = ingest([corpus], index_dir, HashingEmbedder(), sentence_method=POOLED)
    after = load_index(index_dir)
    own = (sum(1 for chunk in after.chunks if chunk.doc_id == CHANGED)
           + sum(1 for sentence in after.sentences if sentence.doc_id == CHANGED))
    assert report.published and 0 < report.embedded_texts <= own
    for old_rows, new_rows in ((before.sentences, after.sentences),):
        kept = [row for row, sentence in enumerate(old_rows) if sentence.doc_id != CHANGED]
        moved = [row for row, sentence in enumerate(new_rows) if sentence.doc_id != CHANGED]
        np.testing.assert_array_equal(before.sentence_vectors[kept], after.sentence_vectors[moved])
    fresh = tmp_path / "fresh"
    ingest([corpus], fresh, HashingEmbedder(), sentence_method=POOLED)
    assert current_version(fresh) == current_version(index_dir)


def test_switching_methods_never_reuses_the_other_methods_sentence_vectors(corpus: Path,
                                                                           tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder())
    switched = ingest([corpus], index_dir, HashingEmbedder(), sentence_method=POOLED)
    assert switched.published and switched.embedded_texts >= sum(
        1 for found in sentence_sources(load_index(index_dir).chunks, load_index(index_dir).sentences)
        if found)
    ingest([corpus], tmp_path / "fresh", HashingEmbedder(), sentence_method=POOLED)
    assert current_version(index_dir) == current_version(tmp_path / "fresh")


class TruncatingEmbedder(HashingEmbedder):
    """Pools nothing past the first 40 characters of a text, as a model window would cut it."""

    def __init__(self) -> None:
        super().__init__(64)
        self.direct: list[str] = []

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Spans], *,
                          batch_size: int = 64, on_rows: OnRows | None = None) -> PooledVectors:
        result = super().encode_with_spans(texts, spans, batch_size=batch_size, on_rows=on_rows)
        window = np.array([end <= 40 for text_spans in spans for _, end in text_spans])
        return PooledVectors(text_vectors=result.text_vectors,
                             span_vectors=np.where(window[:, None], result.span_vectors, 0.0).astype(np.float32),
                             span_pooled=result.span_pooled & window)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.direct.extend(texts)
        return super().encode(texts, batch_size=batch_size, progress=progress)


def test_sentences_out_of_every_window_are_encoded_on_their_own(seed_corpus: Path) -> None:
    segmented = segment_corpus(read_corpus([seed_corpus]).documents, ChunkingParams())
    embedder = TruncatingEmbedder()
    finished: list[int] = []
    embedded = embed_texts(embedder, segmented.chunks, segmented.sentences, {}, method=POOLED,
                           on_rows=finished.extend)
    reference = HashingEmbedder(64).encode([sentence.text for sentence in segmented.sentences])
    np.testing.assert_allclose(embedded.sentence_vectors, reference, atol=1e-6)
    assert embedder.direct  # the truncated ones went through encode
    assert set(finished) == set(range(len(segmented.chunks) + len(segmented.sentences)))


def test_ingest_json_stays_clean_with_progress(corpus: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(corpus), "--index", str(tmp_path / "i"), "--model", "hashing:384",
                 "--sentence-vectors", "pooled_from_chunk", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["chunks"] > 0
    manifest = read_manifest(tmp_path / "i")
    assert manifest is not None and manifest.sentence_vectors == POOLED


def test_a_slow_ingest_reports_lines_that_end_with_the_totals(corpus: Path, tmp_path: Path) -> None:
    import io
    import itertools

    from ingest.progress import LineProgress

    ticks = itertools.count(step=31.0)  # every reading of the clock is 31 s after the last
    stream = io.StringIO()
    segmented = segment_corpus(read_corpus([corpus]).documents, ChunkingParams())
    texts = len(segmented.chunks) + len(segmented.sentences)
    progress = LineProgress(stream, documents_total=len(segmented.documents), texts_total=texts,
                            clock=lambda: next(ticks))
    ingest([corpus], tmp_path / "i", HashingEmbedder(), sentence_method=POOLED, progress=progress)
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("ingest: ") for line in lines)
    assert lines[-1].startswith(f"ingest: {len(segmented.documents)}/{len(segmented.documents)} "
                                f"documents, {texts}/{texts} texts (100.0 %)")
